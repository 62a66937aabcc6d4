import type { FunctionContext } from '@lafjs/cloud'
import type { FunctionRegistry } from './registry'
import { randomUUID } from 'node:crypto'
import { runInRequest } from './request-scope'

type Handler = (ctx: FunctionContext) => unknown

/** Returns the function's `default` export, else its `main`, as Laf calls them. */
function pickHandler(exports: Record<string, unknown>, name: string): Handler {
  const handler = typeof exports.default === 'function' ? exports.default : exports.main
  if (typeof handler !== 'function')
    throw new TypeError(`function ${name} exports neither a default function nor a main function`)
  return handler as Handler
}

/** Calls a function with `ctx`, with `ctx.requestId` as the request id of its logs. */
export async function callFunction(registry: FunctionRegistry, name: string, ctx: FunctionContext): Promise<unknown> {
  const handler = pickHandler(registry.load(name), name)
  return runInRequest(ctx.requestId ?? randomUUID(), () => handler(ctx))
}

/**
 * Completes a context for an in-process call (`invoke`, a trigger): a POST
 * with empty query, body and headers and no user, unless `ctx` gives them.
 */
export function inProcessContext(name: string, ctx: Partial<FunctionContext> = {}): FunctionContext {
  return {
    method: 'POST',
    query: {},
    body: {},
    headers: {},
    user: null,
    ...ctx,
    requestId: ctx.requestId ?? randomUUID(),
    __function_name: name,
  }
}
