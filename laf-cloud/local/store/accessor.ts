import type { AccessorInterface, Params } from 'database-proxy'
import type { DocumentStore } from './store'
import type { Document } from './types'
import { EventEmitter } from 'node:events'
import { ActionType } from 'database-proxy'
import { decodeEjson } from './ejson'
import { unsupported } from './errors'
import { createIndex, dropIndex, listIndexes } from './indexes'
import { add, aggregate, count, read, remove, update } from './operations'
import { findRows } from './query'

type Handler = (store: DocumentStore, collection: string, params: Params) => unknown

const handlers: Partial<Record<string, Handler>> = {
  [ActionType.READ]: read,
  [ActionType.COUNT]: count,
  [ActionType.ADD]: add,
  [ActionType.UPDATE]: update,
  [ActionType.REMOVE]: remove,
  [ActionType.AGGREGATE]: aggregate,
  [ActionType.CREATE_INDEX]: (store, collection, params) => createIndex(store, collection, decodeEjson(params.data ?? {})),
  [ActionType.DROP_INDEX]: (store, collection, params) => dropIndex(store, collection, decodeEjson(params.data)),
  [ActionType.LIST_INDEXES]: (store, collection) => listIndexes(store, collection),
}

/** Checks a collection name against MongoDB's rules. */
function validateCollection(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '')
    throw new Error('collection name must be a non-empty string')
  if (name.length > 120 || name.includes('$') || name.includes('\0') || name.startsWith('system.'))
    throw new Error(`collection name "${name}" is invalid: at most 120 characters, no $ or NUL, not starting with "system."`)
}

/**
 * database-proxy accessor over the embedded store. Each `execute` runs
 * synchronously in one SQLite transaction, so two requests can never
 * interleave a read and a write: a conditional update is atomic, as on MongoDB.
 */
export class LocalAccessor implements AccessorInterface {
  readonly type = 'local'
  private readonly events = new EventEmitter()

  constructor(readonly store: DocumentStore) {}

  async execute(params: Params): Promise<any> {
    return this.executeSync(params)
  }

  /** Runs one database-ql request; the same work as `execute`, without a promise. */
  executeSync(params: Params): unknown {
    this.store.stats.executes += 1
    validateCollection(params.collection)
    const handler = handlers[params.action]
    if (!handler)
      throw unsupported(`database action ${params.action}`)
    const result = this.store.transaction(() => handler(this.store, params.collection, params))
    this.events.emit('result', { params, result })
    return result
  }

  /** Finds one document, as MongoAccessor's `get` does for access rules. */
  async get(collection: string, query: Document): Promise<Document | null> {
    validateCollection(collection)
    return this.store.transaction(() => findRows(this.store, collection, decodeEjson(query ?? {}))[0]?.document ?? null)
  }

  close(): void {
    this.store.close()
  }

  on(event: string | symbol, listener: (...args: any[]) => void): void {
    this.events.on(event, listener)
  }

  off(event: string | symbol, listener: (...args: any[]) => void): void {
    this.events.off(event, listener)
  }

  emit(event: string | symbol, ...args: any[]): boolean {
    return this.events.emit(event, ...args)
  }

  once(event: string | symbol, listener: (...args: any[]) => void): void {
    this.events.once(event, listener)
  }

  removeAllListeners(event?: string | symbol): void {
    this.events.removeAllListeners(event)
  }
}
