import { AsyncLocalStorage } from 'node:async_hooks'

const scope = new AsyncLocalStorage<string>()

/** Runs `work` with `requestId` as the current request id of everything it calls. */
export function runInRequest<T>(requestId: string, work: () => T): T {
  return scope.run(requestId, work)
}

/** Returns the id of the request being served, or undefined outside one (module load, timers set up before). */
export function currentRequestId(): string | undefined {
  return scope.getStore()
}
