import type { ServerInfo } from '../types/api'
import { defineStore } from 'pinia'
import { reactive, ref, shallowRef } from 'vue'
import { createHeartbeatClient } from '../composables/useHeartbeatApi'
import { useRequestState } from '../composables/useRequestState'
import { parseFunctionUrl } from '../utils/functionUrl'
import { useClientsStore } from './useClientsStore'

/** Tracks the heartbeat server the owner works with: its URL, its getInfo reply and the latency of that call. */
export const useServerStore = defineStore('server', () => {
  const clients = useClientsStore()
  /** Normalized URL of the server, or '' before the first valid one was entered. */
  const url = ref('')
  const info = shallowRef<ServerInfo | null>(null)
  const latencyMs = ref<number | null>(null)
  const request = reactive(useRequestState())

  /** Calls getInfo on a server URL, and remembers the URL only when the server replied. */
  async function connect(input: string): Promise<boolean> {
    const parsed = parseFunctionUrl(input)
    const nextUrl = parsed.ok ? parsed.value.url : ''
    // A refresh of the same server keeps the old info on screen until the new one arrives.
    if (nextUrl !== url.value || !parsed.ok) {
      info.value = null
      latencyMs.value = null
    }
    url.value = nextUrl
    const result = await request.run(() => createHeartbeatClient(input).getInfo())
    if (!result)
      return false
    info.value = result.info
    latencyMs.value = result.latencyMs
    clients.markServerUsed(url.value)
    return true
  }

  function retry(): Promise<boolean> {
    return connect(url.value)
  }

  /**
   * Reloads the counts after the owner changed a client. A failure leaves the
   * card as it was, because the owner waits on the change, not on the counts,
   * and the caller has already logged it.
   */
  async function refreshCounts(): Promise<void> {
    if (!info.value)
      return
    try {
      const result = await createHeartbeatClient(url.value).getInfo()
      info.value = result.info
      latencyMs.value = result.latencyMs
    }
    catch {}
  }

  return { url, info, latencyMs, request, connect, retry, refreshCounts }
})
