import { computed, ref, shallowRef } from 'vue'
import { ApiError } from '../utils/apiError'

export type RequestStatus = 'idle' | 'loading' | 'done' | 'error'

/**
 * Tracks one kind of request: idle, loading, done or error with its ApiError.
 * When a request starts before the previous one returned, only the newest
 * one updates the state, and `run` resolves with undefined for the others.
 */
export function useRequestState() {
  const status = ref<RequestStatus>('idle')
  const error = shallowRef<ApiError | null>(null)
  let latest = 0

  async function run<T>(task: () => Promise<T>): Promise<T | undefined> {
    const ticket = ++latest
    status.value = 'loading'
    error.value = null
    try {
      const result = await task()
      if (ticket !== latest)
        return undefined
      status.value = 'done'
      return result
    }
    catch (caught) {
      if (ticket !== latest)
        return undefined
      if (!(caught instanceof ApiError))
        console.error('[heartbeat] unexpected error', caught)
      error.value = caught instanceof ApiError ? caught : new ApiError('unexpected', String(caught))
      status.value = 'error'
      return undefined
    }
  }

  function reset(): void {
    latest++
    status.value = 'idle'
    error.value = null
  }

  return { status, error, run, reset, loading: computed(() => status.value === 'loading') }
}

export type RequestState = ReturnType<typeof useRequestState>
