import type { Sink } from '../helpers/sink'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import verify, { describeConfigProblem, heartBeat, readClientConfig, signNonce } from '../../laf-cloud/functions/__heartbeat_client_test'
import { signNonce as serverSignNonce } from '../../laf-cloud/functions/__heartbeat_server_test'
import { startSink } from '../helpers/sink'

const KEY = '0'.repeat(64)
const NONCE = '00112233445566778899aabbccddeeff'

/** The slice of Laf's ctx that the client function uses, with a response that records its status. */
function context(query: Record<string, unknown>, body: unknown = {}) {
  const response = {
    statusCode: 200,
    status(code: number) {
      this.statusCode = code
      return this
    },
  }
  return { query, body, response } as any
}

function setEnv(values: Record<string, string | undefined>) {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined)
      delete process.env[name]
    else
      process.env[name] = value
  }
}

afterEach(() => {
  setEnv({ HEARTBEAT_SERVER_URL: undefined, HEARTBEAT_SERVER_KEY: undefined })
})

describe('readClientConfig', () => {
  it('reads the environment', () => {
    expect(readClientConfig({ HEARTBEAT_SERVER_URL: ' https://s.example.com/h ', HEARTBEAT_SERVER_KEY: KEY })).toEqual({ serverUrl: 'https://s.example.com/h', serverKey: KEY })
  })

  it('falls back to heartBeatConfig', () => {
    expect(readClientConfig({})).toEqual({ serverUrl: '', serverKey: '' })
  })
})

describe('describeConfigProblem', () => {
  it.each([
    [{ serverUrl: '', serverKey: KEY }, 'HEARTBEAT_SERVER_URL is not set: set it (or heartBeatConfig.serverUrl) to the server function\'s URL'],
    [{ serverUrl: 'nope', serverKey: KEY }, 'HEARTBEAT_SERVER_URL is not a valid URL'],
    [{ serverUrl: 'ftp://s.example.com/', serverKey: KEY }, 'HEARTBEAT_SERVER_URL must use http or https'],
    [{ serverUrl: 'https://s.example.com/', serverKey: '' }, 'HEARTBEAT_SERVER_KEY is not set: set it (or heartBeatConfig.serverKey) to the key the console showed'],
    [{ serverUrl: 'https://s.example.com/', serverKey: 'abc' }, 'HEARTBEAT_SERVER_KEY is not a valid key: it must be the 64-character hex key the console showed'],
  ])('rejects %j', (config, problem) => {
    expect(describeConfigProblem(config)).toBe(problem)
  })

  it('accepts a full config', () => {
    expect(describeConfigProblem({ serverUrl: 'https://s.example.com/h', serverKey: KEY })).toBeNull()
  })
})

describe('client signNonce', () => {
  it('matches the known vector', () => {
    expect(signNonce(KEY, NONCE)).toBe('7c5f4f0adea746761830e284593dc90fe18f7f312c356d7b7cd1f629cb53ceb1')
  })

  it('matches the server', () => {
    const key = 'ab'.repeat(32)
    expect(signNonce(key, NONCE)).toBe(serverSignNonce(key, NONCE))
  })
})

describe('client verify action', () => {
  it('returns the signature', async () => {
    setEnv({ HEARTBEAT_SERVER_KEY: KEY })
    const ctx = context({ action: 'verify', nonce: NONCE })
    expect(await verify(ctx)).toEqual({ code: 20000, data: { signature: signNonce(KEY, NONCE) } })
    expect(ctx.response.statusCode).toBe(200)
  })

  it('accepts action in the body', async () => {
    setEnv({ HEARTBEAT_SERVER_KEY: KEY })
    expect(await verify(context({}, { action: 'verify', nonce: NONCE }))).toEqual({ code: 20000, data: { signature: signNonce(KEY, NONCE) } })
  })

  it('requires a key', async () => {
    const ctx = context({ action: 'verify', nonce: NONCE })
    expect(await verify(ctx)).toEqual({ code: 40300, message: 'HEARTBEAT_SERVER_KEY is not set: set it (or heartBeatConfig.serverKey) to the key the console showed' })
    expect(ctx.response.statusCode).toBe(403)
  })

  it('rejects a malformed key', async () => {
    setEnv({ HEARTBEAT_SERVER_KEY: 'short' })
    const ctx = context({ action: 'verify', nonce: NONCE })
    expect((await verify(ctx)).code).toBe(40300)
    expect(ctx.response.statusCode).toBe(403)
  })

  it.each([undefined, '', 'abc', 'zz'.repeat(16), 'a'.repeat(15), 'a'.repeat(257), { $ne: '' }, ['a'.repeat(32)]])('rejects nonce %j', async (nonce) => {
    setEnv({ HEARTBEAT_SERVER_KEY: KEY })
    const ctx = context({ action: 'verify', nonce })
    expect(await verify(ctx)).toEqual({ code: 40000, message: 'nonce must be a hex string of 16 to 256 characters' })
    expect(ctx.response.statusCode).toBe(400)
  })

  it.each([undefined, 'receive', 'getKey'])('rejects action %j', async (action) => {
    setEnv({ HEARTBEAT_SERVER_KEY: KEY })
    const ctx = context({ action, nonce: NONCE })
    expect(await verify(ctx)).toEqual({ code: 40000, message: 'unknown action: this function only answers action=verify' })
    expect(ctx.response.statusCode).toBe(400)
  })

  it('never returns the key', async () => {
    setEnv({ HEARTBEAT_SERVER_KEY: KEY })
    const reply = await verify(context({ action: 'verify', nonce: NONCE }))
    expect(JSON.stringify(reply)).not.toContain(KEY)
  })
})

