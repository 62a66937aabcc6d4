import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { ClientRecord } from '../../types/api'
import { createServer } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createHeartbeatClient } from '../../composables/useHeartbeatApi'
import { ApiError } from '../../utils/apiError'

interface Received {
  method: string
  path: string
  contentType: string | undefined
  body: unknown
}

const info = { name: 'Laf x Heartbeat', version: '1.0.0', count: 2, active: 1, max: 10, lateAfterSeconds: 60, adminEnabled: false }
const record: ClientRecord = {
  id: 'c1',
  clientUrl: 'https://example.com/client',
  state: 1,
  paused: false,
  errorMax: 3,
  errorCount: 0,
  noticeMax: 3,
  noticeCount: 0,
  sendUrl: '',
  createdAt: 1,
  updatedAt: null,
  watchedSince: 1,
  lastNoticeAt: null,
  lastNoticeError: null,
  noticeFailures: 0,
}

/** Replies of the test server, by function name. */
const routes: Record<string, (body: any) => { status: number, body: unknown }> = {
  info: () => ({ status: 200, body: { code: 20000, data: info } }),
  record: () => ({ status: 200, body: { code: 20000, data: record } }),
  public: () => ({ status: 200, body: { code: 20000, data: { registered: true, state: 2 } } }),
  signup: () => ({ status: 200, body: { code: 20000, data: { client: record, key: 'k'.repeat(32) } } }),
  conflict: () => ({ status: 409, body: { code: 40900, message: 'clientUrl is already registered' } }),
  crash: () => ({ status: 500, body: { code: 50000, message: 'internal error', requestId: 'req-9' } }),
  foreign: () => ({ status: 200, body: '<html>hello</html>' }),
  badShape: () => ({ status: 200, body: { code: 20000, data: { hello: 'world' } } }),
}

let server: Server
let origin: string
const received: Received[] = []

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    request.on('data', chunk => text += chunk)
    request.on('end', () => resolve(text))
  })
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const text = await readBody(request)
  const path = new URL(request.url ?? '/', 'http://x').pathname
  received.push({ method: request.method ?? '', path, contentType: request.headers['content-type'], body: text ? JSON.parse(text) : null })
  const name = path.split('/').at(-1) ?? ''
  if (name === 'hang')
    return
  const route = routes[name]
  if (!route) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Function Not Found')
    return
  }
  const { status, body } = route(text ? JSON.parse(text) : null)
  const isText = typeof body === 'string'
  response.writeHead(status, { 'content-type': isText ? 'text/html' : 'application/json' })
  response.end(isText ? body : JSON.stringify(body))
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  }
  catch (error) {
    if (error instanceof ApiError)
      return error
    throw error
  }
  throw new Error('expected the call to fail')
}

beforeAll(async () => {
  server = createServer((request, response) => void handle(request, response))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

beforeEach(() => {
  received.length = 0
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
})

describe('createHeartbeatClient', () => {
  it('rejects an invalid URL before sending', () => {
    let caught: unknown
    try {
      createHeartbeatClient('ftp://127.0.0.1/info')
    }
    catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ApiError)
    expect((caught as ApiError).kind).toBe('invalidUrl')
    expect((caught as ApiError).urlProblem).toBe('protocol')
    expect(received).toEqual([])
  })

  it('posts the action as JSON', async () => {
    await createHeartbeatClient(`${origin}/prefix/record`).fetchClient('https://example.com/client', 'the-key')
    expect(received).toEqual([{
      method: 'POST',
      path: '/prefix/record',
      contentType: 'application/json',
      body: { action: 'fetch', clientUrl: 'https://example.com/client', key: 'the-key' },
    }])
  })

  it('omits a missing key', async () => {
    await createHeartbeatClient(`${origin}/public`).fetchClient('https://example.com/client')
    expect(received[0].body).toEqual({ action: 'fetch', clientUrl: 'https://example.com/client' })
  })

  it('sends the wanted pause state', async () => {
    await createHeartbeatClient(`${origin}/record`).setPaused('c1', 'the-key', true)
    expect(received[0].body).toEqual({ action: 'toggle', id: 'c1', key: 'the-key', paused: true })
  })

  it('sends update payloads nested', async () => {
    await createHeartbeatClient(`${origin}/record`).update('c1', 'the-key', { errorMax: 5 })
    expect(received[0].body).toEqual({ action: 'update', id: 'c1', key: 'the-key', payload: { errorMax: 5 } })
  })
})

describe('heartbeat client results', () => {
  it('returns info with latency', async () => {
    const result = await createHeartbeatClient(`${origin}/info`).getInfo()
    expect(result.info).toEqual(info)
    expect(Number.isInteger(result.latencyMs)).toBe(true)
    expect(result.latencyMs).toBeGreaterThanOrEqual(0)
  })

  it('tells records from public results', async () => {
    expect(await createHeartbeatClient(`${origin}/record`).fetchClient('https://example.com/client', 'k')).toEqual({ kind: 'record', record })
    expect(await createHeartbeatClient(`${origin}/public`).fetchClient('https://example.com/client')).toEqual({ kind: 'public', registered: true, state: 2 })
  })

  it('returns the signup key', async () => {
    const result = await createHeartbeatClient(`${origin}/signup`).signup('https://example.com/client')
    expect(result.key).toBe('k'.repeat(32))
    expect(result.client).toEqual(record)
  })
})

describe('heartbeat client failures', () => {
  it('maps a conflict reply', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/conflict`).signup('https://example.com/client'))
    expect(error.kind).toBe('reply')
    expect(error.code).toBe(40900)
    expect(error.status).toBe(409)
    expect(error.serverMessage).toBe('clientUrl is already registered')
  })

  it('keeps the request id of 500', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/crash`).getInfo())
    expect(error.code).toBe(50000)
    expect(error.requestId).toBe('req-9')
  })

  it('maps a missing function', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/nothing-here`).getInfo())
    expect(error.kind).toBe('notFound')
    expect(error.status).toBe(404)
  })

  it('maps a foreign 200 reply', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/foreign`).getInfo())
    expect(error.kind).toBe('protocol')
  })

  it('maps unexpected data shapes', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/badShape`).getInfo())
    expect(error.kind).toBe('protocol')
    expect(error.message).toBe('getInfo returned data of an unexpected shape')
  })

  it('maps a timeout', async () => {
    const error = await rejection(createHeartbeatClient(`${origin}/hang`, { timeoutMs: 50 }).getInfo())
    expect(error.kind).toBe('timeout')
    expect(error.message).toBe('getInfo timed out')
  })

  it('maps a closed port', async () => {
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const address = closed.address()
    const port = typeof address === 'object' && address ? address.port : 0
    await new Promise(resolve => closed.close(resolve))
    const error = await rejection(createHeartbeatClient(`http://127.0.0.1:${port}/info`).getInfo())
    expect(error.kind).toBe('network')
  })
})
