import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Buffer } from 'node:buffer'
import { createServer } from 'node:http'

/** A request the sink received. */
export interface SinkRequest {
  method: string
  /** Path and query as sent. */
  url: string
  path: string
  query: Record<string, string>
  headers: IncomingMessage['headers']
  body: string
  receivedAt: number
}

/** What the sink does with requests to a path; `hang` never sends a response. */
export type SinkBehavior =
  | { kind: 'reply', status: number, body?: string, headers?: Record<string, string> }
  | { kind: 'hang' }

export interface Sink {
  /** Base URL, http://127.0.0.1:<port> without a trailing slash. */
  url: string
  requests: SinkRequest[]
  /** Sets the behavior for one path (or '*' for every other path). */
  behave: (path: string, behavior: SinkBehavior) => void
  /** Requests received for one path. */
  requestsTo: (path: string) => SinkRequest[]
  /** Responds with this status to every request that a `hang` behavior kept open. */
  releaseHung: (status: number) => void
  /** Waits until `count` requests reached `path`, polling every 20 ms; throws after `timeoutMs`. */
  waitFor: (path: string, count: number, timeoutMs?: number) => Promise<SinkRequest[]>
  close: () => Promise<void>
}

/**
 * Starts a tiny HTTP server on 127.0.0.1 with a random port that records
 * every request: the stand-in for a push service (ServerChan, ntfy, ...).
 * By default it responds 200 "ok".
 */
export async function startSink(): Promise<Sink> {
  const requests: SinkRequest[] = []
  const behaviors = new Map<string, SinkBehavior>([['*', { kind: 'reply', status: 200, body: 'ok' }]])
  const sockets = new Set<Socket>()
  const hung: ServerResponse[] = []
  const server: Server = createServer((request, response) => handle(request, response))
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = []
    request.on('data', chunk => chunks.push(chunk))
    request.on('end', () => {
      const parsed = new URL(request.url ?? '/', 'http://127.0.0.1')
      requests.push({
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        path: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      })
      const behavior = behaviors.get(parsed.pathname) ?? behaviors.get('*')!
      if (behavior.kind === 'hang') {
        hung.push(response)
        return
      }
      response.writeHead(behavior.status, { 'content-type': 'text/plain', ...behavior.headers })
      response.end(behavior.body ?? '')
    })
  }

  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string')
    throw new Error('sink server has no TCP address')

  const requestsTo = (path: string) => requests.filter(request => request.path === path)
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    behave: (path, behavior) => behaviors.set(path, behavior),
    releaseHung: (status) => {
      for (const response of hung.splice(0)) {
        if (!response.destroyed)
          response.writeHead(status).end()
      }
    },
    requestsTo,
    waitFor: async (path, count, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs
      while (requestsTo(path).length < count) {
        if (Date.now() > deadline)
          throw new Error(`sink got ${requestsTo(path).length} of ${count} requests to ${path} within ${timeoutMs} ms`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      return requestsTo(path)
    },
    close: async () => {
      for (const socket of sockets)
        socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}
