// Heartbeat client of Laf x Heartbeat: sends heartbeats to a heartbeat server
// and responds to the server's activation challenge. Deploy it under a random name
// (its URL is semi-secret), then add a cron trigger that calls `heartBeat()`
// at least once a minute.

import { createHmac } from 'node:crypto'

// Paste the two values the console shows, or set the app's environment
// variables HEARTBEAT_SERVER_URL and HEARTBEAT_SERVER_KEY, which win.
const heartBeatConfig = {
  serverUrl: '',
  serverKey: '',
}

const HEARTBEAT_TIMEOUT_MS = 10_000
const KEY_PATTERN = /^[0-9a-f]{64}$/
const NONCE_PATTERN = /^[0-9a-f]{16,256}$/i

export interface ClientConfig {
  serverUrl: string
  serverKey: string
}

/** Reads the server URL and key, environment first, then heartBeatConfig. */
export function readClientConfig(env: Record<string, string | undefined>): ClientConfig {
  return {
    serverUrl: (env.HEARTBEAT_SERVER_URL || heartBeatConfig.serverUrl).trim(),
    serverKey: (env.HEARTBEAT_SERVER_KEY || heartBeatConfig.serverKey).trim(),
  }
}

/** Returns what is wrong with the config for sending heartbeats, or null. */
export function describeConfigProblem(config: ClientConfig): string | null {
  if (config.serverUrl === '')
    return 'HEARTBEAT_SERVER_URL is not set: set it (or heartBeatConfig.serverUrl) to the server function\'s URL'
  let url: URL
  try {
    url = new URL(config.serverUrl)
  }
  catch {
    return 'HEARTBEAT_SERVER_URL is not a valid URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'HEARTBEAT_SERVER_URL must use http or https'
  return describeKeyProblem(config.serverKey)
}

function describeKeyProblem(key: string): string | null {
  if (key === '')
    return 'HEARTBEAT_SERVER_KEY is not set: set it (or heartBeatConfig.serverKey) to the key the console showed'
  if (!KEY_PATTERN.test(key))
    return 'HEARTBEAT_SERVER_KEY is not a valid key: it must be the 64-character hex key the console showed'
  return null
}

/**
 * Computes HMAC-SHA256 keyed with the key's text (its 64 hex characters as
 * UTF-8) over the nonce's text, in lowercase hex: the protocol's activation
 * signature.
 */
export function signNonce(key: string, nonce: string): string {
  return createHmac('sha256', key).update(nonce).digest('hex')
}

export interface HeartbeatOutcome {
  ok: boolean
  /** HTTP status of the server's reply, or 0 when none came. */
  status: number
  /** The server's reply code, or null when there was no JSON reply. */
  code: number | null
  message: string
}

/** Sends one heartbeat (the key in a POST body, never in the URL) and logs the outcome. Never throws. */
export async function heartBeat(): Promise<HeartbeatOutcome> {
  const outcome = await sendHeartbeat(readClientConfig(process.env))
  if (outcome.ok)
    console.log(`heartbeat sent: ${outcome.message}`)
  else
    console.error(`heartbeat failed: ${outcome.message}`)
  return outcome
}

async function sendHeartbeat(config: ClientConfig): Promise<HeartbeatOutcome> {
  const problem = describeConfigProblem(config)
  if (problem)
    return { ok: false, status: 0, code: null, message: problem }
  const url = new URL(config.serverUrl)
  url.searchParams.set('action', 'receive')
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: config.serverKey }),
      signal: AbortSignal.timeout(HEARTBEAT_TIMEOUT_MS),
    })
  }
  catch (error) {
    return { ok: false, status: 0, code: null, message: `could not reach ${url.host}: ${describeFetchError(error)}` }
  }
  return readOutcome(response)
}

async function readOutcome(response: Response): Promise<HeartbeatOutcome> {
  let reply: any
  try {
    reply = await response.json()
  }
  catch {
    return { ok: false, status: response.status, code: null, message: `the server returned HTTP ${response.status} without a JSON reply: check HEARTBEAT_SERVER_URL` }
  }
  const code = typeof reply?.code === 'number' ? reply.code : null
  if (response.ok && code === 20000) {
    const paused = reply.data?.paused === true ? ', paused on the server' : ''
    return { ok: true, status: response.status, code, message: `accepted (state ${reply.data?.state}${paused})` }
  }
  const message = typeof reply?.message === 'string' ? reply.message.slice(0, 300) : 'no message'
  return { ok: false, status: response.status, code, message: `the server rejected the heartbeat (HTTP ${response.status}, code ${code}): ${message}` }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
}

function describeFetchError(error: unknown): string {
  const anyError = error as { name?: string, cause?: { code?: string } }
  if (anyError?.name === 'TimeoutError')
    return `timed out after ${HEARTBEAT_TIMEOUT_MS / 1000} s`
  const code = anyError?.cause?.code
  if (!code)
    return 'network error'
  return NETWORK_ERRORS[code] ? `${NETWORK_ERRORS[code]} (${code})` : `network error (${code})`
}

function reply(ctx: FunctionContext, code: number, status: number, data?: unknown, message?: string) {
  ctx.response?.status(status)
  const body: { code: number, message?: string, data?: unknown } = { code }
  if (message !== undefined)
    body.message = message
  if (data !== undefined)
    body.data = data
  return body
}

/**
 * Responds to the server's challenge `?action=verify&nonce=…` with the HMAC of
 * the nonce. It returns nothing else, so the public URL reveals no secret.
 */
export default async function (ctx: FunctionContext) {
  const query = ctx.query ?? {}
  const body = typeof ctx.body === 'object' && ctx.body !== null ? ctx.body : {}
  const action = query.action ?? body.action
  if (action !== 'verify')
    return reply(ctx, 40000, 400, undefined, 'unknown action: this function only answers action=verify')
  const nonce = query.nonce ?? body.nonce
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce))
    return reply(ctx, 40000, 400, undefined, 'nonce must be a hex string of 16 to 256 characters')
  const key = readClientConfig(process.env).serverKey
  const problem = describeKeyProblem(key)
  if (problem)
    return reply(ctx, 40300, 403, undefined, problem)
  return reply(ctx, 20000, 200, { signature: signNonce(key, nonce) })
}