describe('heartBeat', () => {
  let sink: Sink

  beforeAll(async () => {
    sink = await startSink()
    sink.behave('/ok', { kind: 'reply', status: 200, body: '{"code":20000,"data":{"state":2,"paused":false}}', headers: { 'content-type': 'application/json' } })
    sink.behave('/paused', { kind: 'reply', status: 200, body: '{"code":20000,"data":{"state":2,"paused":true}}', headers: { 'content-type': 'application/json' } })
    sink.behave('/rejected', { kind: 'reply', status: 401, body: '{"code":40100,"message":"unknown key"}', headers: { 'content-type': 'application/json' } })
    sink.behave('/html', { kind: 'reply', status: 404, body: '<html>' })
  })

  afterAll(async () => {
    await sink.close()
  })

  it('posts the key in the body', async () => {
    setEnv({ HEARTBEAT_SERVER_URL: `${sink.url}/ok?app=1`, HEARTBEAT_SERVER_KEY: KEY })
    expect(await heartBeat()).toEqual({ ok: true, status: 200, code: 20000, message: 'accepted (state 2)' })
    const [request] = sink.requestsTo('/ok')
    expect(request.method).toBe('POST')
    expect(request.query).toEqual({ app: '1', action: 'receive' })
    expect(JSON.parse(request.body)).toEqual({ key: KEY })
    expect(request.url).not.toContain(KEY)
  })

  it('reports a paused client', async () => {
    setEnv({ HEARTBEAT_SERVER_URL: `${sink.url}/paused`, HEARTBEAT_SERVER_KEY: KEY })
    expect((await heartBeat()).message).toBe('accepted (state 2, paused on the server)')
  })

  it('reports a rejection', async () => {
    setEnv({ HEARTBEAT_SERVER_URL: `${sink.url}/rejected`, HEARTBEAT_SERVER_KEY: KEY })
    expect(await heartBeat()).toEqual({ ok: false, status: 401, code: 40100, message: 'the server rejected the heartbeat (HTTP 401, code 40100): unknown key' })
  })

  it('reports a non-JSON reply', async () => {
    setEnv({ HEARTBEAT_SERVER_URL: `${sink.url}/html`, HEARTBEAT_SERVER_KEY: KEY })
    expect(await heartBeat()).toEqual({ ok: false, status: 404, code: null, message: 'the server returned HTTP 404 without a JSON reply: check HEARTBEAT_SERVER_URL' })
  })

  it('reports a refused connection', async () => {
    const closed = await startSink()
    const url = closed.url
    await closed.close()
    setEnv({ HEARTBEAT_SERVER_URL: `${url}/h`, HEARTBEAT_SERVER_KEY: KEY })
    const outcome = await heartBeat()
    expect(outcome).toEqual({ ok: false, status: 0, code: null, message: `could not reach ${new URL(url).host}: connection refused (ECONNREFUSED)` })
  })

  it('reports missing config', async () => {
    expect(await heartBeat()).toEqual({
      ok: false,
      status: 0,
      code: null,
      message: 'HEARTBEAT_SERVER_URL is not set: set it (or heartBeatConfig.serverUrl) to the server function\'s URL',
    })
  })
})
