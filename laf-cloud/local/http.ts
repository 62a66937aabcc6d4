import type { FunctionContext } from '@lafjs/cloud'
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express'
import type { Logger } from './logger'
import type { FunctionRegistry } from './registry'
import type { InFlight } from './server'
import { randomUUID } from 'node:crypto'
import cors from 'cors'
import express from 'express'
import { callFunction } from './invoke'
import { describeError } from './logger'
import { userFromAuthorization } from './secret'

const bodyLimit = '1mb'

export interface HttpOptions {
  registry: FunctionRegistry
  logger: Logger
  secret: string
  /** Tracks each function call, so that close can wait for it. */
  inFlight: InFlight
  accessLog?: 'all' | 'errors'
}

function requestIdOf(response: Response): string {
  return response.locals.requestId as string
}

/**
 * Gives each request an id, sends it back in `x-request-id` and logs the
 * request when it ends. The log has the path without the query string,
 * which may carry a token.
 */
function tagRequest(logger: Logger, accessLog: 'all' | 'errors'): RequestHandler {
  return (request, response, next) => {
    const requestId = randomUUID()
    const path = request.path
    const started = process.hrtime.bigint()
    response.locals.requestId = requestId
    response.setHeader('x-request-id', requestId)
    response.on('finish', () => {
      if (accessLog === 'errors' && response.statusCode < 400)
        return
      const milliseconds = Number(process.hrtime.bigint() - started) / 1e6
      logger.write('INFO', `${request.method} ${path} ${response.statusCode} ${milliseconds.toFixed(1)} ms`, [requestId])
    })
    next()
  }
}

/** Sends a function's return value by Laf's rules; a function that already replied is left alone. */
export function sendResult(response: Response, result: unknown): void {
  if (response.headersSent || response.writableEnded)
    return
  // express would send a number as a status code, Laf sends it as text.
  response.send(typeof result === 'number' ? String(result) : result)
}

function sendInternalError(response: Response): void {
  if (!response.headersSent)
    response.status(500).send({ error: 'Internal Server Error', requestId: requestIdOf(response) })
}

function invokeFunction({ registry, logger, secret, inFlight }: HttpOptions): RequestHandler {
  return async (request, response) => {
    const name = request.params.name
    const requestId = requestIdOf(response)
    if (!registry.isHosted(name)) {
      response.status(404).send('Function Not Found')
      return
    }
    const functionLogger = logger.child(name)
    try {
      if (!registry.meta(name).methods.includes(request.method)) {
        response.status(405).send('Method Not Allowed')
        return
      }
      const ctx: FunctionContext = {
        query: request.query,
        body: request.body,
        headers: request.headers,
        method: request.method,
        requestId,
        user: userFromAuthorization(request.get('authorization'), secret),
        request: request as Request,
        response,
        __function_name: name,
      }
      sendResult(response, await inFlight.track(callFunction(registry, name, ctx)))
    }
    catch (error) {
      functionLogger.write('ERROR', `request failed: ${describeError(error)}`, [requestId])
      sendInternalError(response)
    }
  }
}

/** Replies to body parser errors (bad JSON, too large) and logs anything else as a 500. */
function handleErrors(logger: Logger): ErrorRequestHandler {
  return (error, _request, response, _next) => {
    const type = (error as { type?: string }).type
    if (type === 'entity.parse.failed') {
      response.status(400).send('Invalid JSON in request body')
      return
    }
    if (type === 'entity.too.large') {
      response.status(413).send('Request body exceeds the limit of 1 MB')
      return
    }
    const status = (error as { status?: number }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      response.status(status).send((error as Error).message)
      return
    }
    logger.write('ERROR', `request failed: ${describeError(error)}`, [requestIdOf(response)])
    sendInternalError(response)
  }
}

/** Builds the express app of one Laf app: `ANY /<function name>`, CORS open, as on Laf. */
export function createHttpApp(options: HttpOptions): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(tagRequest(options.logger, options.accessLog ?? 'all'))
  app.use(cors({ exposedHeaders: ['x-request-id'] }))
  app.use(express.json({ limit: bodyLimit }))
  app.use(express.urlencoded({ extended: true, limit: bodyLimit }))
  app.all('/:name', invokeFunction(options))
  app.use((_request, response) => {
    response.status(404).send('Function Not Found')
  })
  app.use(handleErrors(options.logger))
  return app
}
