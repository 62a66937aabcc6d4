/** A Laf cloud function URL split the way laf-client-sdk's `invoke` needs it. */
export interface FunctionUrl {
  /** Normalized URL: origin plus path, without a trailing slash. */
  url: string
  /** Origin plus the path before the function name, as `new Cloud({ baseUrl })` expects. */
  baseUrl: string
  functionName: string
}

export type UrlProblem = 'empty' | 'tooLong' | 'malformed' | 'protocol' | 'query' | 'noFunction'

export type ParsedFunctionUrl =
  | { ok: true, value: FunctionUrl }
  | { ok: false, problem: UrlProblem }

/** Longest URL the server accepts for clientUrl and sendUrl. */
export const maxUrlLength = 2048

/**
 * Parses a function URL such as `https://appid.laf.run/my-function`.
 * Rejects anything but http and https, and URLs with a query or fragment,
 * because a function URL has neither and a pasted one usually means a typo.
 */
export function parseFunctionUrl(input: string): ParsedFunctionUrl {
  const text = input.trim()
  if (text === '')
    return { ok: false, problem: 'empty' }
  if (text.length > maxUrlLength)
    return { ok: false, problem: 'tooLong' }
  let parsed: URL
  try {
    parsed = new URL(text)
  }
  catch {
    return { ok: false, problem: 'malformed' }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { ok: false, problem: 'protocol' }
  if (parsed.search !== '' || parsed.hash !== '' || text.includes('?') || text.includes('#'))
    return { ok: false, problem: 'query' }
  const path = parsed.pathname.replace(/\/+$/, '')
  const slash = path.lastIndexOf('/')
  const functionName = path.slice(slash + 1)
  if (functionName === '')
    return { ok: false, problem: 'noFunction' }
  const baseUrl = parsed.origin + path.slice(0, slash)
  return { ok: true, value: { url: `${baseUrl}/${functionName}`, baseUrl, functionName } }
}
