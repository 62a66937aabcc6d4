import type { Express } from 'express'
import type { Server } from 'node:http'

/** Starts listening; a busy port fails with a message that names it. */
export function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host)
    server.once('listening', () => resolve(server))
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new Error(`port ${port} on ${host} is already in use: choose another port, or 0 for a free one`)
        : error)
    })
  })
}

/** The work in progress (requests, trigger runs) that close waits for. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>()

  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work)
    const forget = () => this.pending.delete(work)
    work.then(forget, forget)
    return work
  }

  /** Waits until the tracked work settles, or `timeoutMs`, whichever comes first. */
  async settle(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([Promise.allSettled([...this.pending]), timeout])
    clearTimeout(timer)
  }
}

/**
 * Stops accepting connections, lets the requests in progress finish (for at
 * most `graceMs`), then closes the remaining keep-alive connections.
 */
export async function closeServer(server: Server, inFlight: InFlight, graceMs: number): Promise<void> {
  const closed = new Promise<void>(resolve => server.close(() => resolve()))
  server.closeIdleConnections()
  await inFlight.settle(graceMs)
  server.closeAllConnections()
  await closed
}
