import type { Sink } from '../helpers/sink'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FetchError, guardedLookup, safeGet } from '../../laf-cloud/functions/__heartbeat_server_test'
import { startSink } from '../helpers/sink'

let sink: Sink
const open = { timeoutMs: 2000, allowPrivate: true, maxBodyBytes: 1024 }

beforeAll(async () => {
  sink = await startSink()
  sink.behave('/json', { kind: 'reply', status: 200, body: '{"code":20000}' })
  sink.behave('/redirect-1', { kind: 'reply', status: 302, headers: { location: '/json' } })
  sink.behave('/chain-1', { kind: 'reply', status: 301, headers: { location: '/chain-2' } })
  sink.behave('/chain-2', { kind: 'reply', status: 307, headers: { location: '/chain-3' } })
  sink.behave('/chain-3', { kind: 'reply', status: 308, headers: { location: '/chain-4' } })
  sink.behave('/chain-4', { kind: 'reply', status: 302, headers: { location: '/json' } })
  sink.behave('/to-file', { kind: 'reply', status: 302, headers: { location: 'file:///etc/passwd' } })
  sink.behave('/to-credentials', { kind: 'reply', status: 302, headers: { location: 'http://user:pw@127.0.0.1/' } })
  sink.behave('/big', { kind: 'reply', status: 200, body: 'x'.repeat(5000) })
  sink.behave('/hang', { kind: 'hang' })
  sink.behave('/error', { kind: 'reply', status: 503, body: 'down' })
})

afterAll(async () => {
  await sink.close()
})

async function failure(url: string, options = open): Promise<string> {
  try {
    await safeGet(url, options)
  }
  catch (error) {
    if (error instanceof FetchError)
      return error.message
    throw error
  }
  throw new Error('safeGet succeeded')
}

describe('safeGet', () => {
  it('reads a body', async () => {
    expect(await safeGet(`${sink.url}/json`, open)).toEqual({ status: 200, body: '{"code":20000}' })
  })

  it('returns error statuses', async () => {
    expect(await safeGet(`${sink.url}/error`, open)).toEqual({ status: 503, body: 'down' })
  })

  it('skips the body when asked', async () => {
    expect(await safeGet(`${sink.url}/big`, { ...open, maxBodyBytes: 0 })).toEqual({ status: 200, body: '' })
  })

  it('follows a redirect', async () => {
    expect(await safeGet(`${sink.url}/redirect-1`, open)).toEqual({ status: 200, body: '{"code":20000}' })
  })

  it('rejects a fourth redirect', async () => {
    expect(await failure(`${sink.url}/chain-1`)).toBe('more than 3 redirects')
  })

  it('follows three redirects', async () => {
    expect((await safeGet(`${sink.url}/chain-2`, open)).status).toBe(200)
  })

  it('rechecks redirect scheme', async () => {
    expect(await failure(`${sink.url}/to-file`)).toBe('a redirect target must use http or https')
  })

  it('rechecks redirect credentials', async () => {
    expect(await failure(`${sink.url}/to-credentials`)).toBe('a redirect target must not contain credentials (user:password@)')
  })

  it('limits the body size', async () => {
    expect(await failure(`${sink.url}/big`)).toBe('response body larger than 1024 bytes')
  })

  it('times out a hanging server', async () => {
    expect(await failure(`${sink.url}/hang`, { ...open, timeoutMs: 300 })).toBe('timed out after 0.3 s')
  })

  it('blocks loopback unless allowed', async () => {
    expect(await failure(`${sink.url}/json`, { ...open, allowPrivate: false })).toBe('the URL must not point at 127.0.0.1 (loopback address)')
  })

  it('blocks localhost by name', async () => {
    const port = new URL(sink.url).port
    expect(await failure(`http://localhost:${port}/json`, { ...open, allowPrivate: false })).toBe('the URL must not point at localhost (localhost)')
  })

  it('reports refused connections', async () => {
    const closed = await startSink()
    const url = closed.url
    await closed.close()
    expect(await failure(`${url}/json`)).toBe('connection refused')
  })
})

function lookupError(all: boolean): Promise<Error | null> {
  return new Promise(resolve => guardedLookup('localhost', { all }, (error: Error | null) => resolve(error)))
}

describe('guardedLookup', () => {
  // localhost resolves through the hosts file, so this needs no DNS server.
  it.each([true, false])('rejects loopback answers (all=%s)', async (all) => {
    const error = await lookupError(all)
    expect(error).toBeInstanceOf(FetchError)
    expect(error?.message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1) \(loopback address\), which this server does not connect to$/)
  })
})
