import { describe, expect, it } from 'vitest'
import { maxUrlLength, parseFunctionUrl } from '../../utils/functionUrl'

describe('parseFunctionUrl', () => {
  it('splits origin and function name', () => {
    expect(parseFunctionUrl('http://127.0.0.1:8001/__heartbeat_server_test')).toEqual({
      ok: true,
      value: {
        url: 'http://127.0.0.1:8001/__heartbeat_server_test',
        baseUrl: 'http://127.0.0.1:8001',
        functionName: '__heartbeat_server_test',
      },
    })
  })

  it('keeps a path prefix in baseUrl', () => {
    const parsed = parseFunctionUrl('https://example.com/laf/app/heartbeat')
    expect(parsed).toEqual({
      ok: true,
      value: { url: 'https://example.com/laf/app/heartbeat', baseUrl: 'https://example.com/laf/app', functionName: 'heartbeat' },
    })
  })

  it('normalizes case, spaces and trailing slash', () => {
    const parsed = parseFunctionUrl('  HTTPS://AppID.Laf.Run/heartbeat//  ')
    expect(parsed).toEqual({
      ok: true,
      value: { url: 'https://appid.laf.run/heartbeat', baseUrl: 'https://appid.laf.run', functionName: 'heartbeat' },
    })
  })

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['appid.laf.run/heartbeat', 'malformed'],
    ['http://', 'malformed'],
    ['ftp://example.com/heartbeat', 'protocol'],
    ['javascript:alert(1)', 'protocol'],
    ['https://appid.laf.run/heartbeat?action=getInfo', 'query'],
    ['https://appid.laf.run/heartbeat#top', 'query'],
    ['https://appid.laf.run/heartbeat?', 'query'],
    ['https://appid.laf.run', 'noFunction'],
    ['https://appid.laf.run/', 'noFunction'],
    [`https://appid.laf.run/${'a'.repeat(maxUrlLength)}`, 'tooLong'],
  ])('rejects %j as %s', (input, problem) => {
    expect(parseFunctionUrl(input)).toEqual({ ok: false, problem })
  })
})
