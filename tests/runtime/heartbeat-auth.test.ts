import type { CallOptions } from '../helpers/api'
import type { TestClient } from '../helpers/clients'
import type { ServerApp, Stack } from '../helpers/stack'
import { scryptSync } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callAction, expectOk, replyLog } from '../helpers/api'
import { fetchRecord, registerClient } from '../helpers/clients'
import { ADMIN_PASSWORD, FAST_SERVER_ENV, removeTempDirs, SERVER_SECRET, startServerApp, startStack } from '../helpers/stack'

const WRONG_KEY = 'f'.repeat(64)
const UNKNOWN_KEY = 'unknown key: check HEARTBEAT_SERVER_KEY in the client function'
const NO_KEY = 'key is required (or an admin token)'
const WRONG_OWNER = 'key does not match this client'
const NO_ADMIN = 'admin token is missing, invalid or expired: log in again'
const BAD_ADMIN = 'admin token is invalid or expired: log in again, or send the client key'

function signToken(payload: Record<string, unknown>, secret = SERVER_SECRET): string {
  return jwt.sign(payload, secret)
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600

/** The fingerprint that the server's real admin tokens carry; read from a login's token, because only the server's database stores its salt. */
let fingerprint = ''

function fingerprintOf(token: string): string {
  return (jwt.decode(token) as { fp: string }).fp
}

/** Admin-looking tokens that must all fail: each breaks one rule. */
const BAD_TOKENS: [string, () => string][] = [
  ['wrong secret', () => signToken({ sub: 'heartbeat-admin', fp: fingerprint, exp: inAnHour() }, 'not-the-server-secret')],
  ['expired', () => signToken({ sub: 'heartbeat-admin', fp: fingerprint, exp: Math.floor(Date.now() / 1000) - 10 })],
  ['unsalted fingerprint', () => signToken({ sub: 'heartbeat-admin', fp: scryptSync(ADMIN_PASSWORD, 'laf-heartbeat-admin-token', 16).toString('hex'), exp: inAnHour() })],
  ['other subject', () => signToken({ sub: 'someone', fp: fingerprint, exp: inAnHour() })],
  ['no expiry', () => signToken({ sub: 'heartbeat-admin', fp: fingerprint })],
  ['unsigned', () => jwt.sign({ sub: 'heartbeat-admin', fp: fingerprint, exp: inAnHour() }, '', { algorithm: 'none' })],
  ['garbage', () => 'not.a.jwt'],
]

describe('unauthorised calls', () => {
  let stack: Stack
  let live: TestClient
  let registered: { id: string, key: string, clientUrl: string }
  let token: string

  /** Every client as the admin list returns it: the state that a rejected call must leave untouched. */
  async function snapshot(): Promise<unknown> {
    return (await expectOk(stack.server, 'list', { pageSize: 100 }, { token })).items
  }

  async function expectRejected(action: string, body: unknown, expected: { status: number, code: number, message: string }, options?: CallOptions) {
    const before = await snapshot()
    const reply = await callAction(stack.server, action, body, options)
    expect(reply.status).toBe(expected.status)
    expect(reply.body).toEqual({ code: expected.code, message: expected.message })
    expect(await snapshot()).toEqual(before)
  }

  beforeAll(async () => {
    stack = await startStack()
    live = await registerClient(stack, 'live', { sendUrl: 'http://127.0.0.1:9/push' })
    const signup = await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=registered` })
    registered = { id: signup.client.id, key: signup.key, clientUrl: signup.client.clientUrl }
    token = (await expectOk(stack.server, 'login', { password: ADMIN_PASSWORD })).token
    fingerprint = fingerprintOf(token)
  })

  afterAll(async () => {
    await stack.close()
    removeTempDirs()
  })

  const ownerActions = [
    ['toggle', {}],
    ['update', { payload: { errorMax: 9 } }],
    ['remove', {}],
  ] as const

  it.each(ownerActions)('%s without key', async (action, extra) => {
    await expectRejected(action, { id: live.id, ...extra }, { status: 401, code: 40100, message: NO_KEY })
  })

  it.each(ownerActions)('%s with wrong key', async (action, extra) => {
    await expectRejected(action, { id: live.id, key: WRONG_KEY, ...extra }, { status: 401, code: 40100, message: WRONG_OWNER })
  })

  it.each(ownerActions)('%s with another client key', async (action, extra) => {
    await expectRejected(action, { id: live.id, key: registered.key, ...extra }, { status: 401, code: 40100, message: WRONG_OWNER })
  })

  it.each(ownerActions)('%s with operator key', async (action, extra) => {
    await expectRejected(action, { id: live.id, key: { $ne: '' }, ...extra }, { status: 400, code: 40000, message: 'key must be a string' })
  })

  it.each(ownerActions)('%s with operator id', async (action, extra) => {
    await expectRejected(action, { id: { $ne: '' }, key: live.key, ...extra }, { status: 400, code: 40000, message: 'id must be a string' })
  })

  it.each(ownerActions)('%s with unknown id', async (action, extra) => {
    await expectRejected(action, { id: '0123456789abcdef01234567', key: live.key, ...extra }, { status: 404, code: 40400, message: 'no client with this id' })
  })

  it.each(ownerActions.flatMap(([action, extra]) => BAD_TOKENS.map(([name, make]) => [action, extra, name, make] as const)))(
    '%s with token %s',
    async (action, extra, _name, make) => {
      await expectRejected(action, { id: live.id, ...extra }, { status: 401, code: 40100, message: BAD_ADMIN }, { token: make() })
    },
  )

  it('active without key', async () => {
    await expectRejected('active', { id: registered.id }, { status: 401, code: 40100, message: 'key is required' })
  })

  it('active with wrong key', async () => {
    await expectRejected('active', { id: registered.id, key: WRONG_KEY }, { status: 401, code: 40100, message: WRONG_OWNER })
  })

  it('active ignores admin token', async () => {
    await expectRejected('active', { id: registered.id }, { status: 401, code: 40100, message: 'key is required' }, { token })
  })

  it('active with operator key', async () => {
    await expectRejected('active', { id: registered.id, key: { $ne: '' } }, { status: 400, code: 40000, message: 'key must be a string' })
  })

  it('receive without key', async () => {
    await expectRejected('receive', {}, { status: 401, code: 40100, message: 'key is required' })
  })

  it.each([WRONG_KEY, 'short', 'G'.repeat(64)])('receive with key %s', async (key) => {
    await expectRejected('receive', { key }, { status: 401, code: 40100, message: UNKNOWN_KEY })
  })

  it('receive with operator key', async () => {
    await expectRejected('receive', { key: { $ne: '' } }, { status: 400, code: 40000, message: 'key must be a string' })
  })

  it('receive GET with operator key', async () => {
    await expectRejected('receive', undefined, { status: 400, code: 40000, message: 'key must be a string' }, { method: 'GET', query: { 'key[$ne]': '' } })
  })

  it('receive GET accepts key', async () => {
    const reply = await callAction(stack.server, 'receive', undefined, { method: 'GET', query: { key: live.key } })
    expect(reply.body).toEqual({ code: 20000, data: { state: 2, paused: false } })
  })

  it('receive for registered client', async () => {
    await expectRejected('receive', { key: registered.key }, { status: 403, code: 40300, message: 'client is not activated: activate it in the console first' })
  })

  it('toggle before activation', async () => {
    await expectRejected('toggle', { id: registered.id, key: registered.key }, { status: 403, code: 40300, message: 'client is not activated: activate it before pausing or resuming' })
  })

  it('list without token', async () => {
    await expectRejected('list', {}, { status: 401, code: 40100, message: NO_ADMIN })
  })

  it.each(BAD_TOKENS)('list with token %s', async (_name, make) => {
    await expectRejected('list', {}, { status: 401, code: 40100, message: NO_ADMIN }, { token: make() })
  })

  it('login with wrong password', async () => {
    await expectRejected('login', { password: 'not the password' }, { status: 401, code: 40100, message: 'wrong password' })
  })

  it('list with a NUL in q', async () => {
    await expectRejected('list', { q: 'a\u0000b' }, { status: 400, code: 40000, message: 'q must not contain control characters' }, { token })
  })

  it('unknown names forge no log line', async () => {
    const forged = 'INFO [0] heartbeat from forged-client'
    await expectRejected(`x\n${forged}`, {}, { status: 400, code: 40000, message: `unknown action "x\\n${forged}": use one of getInfo, fetch, signup, active, toggle, update, remove, receive, login, list` })
    await expectRejected('receive', { [`a\n${forged}`]: 1 }, { status: 400, code: 40000, message: `unknown field "a\\n${forged}"` })
    const lines = stack.server.logs.filter(line => line.includes('heartbeat from forged'))
    expect(lines).toHaveLength(2)
    for (const line of lines)
      expect(line).not.toMatch(/[\r\n]/)
  })

  it('login with operator password', async () => {
    await expectRejected('login', { password: { $ne: '' } }, { status: 400, code: 40000, message: 'password must be a string' })
  })

  it('fetch with wrong key', async () => {
    expect(await expectOk(stack.server, 'fetch', { clientUrl: live.clientUrl, key: WRONG_KEY })).toEqual({ registered: true, state: 2 })
    expect(await expectOk(stack.server, 'fetch', { clientUrl: live.clientUrl, key: registered.key })).toEqual({ registered: true, state: 2 })
  })

  it('fetch with operator fields', async () => {
    await expectRejected('fetch', { clientUrl: { $ne: '' } }, { status: 400, code: 40000, message: 'clientUrl must be a string' })
    await expectRejected('fetch', { clientUrl: live.clientUrl, key: { $ne: '' } }, { status: 400, code: 40000, message: 'key must be a string' })
  })

  it('signup twice conflicts', async () => {
    await expectRejected('signup', { clientUrl: live.clientUrl }, { status: 409, code: 40900, message: 'clientUrl is already registered' })
  })

  it('signup when full', async () => {
    stack.server.env.HEARTBEAT_MAX_CLIENTS = '2'
    try {
      await expectRejected('signup', { clientUrl: `${stack.clientUrl}?c=third` }, { status: 409, code: 40900, message: 'this server accepts at most 2 clients' })
    }
    finally {
      stack.server.env.HEARTBEAT_MAX_CLIENTS = FAST_SERVER_ENV.HEARTBEAT_MAX_CLIENTS
    }
  })

  it('unknown action is rejected', async () => {
    await expectRejected('drop', {}, {
      status: 400,
      code: 40000,
      message: 'unknown action drop: use one of getInfo, fetch, signup, active, toggle, update, remove, receive, login, list',
    })
  })

  it('gET of a POST action', async () => {
    await expectRejected('remove', undefined, { status: 400, code: 40000, message: 'action remove requires POST' }, { method: 'GET', query: { id: live.id, key: live.key } })
  })

  it('action in the body works', async () => {
    const reply = await callAction(stack.server, 'getInfo', {}, { actionInBody: true })
    expect(reply.body.data).toMatchObject({ name: 'Laf x Heartbeat', count: 2, active: 1, max: 50, lateAfterSeconds: 1, adminEnabled: true })
  })

  it('invalid setting fails closed', async () => {
    stack.server.env.HEARTBEAT_LATE_AFTER_SECONDS = 'soon'
    try {
      const reply = await callAction(stack.server, 'receive', { key: live.key })
      expect(reply.status).toBe(500)
      expect(reply.body).toEqual({ code: 50000, message: 'internal error', requestId: expect.any(String) })
      expect(stack.server.logs.some(line => line.includes(reply.body.requestId) && line.includes('invalid setting: HEARTBEAT_LATE_AFTER_SECONDS must be an integer from 1 to 86400, got "soon"'))).toBe(true)
    }
    finally {
      stack.server.env.HEARTBEAT_LATE_AFTER_SECONDS = FAST_SERVER_ENV.HEARTBEAT_LATE_AFTER_SECONDS
    }
  })

  it('admin manages any client', async () => {
    const { items, total } = await expectOk(stack.server, 'list', { q: '?c=LIVE' }, { token })
    expect(total).toBe(1)
    expect(items[0].id).toBe(live.id)
    expect((await expectOk(stack.server, 'list', { state: 0 }, { token })).items.map((item: { id: string }) => item.id)).toEqual([registered.id])
    expect((await expectOk(stack.server, 'list', { q: '.*' }, { token })).total).toBe(0)
    expect(await expectOk(stack.server, 'toggle', { id: live.id }, { token })).toMatchObject({ paused: true })
    expect(await expectOk(stack.server, 'update', { id: live.id, payload: { noticeMax: 0 } }, { token })).toMatchObject({ paused: true, noticeMax: 0 })
    // The push URL may carry the owner's push token, so admins see only its origin.
    expect(items[0].sendUrl).toBe('http://127.0.0.1:9/…')
    expect((await expectOk(stack.server, 'toggle', { id: live.id, paused: true }, { token })).sendUrl).toBe('http://127.0.0.1:9/…')
    expect((await fetchRecord(stack.server, live)).sendUrl).toBe('http://127.0.0.1:9/push')
    expect((await callAction(stack.server, 'remove', { id: registered.id }, { token })).body).toEqual({ code: 20000 })
    expect((await expectOk(stack.server, 'list', {}, { token })).total).toBe(1)
  })

  it('list pages newest first', async () => {
    const first = await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=page-1` })
    const second = await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=page-2` })
    const page1 = await expectOk(stack.server, 'list', { page: 1, pageSize: 2 }, { token })
    const page2 = await expectOk(stack.server, 'list', { page: 2, pageSize: 2 }, { token })
    expect(page1).toMatchObject({ total: 3, page: 1, pageSize: 2 })
    expect(page1.items.map((item: { id: string }) => item.id)).toEqual([second.client.id, first.client.id])
    expect(page2.items.map((item: { id: string }) => item.id)).toEqual([live.id])
  })

  it('no reply leaks a key', () => {
    const keys = [live.key, registered.key]
    expect(replyLog.length).toBeGreaterThan(50)
    for (const entry of replyLog) {
      if (entry.action === 'signup')
        continue
      for (const key of keys)
        expect(entry.text.includes(key), `${entry.action} reply contains a key`).toBe(false)
    }
  })

  it('log lines carry one request id', () => {
    const line = stack.server.logs.find(entry => entry.includes(`heartbeat from ${live.id}`))!
    expect(line.match(/\[[0-9a-f]{8}-[0-9a-f-]{27}\]/g)).toHaveLength(1)
  })

  it('function logs leak no key', () => {
    // The runtime's access log prints request URLs, so only the function's own lines are checked; keys belong in POST bodies.
    const logs = stack.server.logs.filter(line => line.includes('[__heartbeat_server_')).join('\n')
    expect(logs).toContain('heartbeat from')
    expect(logs).not.toContain(live.key)
    expect(logs).not.toContain(registered.key)
    expect(logs).not.toContain(ADMIN_PASSWORD)
    expect(logs).not.toContain(token)
  })
})

describe('admin login limits', () => {
  let server: ServerApp

  beforeAll(async () => {
    server = await startServerApp()
  })

  afterAll(async () => {
    await server.app.close()
    removeTempDirs()
  })

  it('limits failed logins', async () => {
    for (let attempt = 0; attempt < 5; attempt++)
      expect((await callAction(server, 'login', { password: 'guess' })).body.code).toBe(40100)
    const limited = await callAction(server, 'login', { password: ADMIN_PASSWORD })
    expect(limited.status).toBe(429)
    expect(limited.body.code).toBe(42900)
    expect(limited.body.message).toMatch(/^too many failed logins, try again in \d+ s$/)
  })
})

describe('login limit across addresses', () => {
  let server: ServerApp

  beforeAll(async () => {
    server = await startServerApp()
  })

  afterAll(async () => {
    await server.app.close()
    removeTempDirs()
  })

  it('caps failed logins from forged addresses', async () => {
    for (let attempt = 0; attempt < 30; attempt++) {
      const reply = await callAction(server, 'login', { password: 'guess' }, { headers: { 'x-real-ip': `198.51.100.${attempt}` } })
      expect(reply.body.code).toBe(40100)
    }
    const limited = await callAction(server, 'login', { password: ADMIN_PASSWORD }, { headers: { 'x-real-ip': '203.0.113.7' } })
    expect(limited.status).toBe(429)
    expect(limited.body.code).toBe(42900)
    expect(limited.body.message).toMatch(/^too many failed logins on this server, try again in \d+ s$/)
  })
})

describe('admin tokens', () => {
  let first: ServerApp
  let second: ServerApp

  beforeAll(async () => {
    first = await startServerApp({ ...FAST_SERVER_ENV })
    second = await startServerApp({ ...FAST_SERVER_ENV })
  })

  afterAll(async () => {
    await Promise.all([first.app.close(), second.app.close()])
    removeTempDirs()
  })

  it('salt differs per server', async () => {
    const one = (await expectOk(first, 'login', { password: ADMIN_PASSWORD })).token
    const again = (await expectOk(first, 'login', { password: ADMIN_PASSWORD })).token
    const other = (await expectOk(second, 'login', { password: ADMIN_PASSWORD })).token
    expect(fingerprintOf(again)).toBe(fingerprintOf(one))
    expect(fingerprintOf(other)).not.toBe(fingerprintOf(one))
    expect(fingerprintOf(one)).not.toBe(scryptSync(ADMIN_PASSWORD, 'laf-heartbeat-admin-token', 16).toString('hex'))
  })

  it('password change revokes tokens', async () => {
    const token = (await expectOk(first, 'login', { password: ADMIN_PASSWORD })).token
    expect((await expectOk(first, 'list', {}, { token })).total).toBe(0)
    first.env.HEARTBEAT_ADMIN_PASSWORD = 'a new admin password'
    try {
      const reply = await callAction(first, 'list', {}, { token })
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual({ code: 40100, message: NO_ADMIN })
      const renewed = (await expectOk(first, 'login', { password: 'a new admin password' })).token
      expect((await expectOk(first, 'list', {}, { token: renewed })).total).toBe(0)
    }
    finally {
      first.env.HEARTBEAT_ADMIN_PASSWORD = ADMIN_PASSWORD
    }
  })
})

describe('admin disabled', () => {
  let server: ServerApp

  beforeAll(async () => {
    const { HEARTBEAT_ADMIN_PASSWORD: _password, ...env } = FAST_SERVER_ENV
    server = await startServerApp(env)
  })

  afterAll(async () => {
    await server.app.close()
    removeTempDirs()
  })

  it('rejects login', async () => {
    const reply = await callAction(server, 'login', { password: ADMIN_PASSWORD })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual({ code: 40300, message: 'admin login is disabled: set HEARTBEAT_ADMIN_PASSWORD on the server to enable it' })
  })

  it('rejects list', async () => {
    const forged = signToken({ sub: 'heartbeat-admin', fp: 'f'.repeat(32), exp: inAnHour() })
    const reply = await callAction(server, 'list', {}, { token: forged })
    expect(reply.status).toBe(403)
    expect(reply.body.code).toBe(40300)
  })

  it('reports admin off', async () => {
    expect((await expectOk(server, 'getInfo', undefined, { method: 'GET' })).adminEnabled).toBe(false)
  })
})
