import type { ClientRecord, UpdatePayload } from '../types/api'
import type { LocalizedMessage } from './apiErrorMessage'
import { maxUrlLength } from './functionUrl'
import { sendUrlPlaceholders } from './sendUrlTemplates'

/** Ranges the server accepts; the server checks them again and its 40000 message is shown too. */
export const settingsLimits = {
  errorMax: { min: 1, max: 100 },
  noticeMax: { min: 0, max: 100 },
} as const

export type CountField = keyof typeof settingsLimits
export type SettingsField = CountField | 'sendUrl'

export interface SettingsForm {
  errorMax: number | null
  noticeMax: number | null
  sendUrl: string
}

/** Returns why a count is rejected, or null when it is an integer in its range. */
export function validateCount(field: CountField, value: unknown): LocalizedMessage | null {
  const { min, max } = settingsLimits[field]
  const params = { min, max }
  if (value === null || value === undefined || value === '')
    return { key: 'settings.rules.required', params }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    return { key: 'settings.rules.integerRange', params }
  return null
}

/** Replaces each known placeholder with a sample value, as the server does before it checks a push URL. */
function fillPlaceholders(template: string): string {
  let filled = template
  for (const name of sendUrlPlaceholders)
    filled = filled.replaceAll(`{${name}}`, 'x')
  return filled
}

/**
 * Returns why a push URL is rejected, or null; an empty one is allowed and
 * turns notices off. Only the server can check whether it may reach the
 * host (it rejects private addresses unless its operator allows them), so
 * that rule shows up as its 40000 message.
 */
export function validateSendUrl(value: string): LocalizedMessage | null {
  const text = value.trim()
  if (text === '')
    return null
  if (text.length > maxUrlLength)
    return { key: 'settings.rules.urlTooLong', params: { max: maxUrlLength } }
  let parsed: URL
  try {
    parsed = new URL(fillPlaceholders(text))
  }
  catch {
    return { key: 'settings.rules.urlMalformed', params: {} }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { key: 'settings.rules.urlProtocol', params: {} }
  if (parsed.username !== '' || parsed.password !== '')
    return { key: 'settings.rules.urlCredentials', params: {} }
  return null
}

export function validateSettings(form: SettingsForm): Partial<Record<SettingsField, LocalizedMessage>> {
  const problems: Partial<Record<SettingsField, LocalizedMessage>> = {}
  const errorMax = validateCount('errorMax', form.errorMax)
  const noticeMax = validateCount('noticeMax', form.noticeMax)
  const sendUrl = validateSendUrl(form.sendUrl)
  if (errorMax)
    problems.errorMax = errorMax
  if (noticeMax)
    problems.noticeMax = noticeMax
  if (sendUrl)
    problems.sendUrl = sendUrl
  return problems
}

/** Returns the fields of a valid form that differ from the record, as the update payload. */
export function changedSettings(record: Pick<ClientRecord, SettingsField>, form: SettingsForm): UpdatePayload {
  const payload: UpdatePayload = {}
  if (form.errorMax !== null && form.errorMax !== record.errorMax)
    payload.errorMax = form.errorMax
  if (form.noticeMax !== null && form.noticeMax !== record.noticeMax)
    payload.noticeMax = form.noticeMax
  if (form.sendUrl.trim() !== record.sendUrl)
    payload.sendUrl = form.sendUrl.trim()
  return payload
}
