import type { ClientRecord } from '../../types/api'
import type { SettingsForm } from '../../utils/settingsRules'
import { describe, expect, it } from 'vitest'
import { readSettings, validateInput } from '../../laf-cloud/functions/__heartbeat_server_test'
import { sendUrlExamples } from '../../utils/sendUrlTemplates'
import { changedSettings, validateCount, validateSendUrl, validateSettings } from '../../utils/settingsRules'

const record: Pick<ClientRecord, 'errorMax' | 'noticeMax' | 'sendUrl'> = { errorMax: 3, noticeMax: 3, sendUrl: '' }

function form(fields: Partial<SettingsForm> = {}): SettingsForm {
  return { errorMax: 3, noticeMax: 3, sendUrl: '', ...fields }
}

/** Returns whether the server function accepts an update payload, with private URLs allowed as in the local stack. */
function serverAccepts(payload: Record<string, unknown>): boolean {
  const settings = readSettings({ HEARTBEAT_ALLOW_PRIVATE_URLS: 'true' })
  try {
    validateInput('update', { id: 'c1', key: 'k', payload }, settings)
    return true
  }
  catch {
    return false
  }
}

describe('validateCount', () => {
  it.each([1, 50, 100])('accepts errorMax %i', (value) => {
    expect(validateCount('errorMax', value)).toBeNull()
  })

  it.each([0, 101, 2.5, -1, '3'])('rejects errorMax %j', (value) => {
    expect(validateCount('errorMax', value)).toEqual({ key: 'settings.rules.integerRange', params: { min: 1, max: 100 } })
  })

  it('accepts noticeMax zero', () => {
    expect(validateCount('noticeMax', 0)).toBeNull()
  })

  it('requires a value', () => {
    expect(validateCount('noticeMax', null)).toEqual({ key: 'settings.rules.required', params: { min: 0, max: 100 } })
  })
})

describe('validateSendUrl', () => {
  it('accepts an empty URL', () => {
    expect(validateSendUrl('  ')).toBeNull()
  })

  it.each(sendUrlExamples.map(example => example.template))('accepts example %s', (template) => {
    expect(validateSendUrl(template)).toBeNull()
  })

  it.each([
    ['not a url', 'settings.rules.urlMalformed'],
    ['ftp://example.com/x', 'settings.rules.urlProtocol'],
    ['https://user:pass@example.com/x', 'settings.rules.urlCredentials'],
    [`https://example.com/${'a'.repeat(2048)}`, 'settings.rules.urlTooLong'],
  ])('rejects %s', (url, key) => {
    expect(validateSendUrl(url)?.key).toBe(key)
  })
})

describe('settings rules and server', () => {
  it.each([
    { errorMax: 1 },
    { errorMax: 100 },
    { errorMax: 0 },
    { errorMax: 101 },
    { errorMax: 1.5 },
    { noticeMax: 0 },
    { noticeMax: 100 },
    { noticeMax: -1 },
    { noticeMax: 101 },
    { sendUrl: '' },
    { sendUrl: 'http://127.0.0.1:9/sink?status={status}' },
    { sendUrl: 'https://api.day.app/KEY/{title}/{message}' },
    { sendUrl: 'ftp://example.com/x' },
    { sendUrl: 'not a url' },
    { sendUrl: 'https://user:pass@example.com/x' },
  ])('agree on %j', (payload) => {
    const problems = validateSettings(form(payload))
    expect(Object.keys(problems).length === 0).toBe(serverAccepts(payload))
  })
})

describe('changedSettings', () => {
  it('returns nothing when unchanged', () => {
    expect(changedSettings(record, form())).toEqual({})
  })

  it('returns only changed fields', () => {
    expect(changedSettings(record, form({ errorMax: 5, sendUrl: ' https://example.com/x ' }))).toEqual({ errorMax: 5, sendUrl: 'https://example.com/x' })
  })

  it('skips empty counts', () => {
    expect(changedSettings(record, form({ noticeMax: null }))).toEqual({})
  })
})
