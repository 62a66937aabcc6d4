import { describe, expect, it } from 'vitest'
import { useRequestState } from '../../composables/useRequestState'
import { ApiError } from '../../utils/apiError'

function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>(done => resolve = done)
  return { promise, resolve }
}

describe('useRequestState', () => {
  it('starts idle', () => {
    const state = useRequestState()
    expect(state.status.value).toBe('idle')
    expect(state.error.value).toBeNull()
  })

  it('is loading until done', async () => {
    const state = useRequestState()
    const task = deferred<number>()
    const running = state.run(() => task.promise)
    expect(state.status.value).toBe('loading')
    expect(state.loading.value).toBe(true)
    task.resolve(7)
    expect(await running).toBe(7)
    expect(state.status.value).toBe('done')
  })

  it('keeps the ApiError', async () => {
    const state = useRequestState()
    const error = new ApiError('timeout', 'getInfo timed out')
    expect(await state.run(() => Promise.reject(error))).toBeUndefined()
    expect(state.status.value).toBe('error')
    expect(state.error.value).toBe(error)
  })

  it('wraps foreign errors as unexpected', async () => {
    const state = useRequestState()
    const originalError = console.error
    console.error = () => {}
    try {
      await state.run(() => Promise.reject(new TypeError('boom')))
    }
    finally {
      console.error = originalError
    }
    expect(state.error.value?.kind).toBe('unexpected')
  })

  it('ignores a stale result', async () => {
    const state = useRequestState()
    const first = deferred<string>()
    const second = deferred<string>()
    const firstRun = state.run(() => first.promise)
    const secondRun = state.run(() => second.promise)
    second.resolve('new')
    expect(await secondRun).toBe('new')
    first.resolve('old')
    expect(await firstRun).toBeUndefined()
    expect(state.status.value).toBe('done')
  })

  it('reset drops a running request', async () => {
    const state = useRequestState()
    const task = deferred<string>()
    const running = state.run(() => task.promise)
    state.reset()
    task.resolve('late')
    expect(await running).toBeUndefined()
    expect(state.status.value).toBe('idle')
  })
})
