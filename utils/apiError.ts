import type { Reply, ReplyCodeValue } from '../types/api'
import type { UrlProblem } from './functionUrl'
import { ReplyCode } from '../types/api'

/**
 * Kind of failure of a call: before sending (invalidUrl), on the way (network,
 * timeout), with a reply of another kind (notFound, protocol), with a reply
 * of the heartbeat protocol (reply), or by a fault in the console itself
 * (unexpected).
 */
export type ApiErrorKind = 'invalidUrl' | 'network' | 'timeout' | 'notFound' | 'protocol' | 'reply' | 'unexpected'

interface ApiErrorDetails {
  code?: ReplyCodeValue
  status?: number
  serverMessage?: string
  requestId?: string
  urlProblem?: UrlProblem
}

/** A failed call of the heartbeat server, with what the console needs to explain it. */
export class ApiError extends Error {
  readonly kind: ApiErrorKind
  readonly code: ReplyCodeValue | null
  readonly status: number | null
  readonly serverMessage: string | null
  readonly requestId: string | null
  readonly urlProblem: UrlProblem | null

  constructor(kind: ApiErrorKind, message: string, details: ApiErrorDetails = {}) {
    super(message)
    this.name = 'ApiError'
    this.kind = kind
    this.code = details.code ?? null
    this.status = details.status ?? null
    this.serverMessage = details.serverMessage ?? null
    this.requestId = details.requestId ?? null
    this.urlProblem = details.urlProblem ?? null
  }
}

const replyCodes = new Set<number>(Object.values(ReplyCode))

/** Returns whether a reply body follows the `{ code, message?, data? }` envelope. */
export function isReply(body: unknown): body is Reply {
  if (typeof body !== 'object' || body === null)
    return false
  const code = (body as { code?: unknown }).code
  return typeof code === 'number' && replyCodes.has(code)
}

function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Builds the error for a reply of the protocol whose code is not 20000. */
export function replyError(action: string, reply: Reply, status?: number): ApiError {
  const serverMessage = textOrUndefined(reply.message)
  return new ApiError('reply', `${action} failed with code ${reply.code}${serverMessage ? `: ${serverMessage}` : ''}`, {
    code: reply.code,
    status,
    serverMessage,
    requestId: textOrUndefined(reply.requestId),
  })
}

/** Returns the data of a successful reply, or throws the ApiError the body stands for. */
export function readReply<T>(action: string, body: unknown, status?: number): T {
  if (!isReply(body))
    throw new ApiError('protocol', `${action} returned a reply that is not of the heartbeat protocol`, { status })
  if (body.code !== ReplyCode.Ok)
    throw replyError(action, body, status)
  return body.data as T
}

interface AxiosLikeError {
  code?: string
  message?: string
  response?: { status: number, data: unknown }
}

function isAxiosLikeError(error: unknown): error is AxiosLikeError {
  return typeof error === 'object' && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true
}

/** Turns what axios (inside laf-client-sdk) rejected with into an ApiError. */
export function toApiError(action: string, error: unknown): ApiError {
  if (error instanceof ApiError)
    return error
  if (!isAxiosLikeError(error))
    return new ApiError('unexpected', `${action} failed: ${String(error)}`)
  const response = error.response
  if (response) {
    if (isReply(response.data))
      return replyError(action, response.data, response.status)
    if (response.status === 404)
      return new ApiError('notFound', `${action} failed: HTTP 404, no function at this URL`, { status: 404 })
    return new ApiError('protocol', `${action} failed: HTTP ${response.status} without a heartbeat reply`, { status: response.status })
  }
  // axios 0.21 marks its own timeout with ECONNABORTED and a "timeout of N ms exceeded" message.
  if (error.code === 'ECONNABORTED' || /timeout/i.test(error.message ?? ''))
    return new ApiError('timeout', `${action} timed out`)
  // Browsers hide why a request failed (refused, DNS, CORS), so axios reports "Network Error".
  return new ApiError('network', `${action} failed: ${error.message ?? 'network error'}`)
}
