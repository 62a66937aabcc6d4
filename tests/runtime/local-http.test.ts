import type { TestApp } from './local-helpers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, removeTempDirs, startTestApp } from './local-helpers'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let test: TestApp

beforeAll(async () => {
  test = await startTestApp()
})

afterAll(async () => {
  await test.app.close()
  removeTempDirs()
})

function url(name: string): string {
  return test.app.functionUrl(name)
}

describe('reply rules', () => {
  it('object becomes JSON', async () => {
    const response = await fetch(url('hello'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await response.json()).toEqual({ ok: 1 })
  })

  it('number becomes text', async () => {
    const response = await fetch(url('number'))
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('42')
  })

  it('string is sent as is', async () => {
    const response = await fetch(url('text'))
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('plain text')
  })

  it('undefined is an empty 200', async () => {
    const response = await fetch(url('empty'))
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })

  it('response sent by function stays', async () => {
    const response = await fetch(url('sent'))
    expect(response.status).toBe(201)
    expect(await response.text()).toBe('sent by the function')
  })

  it('main runs without default', async () => {
    const response = await fetch(url('post-only'), { method: 'POST' })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('posted')
  })
})

describe('errors', () => {
  it('unknown function is 404', async () => {
    const response = await fetch(url('no-such-function'))
    expect(response.status).toBe(404)
    expect(await response.text()).toBe('Function Not Found')
  })

  it('nested path is 404', async () => {
    const response = await fetch(`${url('hello')}/more`)
    expect(response.status).toBe(404)
    expect(await response.text()).toBe('Function Not Found')
  })

  it('method outside yaml is 405', async () => {
    const response = await fetch(url('post-only'))
    expect(response.status).toBe(405)
    expect(await response.text()).toBe('Method Not Allowed')
  })

  it('missing yaml allows PUT', async () => {
    const response = await fetch(url('hello'), { method: 'PUT' })
    expect(response.status).toBe(200)
  })

  it('thrown error is a bare 500', async () => {
    const response = await fetch(url('boom'))
    const requestId = response.headers.get('x-request-id')
    expect(response.status).toBe(500)
    expect(requestId).toMatch(uuid)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({ error: 'Internal Server Error', requestId })
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('boom.ts')
  })

  it('500 details go to the log', async () => {
    const response = await fetch(url('boom'))
    const requestId = response.headers.get('x-request-id')!
    const line = await test.logs.waitFor(new RegExp(`ERROR \\[test\\] \\[boom\\] \\[${requestId}\\] request failed`))
    expect(line).toContain('database password is hunter2')
    expect(line).toContain('boom.ts:')
  })

  it('malformed JSON is 400', async () => {
    const response = await fetch(url('echo'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' })
    expect(response.status).toBe(400)
    expect(await response.text()).toBe('Invalid JSON in request body')
  })

  it('body over 1 MB is 413', async () => {
    const response = await postJson(url('echo'), { text: 'x'.repeat(1024 * 1024) })
    expect(response.status).toBe(413)
    expect(await response.text()).toBe('Request body exceeds the limit of 1 MB')
  })
})

describe('function context', () => {
  it('carries request fields', async () => {
    const response = await postJson(`${url('echo')}?page=2`, { a: 1 }, { 'x-test': 'yes' })
    const requestId = response.headers.get('x-request-id')
    expect(requestId).toMatch(uuid)
    expect(await response.json()).toEqual({
      query: { page: '2' },
      body: { a: 1 },
      method: 'POST',
      header: 'yes',
      requestId,
      user: null,
      functionName: 'echo',
      hasRequest: true,
      hasResponse: true,
    })
  })

  it('parses urlencoded bodies', async () => {
    const response = await fetch(url('echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=laf&tags[]=a',
    })
    const data = await response.json()
    expect(data.body).toEqual({ name: 'laf', tags: ['a'] })
  })

  it('user comes from a valid JWT', async () => {
    const { token } = await test.app.invoke('token', { body: { sub: 'owner-1' } }) as { token: string }
    const response = await postJson(url('echo'), {}, { authorization: `Bearer ${token}` })
    const data = await response.json()
    expect(data.user.sub).toBe('owner-1')
    expect(typeof data.user.iat).toBe('number')
  })

  it('invalid JWT gives null user', async () => {
    const { token } = await test.app.invoke('token', { body: { sub: 'owner-1' } }) as { token: string }
    const tampered = `${token.slice(0, -2)}xx`
    const response = await postJson(url('echo'), {}, { authorization: `Bearer ${tampered}` })
    expect(response.status).toBe(200)
    expect((await response.json()).user).toBeNull()
  })

  it('parseToken rejects a forged token', async () => {
    const result = await test.app.invoke('token', { body: { sub: 'x' } }) as { parsed: { sub: string }, forged: unknown }
    expect(result.parsed.sub).toBe('x')
    expect(result.forged).toBeNull()
  })
})

describe('cors', () => {
  it('preflight allows any origin', async () => {
    const response = await fetch(url('echo'), {
      method: 'OPTIONS',
      headers: { 'origin': 'https://console.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type,authorization')
  })

  it('exposes the request id', async () => {
    const response = await fetch(url('hello'), { headers: { origin: 'https://console.example' } })
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id')
  })
})

describe('function console', () => {
  it('prefixes app, function and request', async () => {
    const result = await test.app.runTrigger('sweep') as { requestId: string, runs: number }
    const line = await test.logs.waitFor(new RegExp(`\\[${result.requestId}\\] sweep run`))
    expect(line).toBe(`INFO [test] [sweep] [${result.requestId}] sweep run ${result.runs}`)
  })
})

describe('access log', () => {
  it('logs every request by default', async () => {
    const response = await fetch(url('hello'))
    const requestId = response.headers.get('x-request-id')!
    const line = await test.logs.waitFor(new RegExp(`\\[${requestId}\\] GET /hello 200`))
    expect(line).toMatch(/^INFO \[test\] \[[0-9a-f-]+\] GET \/hello 200 [\d.]+ ms$/)
  })

  it('errors mode logs only failures', async () => {
    const quiet = await startTestApp({ accessLog: 'errors' })
    try {
      const ok = await fetch(quiet.app.functionUrl('hello'))
      const missing = await fetch(quiet.app.functionUrl('nothing-here'))
      await quiet.logs.waitFor(new RegExp(`\\[${missing.headers.get('x-request-id')}\\] GET /nothing-here 404`))
      await quiet.app.runTrigger('sweep')
      expect(quiet.logs.lines.filter(line => line.includes(ok.headers.get('x-request-id')!))).toEqual([])
      expect(quiet.logs.lines.filter(line => line.includes('trigger run finished'))).toEqual([])
    }
    finally {
      await quiet.app.close()
    }
  })

  it('rejects an unknown mode', async () => {
    await expect(startTestApp({ accessLog: 'none' as 'all' })).rejects.toThrow('accessLog must be \'all\' or \'errors\', got "none"')
  })
})
