import type { ServerApp } from './stack'

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT'
  /** Admin JWT sent as `Authorization: Bearer`. */
  token?: string
  /** Extra query parameters besides `action`. */
  query?: Record<string, string>
  /** Sends the action only in the body, as laf-client-sdk's invoke does. */
  actionInBody?: boolean
  /** Extra request headers, for example a forged x-real-ip. */
  headers?: Record<string, string>
}

export interface CallResult {
  status: number
  body: any
  /** The raw reply text, for scanning replies for secrets. */
  text: string
}

/** Every reply the server sent in this test process, by action. */
export const replyLog: { action: string, text: string }[] = []

/** Calls one action of the server function over HTTP and parses the JSON reply. */
export async function callAction(server: ServerApp | string, action: string, body?: unknown, options: CallOptions = {}): Promise<CallResult> {
  const url = new URL(typeof server === 'string' ? server : server.url)
  if (!options.actionInBody)
    url.searchParams.set('action', action)
  for (const [name, value] of Object.entries(options.query ?? {}))
    url.searchParams.set(name, value)
  const method = options.method ?? 'POST'
  const headers: Record<string, string> = { ...options.headers }
  if (options.token)
    headers.authorization = `Bearer ${options.token}`
  let payload: string | undefined
  if (method !== 'GET') {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(options.actionInBody ? { action, ...(body as object) } : (body ?? {}))
  }
  const response = await fetch(url, { method, headers, body: payload })
  const text = await response.text()
  replyLog.push({ action, text })
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  }
  catch {
    parsed = undefined
  }
  return { status: response.status, body: parsed, text }
}

/** Calls an action and throws unless it returned code 20000; returns `data`. */
export async function expectOk(server: ServerApp | string, action: string, body?: unknown, options?: CallOptions): Promise<any> {
  const result = await callAction(server, action, body, options)
  if (result.body?.code !== 20000)
    throw new Error(`${action} returned HTTP ${result.status}: ${result.text}`)
  return result.body.data
}
