import type { MaybeRefOrGetter } from 'vue'
import type { ActionName, ClientRecord, ClientState, FetchPublicResult, ServerInfo, SignupResult, UpdatePayload } from '../types/api'
import { Cloud } from 'laf-client-sdk'
import { toValue } from 'vue'
import { ApiError, readReply, toApiError } from '../utils/apiError'
import { parseFunctionUrl } from '../utils/functionUrl'

/** Result of `fetch`: the record for the right key, otherwise only whether the URL is registered. */
export type FetchResult =
  | { kind: 'record', record: ClientRecord }
  | { kind: 'public', registered: boolean, state: ClientState | null }

export interface HeartbeatApiOptions {
  /** Milliseconds before a call is given up; laf-client-sdk's own default is 15 s. */
  timeoutMs?: number
  /** Token for `Authorization: Bearer`, used by admin calls; owners prove themselves by key. */
  getAccessToken?: () => string
}

export const defaultTimeoutMs = 10_000

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function isServerInfo(data: unknown): data is ServerInfo {
  return isObject(data) && typeof data.name === 'string' && typeof data.max === 'number' && typeof data.count === 'number'
}

function isClientRecord(data: unknown): data is ClientRecord {
  return isObject(data) && typeof data.id === 'string' && typeof data.clientUrl === 'string' && typeof data.state === 'number'
}

function protocolError(action: ActionName): ApiError {
  return new ApiError('protocol', `${action} returned data of an unexpected shape`)
}

/** Creates a caller of one heartbeat server function; throws an ApiError when the URL is invalid. */
export function createHeartbeatClient(serverUrl: string, options: HeartbeatApiOptions = {}) {
  const parsed = parseFunctionUrl(serverUrl)
  if (!parsed.ok)
    throw new ApiError('invalidUrl', `invalid server URL: ${parsed.problem}`, { urlProblem: parsed.problem })
  const target = parsed.value
  const cloud = new Cloud({
    baseUrl: target.baseUrl,
    getAccessToken: options.getAccessToken ?? (() => ''),
    timeout: options.timeoutMs ?? defaultTimeoutMs,
  })

  async function call<T>(action: ActionName, data: object = {}): Promise<T> {
    try {
      const body: unknown = await cloud.invoke(target.functionName, { action, ...data })
      return readReply<T>(action, body, 200)
    }
    catch (caught) {
      const error = toApiError(action, caught)
      // Only the outcome is logged: the request body may contain the client key.
      console.warn(`[heartbeat] ${error.message}`, { server: target.url, kind: error.kind, code: error.code, status: error.status, requestId: error.requestId })
      throw error
    }
  }

  async function record(action: ActionName, data: object): Promise<ClientRecord> {
    const result = await call<unknown>(action, data)
    if (!isClientRecord(result))
      throw protocolError(action)
    return result
  }

  return {
    url: target.url,
    async getInfo(): Promise<{ info: ServerInfo, latencyMs: number }> {
      // A heartbeat server takes getInfo from anyone, so an "invalid input" reply means another kind of
      // function, such as a client function pasted into the server field.
      const first = await call<unknown>('getInfo').catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 40000)
          throw new ApiError('protocol', 'getInfo was rejected as invalid input', { status: error.status ?? undefined })
        throw error
      })
      if (!isServerInfo(first))
        throw protocolError('getInfo')
      // The first call also pays for the CORS preflight and the connection, so the second is the one timed.
      const started = performance.now()
      const info = await call<unknown>('getInfo')
      const latencyMs = Math.round(performance.now() - started)
      if (!isServerInfo(info))
        throw protocolError('getInfo')
      return { info, latencyMs }
    },
    async fetchClient(clientUrl: string, key?: string): Promise<FetchResult> {
      const result = await call<unknown>('fetch', key ? { clientUrl, key } : { clientUrl })
      if (isClientRecord(result))
        return { kind: 'record', record: result }
      if (!isObject(result) || typeof result.registered !== 'boolean')
        throw protocolError('fetch')
      const publicResult = result as unknown as FetchPublicResult
      return { kind: 'public', registered: publicResult.registered, state: publicResult.state ?? null }
    },
    async signup(clientUrl: string): Promise<SignupResult> {
      const result = await call<SignupResult>('signup', { clientUrl })
      if (!isObject(result) || !isClientRecord(result.client) || typeof result.key !== 'string')
        throw protocolError('signup')
      return result
    },
    activate: (id: string, key: string) => record('active', { id, key }),
    /** Pauses or resumes; the wanted state is sent so that two clicks in flight cannot cancel out. */
    setPaused: (id: string, key: string, paused: boolean) => record('toggle', { id, key, paused }),
    update: (id: string, key: string, payload: UpdatePayload) => record('update', { id, key, payload }),
    async remove(id: string, key: string): Promise<void> {
      await call<unknown>('remove', { id, key })
    },
  }
}

export type HeartbeatClient = ReturnType<typeof createHeartbeatClient>

/**
 * Returns a function that makes the caller of the server URL `serverUrl`
 * contains at that moment, so every request goes to the URL the user typed
 * last and nowhere else. Making a caller is cheap, so none is kept.
 */
export function useHeartbeatApi(serverUrl: MaybeRefOrGetter<string>, options: HeartbeatApiOptions = {}) {
  return (): HeartbeatClient => createHeartbeatClient(toValue(serverUrl), options)
}
