import type { ActionName, Settings } from '../../laf-cloud/functions/__heartbeat_server_test'
import { describe, expect, it } from 'vitest'
import { ACTION_NAMES, readAction, readInput, readSettings, ReplyError, showText, validateInput } from '../../laf-cloud/functions/__heartbeat_server_test'

const settings: Settings = readSettings({})
const KEY = 'a'.repeat(64)
const ID = '0123456789abcdef01234567'

/** A valid body for each action, with every optional string field filled. */
const VALID_BODIES: Record<ActionName, Record<string, any>> = {
  getInfo: {},
  fetch: { clientUrl: 'https://example.com/client', key: KEY },
  signup: { clientUrl: 'https://example.com/client' },
  active: { id: ID, key: KEY },
  toggle: { id: ID, key: KEY, paused: true },
  update: { id: ID, key: KEY, payload: { errorMax: 3, noticeMax: 3, sendUrl: 'https://push.example.com/send?text={title}' } },
  remove: { id: ID, key: KEY },
  receive: { key: KEY },
  login: { password: 'correct horse' },
  list: { page: 1, pageSize: 20, state: 2, q: 'example' },
}

/** Every string field, as a path into the body. */
const STRING_FIELDS: [ActionName, string][] = [
  ['fetch', 'clientUrl'],
  ['fetch', 'key'],
  ['signup', 'clientUrl'],
  ['active', 'id'],
  ['active', 'key'],
  ['toggle', 'id'],
  ['toggle', 'key'],
  ['update', 'id'],
  ['update', 'key'],
  ['update', 'payload.sendUrl'],
  ['remove', 'id'],
  ['remove', 'key'],
  ['receive', 'key'],
  ['login', 'password'],
  ['list', 'q'],
]

function withField(body: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const copy = structuredClone(body)
  const parts = path.split('.')
  let target = copy
  for (const part of parts.slice(0, -1))
    target = target[part]
  target[parts.at(-1)!] = value
  return copy
}

