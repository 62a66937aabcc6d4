// Shapes of the heartbeat server's API, shared by the console and the tests.
// The deployable functions keep their own copy because each must stand alone;
// tests/unit/api-types.test.ts checks that the copies agree.

export const ReplyCode = {
  Ok: 20000,
  InvalidInput: 40000,
  Unauthorized: 40100,
  Forbidden: 40300,
  NotFound: 40400,
  Conflict: 40900,
  TooManyRequests: 42900,
  InternalError: 50000,
  BadGateway: 50200,
} as const

export type ReplyCodeValue = (typeof ReplyCode)[keyof typeof ReplyCode]

/** HTTP status that goes with each reply code. */
export const replyStatus: Record<ReplyCodeValue, number> = {
  20000: 200,
  40000: 400,
  40100: 401,
  40300: 403,
  40400: 404,
  40900: 409,
  42900: 429,
  50000: 500,
  50200: 502,
}

/** Envelope of every reply of the server function. */
export interface Reply<T = unknown> {
  code: ReplyCodeValue
  message?: string
  data?: T
  requestId?: string
}

/** Client state: 0 registered, 1 activated and waiting for a first beat, 2 live. */
export type ClientState = 0 | 1 | 2

/** A client as the server returns it; the key is never part of it. */
export interface ClientRecord {
  id: string
  clientUrl: string
  state: ClientState
  paused: boolean
  errorMax: number
  errorCount: number
  noticeMax: number
  noticeCount: number
  /** Push URL template; replies to an admin show only its origin followed by `/…`. */
  sendUrl: string
  createdAt: number
  /** Server time of the last heartbeat in milliseconds, or null before the first one. */
  updatedAt: number | null
  /** Time from which the next late judgement is measured (activation, resume or last beat). */
  watchedSince: number | null
  lastNoticeAt: number | null
  /** Reason the last notice failed, or null when it was delivered. */
  lastNoticeError: string | null
  /** Consecutive failed down notices in the current silence; from the fifth on, the server retries with a growing wait. */
  noticeFailures: number
}

export interface ServerInfo {
  name: string
  version: string
  count: number
  active: number
  max: number
  lateAfterSeconds: number
  adminEnabled: boolean
}

export interface FetchPublicResult {
  registered: boolean
  state: ClientState | null
}

export interface SignupResult {
  client: ClientRecord
  key: string
}

export interface UpdatePayload {
  errorMax?: number
  noticeMax?: number
  sendUrl?: string
}

export interface ReceiveResult {
  state: ClientState
  paused: boolean
}

export interface LoginResult {
  token: string
  expiresAt: number
}

export interface ListResult {
  items: ClientRecord[]
  total: number
  page: number
  pageSize: number
}

export type ActionName =
  | 'getInfo'
  | 'fetch'
  | 'signup'
  | 'active'
  | 'toggle'
  | 'update'
  | 'remove'
  | 'receive'
  | 'login'
  | 'list'
