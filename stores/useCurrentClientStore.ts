import type { FetchResult } from '../composables/useHeartbeatApi'
import type { ClientRecord, UpdatePayload } from '../types/api'
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'
import { useHeartbeatApi } from '../composables/useHeartbeatApi'
import { useRequestState } from '../composables/useRequestState'
import { ReplyCode } from '../types/api'
import { ApiError } from '../utils/apiError'
import { parseFunctionUrl } from '../utils/functionUrl'
import { useClientsStore } from './useClientsStore'
import { useServerStore } from './useServerStore'

/** Step of the owner flow for the current client. */
export type OwnerStep = 'enterClient' | 'confirmSignup' | 'needKey' | 'activate' | 'settings'

/** Tracks the client the owner works on, on the current server, and every request about it. */
export const useCurrentClientStore = defineStore('currentClient', () => {
  const server = useServerStore()
  const clients = useClientsStore()
  const api = useHeartbeatApi(() => server.url)

  /** Normalized client URL being looked up or shown, '' before one was entered. */
  const clientUrl = ref('')
  const record = shallowRef<ClientRecord | null>(null)
  /** Result of the last lookup without an accepted key: registered or not. */
  const publicRegistered = ref<boolean | null>(null)
  /** A key was sent (remembered or pasted) and the server did not accept it. */
  const keyRejected = ref(false)
  /** The key signup returned in this visit, shown with the note that it is shown only now. */
  const freshKey = ref<string | null>(null)
  /** Client URL deleted in this visit, for the confirmation message. */
  const removedUrl = ref<string | null>(null)

  const lookupRequest = reactive(useRequestState())
  const signupRequest = reactive(useRequestState())
  const activateRequest = reactive(useRequestState())
  const refreshRequest = reactive(useRequestState())
  const saveRequest = reactive(useRequestState())
  const toggleRequest = reactive(useRequestState())
  const removeRequest = reactive(useRequestState())

  const remembered = computed(() => clientUrl.value ? clients.find(server.url, clientUrl.value) : null)
  const key = computed(() => remembered.value?.key ?? null)

  const step = computed<OwnerStep>(() => {
    if (record.value)
      return record.value.state === 0 ? 'activate' : 'settings'
    if (publicRegistered.value === false)
      return 'confirmSignup'
    if (publicRegistered.value === true)
      return 'needKey'
    return 'enterClient'
  })

  function clearRequests(): void {
    for (const request of [signupRequest, activateRequest, refreshRequest, saveRequest, toggleRequest, removeRequest])
      request.reset()
  }

  /** Goes back to the client URL input, keeping what the browser remembers. */
  function reset(): void {
    clientUrl.value = ''
    record.value = null
    publicRegistered.value = null
    keyRejected.value = false
    freshKey.value = null
    lookupRequest.reset()
    clearRequests()
  }

  function requireKey(): string {
    if (!key.value || !record.value)
      throw new ApiError('unexpected', 'no remembered key for this client')
    return key.value
  }

  function applyFetchResult(result: FetchResult, sentKey: string | null): void {
    if (result.kind === 'record') {
      record.value = result.record
      publicRegistered.value = true
      keyRejected.value = false
      if (sentKey)
        clients.remember({ serverUrl: server.url, clientUrl: clientUrl.value, id: result.record.id, key: sentKey })
      return
    }
    record.value = null
    publicRegistered.value = result.registered
    keyRejected.value = sentKey !== null && result.registered
  }

  /** Looks a client URL up, with the remembered key when there is one. */
  async function lookup(input: string): Promise<void> {
    removedUrl.value = null
    const parsed = parseFunctionUrl(input)
    reset()
    clientUrl.value = parsed.ok ? parsed.value.url : input.trim()
    const sentKey = key.value
    const result = await lookupRequest.run(async () => {
      if (!parsed.ok)
        throw new ApiError('invalidUrl', `invalid client URL: ${parsed.problem}`, { urlProblem: parsed.problem })
      return api().fetchClient(clientUrl.value, sentKey ?? undefined)
    })
    if (result)
      applyFetchResult(result, sentKey)
  }

  /** Checks a key the owner pasted; it is remembered only when the server accepts it. */
  async function submitKey(pastedKey: string): Promise<void> {
    const trimmed = pastedKey.trim()
    const result = await lookupRequest.run(() => api().fetchClient(clientUrl.value, trimmed))
    if (result)
      applyFetchResult(result, trimmed)
  }

  /**
   * Registers the client. The server replies 40900 both when the URL is
   * already registered and when registration is full, so after a conflict the
   * console looks the URL up again: a registered URL goes to the key step, and
   * fresh server counts show whether registration is full.
   */
  async function signup(): Promise<void> {
    const result = await signupRequest.run(() => api().signup(clientUrl.value))
    if (!result) {
      if (signupRequest.error?.code === ReplyCode.Conflict)
        await recheckAfterConflict()
      return
    }
    clients.remember({ serverUrl: server.url, clientUrl: clientUrl.value, id: result.client.id, key: result.key })
    freshKey.value = result.key
    record.value = result.client
    publicRegistered.value = true
    server.refreshCounts()
  }

  async function recheckAfterConflict(): Promise<void> {
    const lookupResult = await lookupRequest.run(() => api().fetchClient(clientUrl.value))
    if (lookupResult?.kind === 'public' && lookupResult.registered)
      publicRegistered.value = true
    else
      await server.retry()
  }

  async function activate(): Promise<void> {
    const result = await activateRequest.run(() => api().activate(record.value!.id, requireKey()))
    if (!result)
      return
    record.value = result
    server.refreshCounts()
  }

  /** Reloads the record; a key that stopped working (client deleted elsewhere) leads back to the key step. */
  async function refresh(): Promise<void> {
    if (!record.value)
      return
    const sentKey = requireKey()
    const result = await refreshRequest.run(() => api().fetchClient(clientUrl.value, sentKey))
    if (result)
      applyFetchResult(result, sentKey)
  }

  async function save(payload: UpdatePayload): Promise<boolean> {
    const result = await saveRequest.run(() => api().update(record.value!.id, requireKey(), payload))
    if (result)
      record.value = result
    return result !== undefined
  }

  async function togglePause(): Promise<void> {
    const result = await toggleRequest.run(() => api().setPaused(record.value!.id, requireKey(), !record.value!.paused))
    if (!result)
      return
    record.value = result
    server.refreshCounts()
  }

  /** Deletes the client on the server, then removes its key from this browser. */
  async function remove(): Promise<void> {
    const url = clientUrl.value
    const done = await removeRequest.run(async () => {
      await api().remove(record.value!.id, requireKey())
      return true
    })
    if (!done)
      return
    clients.forget(server.url, url)
    reset()
    removedUrl.value = url
    server.refreshCounts()
  }

  /** Forgets the key in this browser only; the client stays registered on the server. */
  function forget(): void {
    clients.forget(server.url, clientUrl.value)
    reset()
  }

  return {
    clientUrl,
    record,
    publicRegistered,
    keyRejected,
    freshKey,
    removedUrl,
    key,
    step,
    lookupRequest,
    signupRequest,
    activateRequest,
    refreshRequest,
    saveRequest,
    toggleRequest,
    removeRequest,
    reset,
    lookup,
    submitKey,
    signup,
    activate,
    refresh,
    save,
    togglePause,
    remove,
    forget,
  }
})