function rejection(run: () => unknown): { code: number, message: string } {
  try {
    run()
  }
  catch (error) {
    if (error instanceof ReplyError)
      return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('the input was accepted')
}

function rejectionOf(action: ActionName, body: unknown, custom: Settings = settings) {
  return rejection(() => validateInput(action, body, custom))
}

describe('validateInput', () => {
  it.each(ACTION_NAMES)('accepts valid %s body', (action) => {
    expect(() => validateInput(action, VALID_BODIES[action], settings)).not.toThrow()
  })

  it('covers every action', () => {
    expect(Object.keys(VALID_BODIES).sort()).toEqual([...ACTION_NAMES].sort())
  })

  it.each(STRING_FIELDS)('rejects operator in %s %s', (action, path) => {
    const body = withField(VALID_BODIES[action], path, { $ne: '' })
    expect(rejectionOf(action, body)).toEqual({ code: 40000, message: `${path} must be a string` })
  })

  it.each(STRING_FIELDS)('rejects number in %s %s', (action, path) => {
    const body = withField(VALID_BODIES[action], path, 42)
    expect(rejectionOf(action, body)).toEqual({ code: 40000, message: `${path} must be a string` })
  })

  it.each(STRING_FIELDS)('rejects null in %s %s', (action, path) => {
    const body = withField(VALID_BODIES[action], path, null)
    expect(rejectionOf(action, body)).toEqual({ code: 40000, message: `${path} must be a string` })
  })

  it.each(ACTION_NAMES)('rejects unknown field in %s', (action) => {
    const body = { ...VALID_BODIES[action], foo: 1 }
    expect(rejectionOf(action, body)).toEqual({ code: 40000, message: 'unknown field foo' })
  })

  it('rejects inherited property names', () => {
    expect(rejectionOf('signup', { clientUrl: 'https://example.com/', constructor: 1 })).toEqual({ code: 40000, message: 'unknown field constructor' })
    expect(rejectionOf('signup', JSON.parse('{"clientUrl":"https://example.com/","__proto__":{"x":1}}'))).toEqual({ code: 40000, message: 'unknown field __proto__' })
  })

  it('allows action field', () => {
    expect(validateInput('signup', { action: 'signup', clientUrl: 'https://example.com/c' }, settings)).toEqual({ clientUrl: 'https://example.com/c' })
  })

  it.each([
    ['fetch', 'clientUrl'],
    ['signup', 'clientUrl'],
    ['active', 'id'],
    ['toggle', 'id'],
    ['update', 'id'],
    ['update', 'payload'],
    ['remove', 'id'],
    ['login', 'password'],
  ] as [ActionName, string][])('requires %s %s', (action, field) => {
    const body = { ...VALID_BODIES[action] }
    delete body[field]
    expect(rejectionOf(action, body)).toEqual({ code: 40000, message: `${field} is required` })
  })

  it.each([null, [], 'text', 5])('rejects body %j', (body) => {
    expect(rejectionOf('signup', body)).toEqual({ code: 40000, message: 'request body must be a JSON object' })
  })
})

describe('clientUrl rule', () => {
  it.each([
    ['', 'clientUrl must not be empty'],
    ['example.com/client', 'clientUrl must be a valid http or https URL'],
    ['ftp://example.com/client', 'clientUrl must use http or https'],
    ['https://me:secret@example.com/client', 'clientUrl must not contain credentials (user:password@)'],
    ['https://example.com/client#x', 'clientUrl must not contain a fragment (#...)'],
    ['http://localhost:8000/client', 'clientUrl must not point at localhost (localhost)'],
    ['http://10.0.0.8/client', 'clientUrl must not point at 10.0.0.8 (private address)'],
    ['http://[fd00::1]/client', 'clientUrl must not point at fd00::1 (private address)'],
    [`https://example.com/${'x'.repeat(2040)}`, 'clientUrl must be at most 2048 characters'],
  ])('rejects %s', (clientUrl, message) => {
    expect(rejectionOf('signup', { clientUrl })).toEqual({ code: 40000, message })
  })

  it('normalizes the URL', () => {
    expect(validateInput('signup', { clientUrl: 'HTTPS://Example.COM/client' }, settings).clientUrl).toBe('https://example.com/client')
    expect(validateInput('signup', { clientUrl: 'https://example.com' }, settings).clientUrl).toBe('https://example.com/')
  })

  it('allows private when configured', () => {
    const open = readSettings({ HEARTBEAT_ALLOW_PRIVATE_URLS: 'true' })
    expect(validateInput('signup', { clientUrl: 'http://127.0.0.1:3000/c' }, open).clientUrl).toBe('http://127.0.0.1:3000/c')
  })

  it('keeps the query string', () => {
    expect(validateInput('fetch', { clientUrl: 'https://example.com/c?x=1' }, settings).clientUrl).toBe('https://example.com/c?x=1')
  })
})

describe('id rule', () => {
  it.each(['', 'a b', 'a/b', '$where', 'x'.repeat(65), '../etc'])('rejects id %j', (id) => {
    expect(rejectionOf('remove', { id, key: KEY })).toEqual({ code: 40000, message: 'id must be a client id (1 to 64 letters, digits, - or _)' })
  })

  it('accepts store ids', () => {
    expect(validateInput('remove', { id: 'Ab-9_z', key: KEY }, settings).id).toBe('Ab-9_z')
  })
})

describe('key rule', () => {
  it('accepts any string up to 256', () => {
    expect(validateInput('receive', { key: 'wrong' }, settings).key).toBe('wrong')
  })

  it('rejects long keys', () => {
    expect(rejectionOf('receive', { key: 'k'.repeat(257) })).toEqual({ code: 40000, message: 'key must be at most 256 characters' })
  })
})

describe('update payload rules', () => {
  const update = (payload: unknown) => rejectionOf('update', { id: ID, key: KEY, payload })

  it.each([0, 101, 2.5, '3', null, true])('rejects errorMax %j', (errorMax) => {
    expect(update({ errorMax })).toEqual({ code: 40000, message: 'payload.errorMax must be an integer from 1 to 100' })
  })

  it.each([-1, 101, 1.5, '0', null])('rejects noticeMax %j', (noticeMax) => {
    expect(update({ noticeMax })).toEqual({ code: 40000, message: 'payload.noticeMax must be an integer from 0 to 100' })
  })

  it('accepts range edges', () => {
    const input = validateInput('update', { id: ID, payload: { errorMax: 1, noticeMax: 0 } }, settings)
    expect(input.payload).toEqual({ errorMax: 1, noticeMax: 0 })
    expect(validateInput('update', { id: ID, payload: { errorMax: 100, noticeMax: 100 } }, settings).payload).toEqual({ errorMax: 100, noticeMax: 100 })
  })

  it('rejects empty payload', () => {
    expect(update({})).toEqual({ code: 40000, message: 'payload must contain at least one of errorMax, noticeMax, sendUrl' })
  })

  it('rejects unknown payload field', () => {
    expect(update({ paused: false })).toEqual({ code: 40000, message: 'unknown field payload.paused' })
    expect(update({ errorCount: 0 })).toEqual({ code: 40000, message: 'unknown field payload.errorCount' })
  })

  it.each([[], 'x', null])('rejects payload %j', (payload) => {
    expect(update(payload)).toEqual({ code: 40000, message: 'payload must be an object' })
  })

  it('allows empty sendUrl', () => {
    expect(validateInput('update', { id: ID, payload: { sendUrl: '' } }, settings).payload).toEqual({ sendUrl: '' })
  })

  it('keeps template placeholders', () => {
    const sendUrl = 'https://sctapi.ftqq.com/SENDKEY.send?title={title}&desp={message}'
    expect(validateInput('update', { id: ID, payload: { sendUrl } }, settings).payload.sendUrl).toBe(sendUrl)
  })

  it.each([
    ['ftp://push.example.com/', 'payload.sendUrl must use http or https'],
    ['https://token:x@push.example.com/', 'payload.sendUrl must not contain credentials (user:password@)'],
    ['http://127.0.0.1:9000/hook', 'payload.sendUrl must not point at 127.0.0.1 (loopback address)'],
    ['http://169.254.169.254/{status}', 'payload.sendUrl must not point at 169.254.169.254 (cloud metadata address)'],
    ['{clientUrl}', 'payload.sendUrl must be a valid http or https URL'],
  ])('rejects sendUrl %s', (sendUrl, message) => {
    expect(update({ sendUrl })).toEqual({ code: 40000, message })
  })
})

describe('list rules', () => {
  it.each([
    [{ page: 0 }, 'page must be an integer from 1 to 1000000'],
    [{ page: '1' }, 'page must be an integer from 1 to 1000000'],
    [{ pageSize: 0 }, 'pageSize must be an integer from 1 to 100'],
    [{ pageSize: 101 }, 'pageSize must be an integer from 1 to 100'],
    [{ state: 3 }, 'state must be 0, 1 or 2'],
    [{ state: '2' }, 'state must be 0, 1 or 2'],
    [{ q: 'q'.repeat(201) }, 'q must be at most 200 characters'],
    [{ q: 'a\u0000b' }, 'q must not contain control characters'],
    [{ q: 'a\nb' }, 'q must not contain control characters'],
    [{ q: 'a\u009Fb' }, 'q must not contain control characters'],
  ])('rejects %j', (body, message) => {
    expect(rejectionOf('list', body)).toEqual({ code: 40000, message })
  })
})

describe('showText', () => {
  it('keeps plain names', () => {
    expect(showText('payload.errorMax')).toBe('payload.errorMax')
    expect(showText('::1')).toBe('::1')
  })

  it('escapes line breaks', () => {
    expect(showText('a\nINFO forged')).toBe('"a\\nINFO forged"')
    expect(showText('a\r\u0000b')).toBe('"a\\r\\u0000b"')
  })

  it('escapes other unprintables', () => {
    expect(showText('a\u0085b\u2028c\u202Ed\u007F')).toBe('"a\\u0085b\\u2028c\\u202ed\\u007f"')
  })

  it('cuts long text', () => {
    expect(showText('x'.repeat(80))).toBe('x'.repeat(50))
    expect(showText(`${'y'.repeat(49)}\n\n`)).toBe(`"${'y'.repeat(49)}\\n"`)
  })
})

describe('unknown names in messages', () => {
  it('escapes a field name', () => {
    expect(rejectionOf('receive', { 'a\nINFO heartbeat from x': 1 })).toEqual({ code: 40000, message: 'unknown field "a\\nINFO heartbeat from x"' })
  })

  it('escapes an action name', () => {
    expect(rejection(() => readAction({ action: 'x\ny' }, {})).message).toMatch(/^unknown action "x\\ny": use one of /)
  })

  it('escapes a query parameter', () => {
    expect(rejection(() => readInput('signup', 'POST', { 'k\r\n': '1' }, {})).message).toBe('unknown query parameter "k\\r\\n": send fields in the JSON body')
  })
})

describe('toggle rules', () => {
  it('rejects non-boolean paused', () => {
    expect(rejectionOf('toggle', { id: ID, key: KEY, paused: 'yes' })).toEqual({ code: 40000, message: 'paused must be true or false' })
  })
})

describe('readAction', () => {
  it('reads query or body', () => {
    expect(readAction({ action: 'getInfo' }, undefined)).toBe('getInfo')
    expect(readAction({}, { action: 'signup' })).toBe('signup')
    expect(readAction({ action: 'list' }, { action: 'list' })).toBe('list')
  })

  it('rejects unknown action', () => {
    expect(rejection(() => readAction({ action: 'drop' }, {}))).toEqual({
      code: 40000,
      message: 'unknown action drop: use one of getInfo, fetch, signup, active, toggle, update, remove, receive, login, list',
    })
  })

  it('rejects inherited names', () => {
    expect(rejection(() => readAction({ action: 'toString' }, {})).message).toMatch(/^unknown action toString: use one of /)
  })

  it('requires an action', () => {
    expect(rejection(() => readAction({}, {}))).toEqual({
      code: 40000,
      message: 'action is required: one of getInfo, fetch, signup, active, toggle, update, remove, receive, login, list',
    })
  })

  it('rejects operator action', () => {
    expect(rejection(() => readAction({}, { action: { $ne: '' } }))).toEqual({ code: 40000, message: 'action must be a string' })
    expect(rejection(() => readAction({ action: ['a', 'b'] }, {}))).toEqual({ code: 40000, message: 'action must be a string' })
  })

  it('rejects differing actions', () => {
    expect(rejection(() => readAction({ action: 'receive' }, { action: 'remove' }))).toEqual({ code: 40000, message: 'action in the query and action in the body differ' })
  })
})

describe('readInput', () => {
  it.each(['fetch', 'signup', 'active', 'toggle', 'update', 'remove', 'login', 'list'] as ActionName[])('requires POST for %s', (action) => {
    expect(rejection(() => readInput(action, 'GET', { action }, undefined))).toEqual({ code: 40000, message: `action ${action} requires POST` })
  })

  it('allows GET for getInfo and receive', () => {
    expect(readInput('getInfo', 'GET', { action: 'getInfo' }, undefined)).toEqual({ action: 'getInfo' })
    expect(readInput('receive', 'GET', { action: 'receive', key: KEY }, undefined)).toEqual({ action: 'receive', key: KEY })
  })

  it('rejects other methods', () => {
    expect(rejection(() => readInput('getInfo', 'PUT', {}, {}))).toEqual({ code: 40000, message: 'action getInfo requires GET or POST' })
  })

  it('rejects query fields on POST', () => {
    expect(rejection(() => readInput('receive', 'POST', { action: 'receive', key: KEY }, {}))).toEqual({
      code: 40000,
      message: 'unknown query parameter key: send fields in the JSON body',
    })
  })

  it('uses the body on POST', () => {
    expect(readInput('signup', 'POST', { action: 'signup' }, { clientUrl: 'x' })).toEqual({ clientUrl: 'x' })
    expect(readInput('getInfo', 'POST', {}, undefined)).toEqual({})
  })
})
