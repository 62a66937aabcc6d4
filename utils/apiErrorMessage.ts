import type { ReplyCodeValue } from '../types/api'
import type { ApiError } from './apiError'

/** A locale key and its parameters, translated where it is shown so a language switch applies. */
export interface LocalizedMessage {
  key: string
  params: Record<string, string | number>
}

const replyCodeNames: Record<ReplyCodeValue, string> = {
  20000: 'ok',
  40000: 'invalidInput',
  40100: 'unauthorized',
  40300: 'forbidden',
  40400: 'notFound',
  40900: 'conflict',
  42900: 'tooManyRequests',
  50000: 'internalError',
  50200: 'badGateway',
}

/**
 * Chooses the message for a failed call. `overrides` replaces the generic
 * message of a reply code with one that fits the step, for example 50200
 * on activation.
 */
export function describeApiError(
  error: ApiError,
  overrides: Partial<Record<ReplyCodeValue, string>> = {},
): LocalizedMessage {
  const params = {
    message: error.serverMessage ?? '',
    requestId: error.requestId ?? '-',
    status: error.status ?? '-',
  }
  if (error.kind === 'invalidUrl')
    return { key: `errors.url.${error.urlProblem ?? 'malformed'}`, params }
  if (error.kind !== 'reply' || error.code === null)
    return { key: `errors.${error.kind}`, params }
  const key = overrides[error.code] ?? `errors.reply.${replyCodeNames[error.code]}`
  return { key, params }
}
