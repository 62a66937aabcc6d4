import type { Reply } from '../../types/api'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../../i18n/locales/en.json'
import zh from '../../i18n/locales/zh-CN.json'
import { ReplyCode } from '../../types/api'
import { ApiError, isReply, readReply, toApiError } from '../../utils/apiError'
import { describeApiError } from '../../utils/apiErrorMessage'

function createTranslator(locale: 'zh-CN' | 'en') {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zh, en } })
  return (error: ApiError, overrides = {}) => {
    const { key, params } = describeApiError(error, overrides)
    return i18n.global.t(key, params)
  }
}

function axiosError(fields: { code?: string, message: string, response?: { status: number, data: unknown } }) {
  return Object.assign(new Error(fields.message), { isAxiosError: true, code: fields.code, response: fields.response })
}

describe('isReply', () => {
  it.each([
    [{ code: 20000 }, true],
    [{ code: 40000, message: 'x' }, true],
    [{ code: 12345 }, false],
    [{ code: '20000' }, false],
    ['Function Not Found', false],
    [null, false],
  ])('judges %j as %s', (body, expected) => {
    expect(isReply(body)).toBe(expected)
  })
})

describe('readReply', () => {
  it('returns data of ok replies', () => {
    expect(readReply('getInfo', { code: 20000, data: { name: 'n' } })).toEqual({ name: 'n' })
  })

  it('throws reply errors with details', () => {
    const body: Reply = { code: ReplyCode.InternalError, message: 'internal error', requestId: 'req-1' }
    const error = (() => {
      try {
        readReply('getInfo', body, 500)
      }
      catch (caught) {
        return caught as ApiError
      }
    })()
    expect(error).toBeInstanceOf(ApiError)
    expect(error?.kind).toBe('reply')
    expect(error?.code).toBe(50000)
    expect(error?.requestId).toBe('req-1')
    expect(error?.message).toBe('getInfo failed with code 50000: internal error')
  })

  it('rejects bodies of other protocols', () => {
    expect(() => readReply('getInfo', '<html>')).toThrowError('getInfo returned a reply that is not of the heartbeat protocol')
  })
})

describe('toApiError', () => {
  it('maps protocol replies by code', () => {
    const error = toApiError('signup', axiosError({
      message: 'Request failed with status code 409',
      response: { status: 409, data: { code: 40900, message: 'clientUrl is already registered' } },
    }))
    expect(error.kind).toBe('reply')
    expect(error.code).toBe(40900)
    expect(error.status).toBe(409)
    expect(error.serverMessage).toBe('clientUrl is already registered')
  })

  it('maps a bare 404 to notFound', () => {
    const error = toApiError('getInfo', axiosError({ message: 'x', response: { status: 404, data: 'Function Not Found' } }))
    expect(error.kind).toBe('notFound')
    expect(error.status).toBe(404)
  })

  it('maps other bodies to protocol', () => {
    const error = toApiError('getInfo', axiosError({ message: 'x', response: { status: 502, data: '<html>bad gateway</html>' } }))
    expect(error.kind).toBe('protocol')
    expect(error.status).toBe(502)
  })

  it('maps axios timeouts to timeout', () => {
    const error = toApiError('getInfo', axiosError({ code: 'ECONNABORTED', message: 'timeout of 10ms exceeded' }))
    expect(error.kind).toBe('timeout')
  })

  it('maps responseless errors to network', () => {
    const error = toApiError('getInfo', axiosError({ message: 'Network Error' }))
    expect(error.kind).toBe('network')
    expect(error.message).toBe('getInfo failed: Network Error')
  })

  it('maps foreign errors to unexpected', () => {
    expect(toApiError('getInfo', new TypeError('x is undefined')).kind).toBe('unexpected')
  })

  it('keeps an ApiError as it is', () => {
    const original = new ApiError('timeout', 'getInfo timed out')
    expect(toApiError('getInfo', original)).toBe(original)
  })
})

describe('describeApiError', () => {
  const zhText = createTranslator('zh-CN')
  const enText = createTranslator('en')

  it('explains an invalid URL', () => {
    const error = new ApiError('invalidUrl', 'invalid', { urlProblem: 'protocol' })
    expect(zhText(error)).toBe('URL 必须以 http:// 或 https:// 开头。')
    expect(enText(error)).toBe('The URL must start with http:// or https://.')
  })

  it('explains a network failure', () => {
    const error = new ApiError('network', 'x')
    expect(enText(error)).toBe('Could not reach the server. Check that the URL is right, that the server is up, and that it allows cross-origin requests (CORS).')
  })

  it('explains a foreign reply', () => {
    const error = new ApiError('protocol', 'x', { status: 200 })
    expect(enText(error)).toBe('This URL does not look like a heartbeat server (HTTP 200). Check that it is the URL of a heartbeat server function.')
    expect(zhText(error)).toBe('这个 URL 看起来不是心跳服务器（HTTP 200）。请确认填写的是心跳服务器函数的 URL。')
  })

  it('shows the server message of 40000', () => {
    const error = new ApiError('reply', 'x', { code: 40000, serverMessage: 'payload.errorMax must be an integer from 1 to 100' })
    expect(enText(error)).toBe('Invalid input: payload.errorMax must be an integer from 1 to 100')
    expect(zhText(error)).toBe('输入无效：payload.errorMax must be an integer from 1 to 100')
  })

  it('shows only the request id of 50000', () => {
    const error = new ApiError('reply', 'x', { code: 50000, serverMessage: 'internal error', requestId: 'abc123' })
    expect(enText(error)).toBe('Internal server error. Try again later; if it keeps failing, give the server operator the request id abc123.')
  })

  it('uses an override for the step', () => {
    const error = new ApiError('reply', 'x', { code: 50200, serverMessage: 'could not reach clientUrl: connection refused' })
    expect(describeApiError(error, { 50200: 'client.activate.badGateway' }).key).toBe('client.activate.badGateway')
    expect(enText(error, { 50200: 'client.activate.badGateway' })).toContain('The server reports: could not reach clientUrl: connection refused.')
  })

  it('has a message for every code', () => {
    for (const code of Object.values(ReplyCode)) {
      const { key } = describeApiError(new ApiError('reply', 'x', { code }))
      expect(enText(new ApiError('reply', 'x', { code }))).not.toBe(key)
    }
  })
})
