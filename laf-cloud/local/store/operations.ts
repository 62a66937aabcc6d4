import type { AddResult, CountResult, Params, UpdateResult as ProxyUpdateResult, ReadResult, RemoveResult } from 'database-proxy'
import type { DocumentStore } from './store'
import type { Document } from './types'
import { Aggregator, Query } from 'mingo'
import { decodeEjson, encodeReply } from './ejson'
import { translateMingoError, unsupported } from './errors'
import { findRows } from './query'
import { idKey } from './store'
import { applyUpdate, generateId, seedFromQuery, validateModifier, validateReplacement } from './update'

// Result shapes follow database-proxy 1.0.0's MongoAccessor, so database-ql
// gets the same replies as on Laf with MongoDB.

/** MongoAccessor's update result, whose `upsert_id` is null when nothing was upserted. */
export type UpdateResult = Omit<ProxyUpdateResult, 'upsert_id'> & { upsert_id: string | null }

function decodeQuery(params: Params): Document {
  return decodeEjson(params.query ?? {})
}

function sortSpec(order: Params['order']): Record<string, 1 | -1> | undefined {
  if (!Array.isArray(order) || order.length === 0)
    return undefined
  return Object.fromEntries(order.map(item => [item.field, item.direction === 'desc' ? -1 : 1]))
}

export function read(store: DocumentStore, collection: string, params: Params): ReadResult {
  const matched = findRows(store, collection, decodeQuery(params)).map(row => row.document)
  const limit = params.limit || 100
  const offset = params.offset || 0
  let list: Document[]
  try {
    let cursor = new Query({}).find<Document>(matched, params.projection)
    const sort = sortSpec(params.order)
    if (sort)
      cursor = cursor.sort(sort)
    list = cursor.skip(offset).limit(limit).all()
  }
  catch (error) {
    throw translateMingoError(error, 'projection operator')
  }
  return { list: list.map(encodeReply), limit, offset, total: params.count ? matched.length : undefined }
}

export function count(store: DocumentStore, collection: string, params: Params): CountResult {
  const query = decodeQuery(params)
  if (Object.keys(query).length === 0)
    return { total: store.countAll(collection) }
  return { total: findRows(store, collection, query).length }
}

function insertDocument(store: DocumentStore, collection: string, document: unknown): string {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new Error('a document to add must be an object')
  const doc = document as Document
  // MongoAccessor always assigns a fresh id, even over a given _id.
  doc._id = generateId()
  store.insert(collection, doc)
  return doc._id
}

/**
 * Adds one document, or several with `multi`; several ids come keyed by
 * position, as MongoDB's insertMany returns them. A failure adds nothing,
 * where MongoDB keeps the documents before the failing one.
 */
export function add(store: DocumentStore, collection: string, params: Params): AddResult | { _id: Record<number, string>, insertedCount: number } {
  const data = decodeEjson(params.data ?? {})
  if (!params.multi)
    return { _id: insertDocument(store, collection, data), insertedCount: 1 }
  const documents: unknown[] = Array.isArray(data) ? data : [data]
  const ids = documents.map(document => insertDocument(store, collection, document))
  return { _id: Object.fromEntries(ids.map((id, position) => [position, id])), insertedCount: ids.length }
}

function replace(store: DocumentStore, collection: string, query: Document, replacement: Document, upsert: boolean): UpdateResult {
  validateReplacement(replacement)
  const [target] = findRows(store, collection, query)
  if (target) {
    if ('_id' in replacement && idKey(replacement._id) !== target.id)
      throw new Error(`the (immutable) field '_id' was found to have been altered`)
    const document = { _id: target.document._id, ...replacement }
    const changed = JSON.stringify(document) !== JSON.stringify(target.document)
    if (changed)
      store.replace(collection, target.id, document)
    return { upsert_id: null, updated: changed ? 1 : 0, matched: 1 }
  }
  if (!upsert)
    return { upsert_id: null, updated: 0, matched: 0 }
  const document = { _id: replacement._id ?? seedFromQuery(query)._id ?? generateId(), ...replacement }
  store.insert(collection, document)
  return { upsert_id: document._id, updated: 0, matched: 0 }
}

function modify(store: DocumentStore, collection: string, query: Document, modifier: Document, params: Params): UpdateResult {
  validateModifier(modifier)
  const rows = findRows(store, collection, query)
  const targets = params.multi ? rows : rows.slice(0, 1)
  let updated = 0
  for (const row of targets) {
    if (applyUpdate(row.document, modifier, false)) {
      store.replace(collection, row.id, row.document)
      updated += 1
    }
  }
  // As in MongoAccessor, a multi update never upserts.
  if (targets.length > 0 || !params.upsert || params.multi)
    return { upsert_id: null, updated, matched: targets.length }
  const seed = seedFromQuery(query)
  const document: Document = { _id: seed._id ?? generateId(), ...seed }
  applyUpdate(document, modifier, true)
  store.insert(collection, document)
  return { upsert_id: document._id, updated: 0, matched: 0 }
}

/** Updates with operators (`merge`, database-ql's default) or replaces a document (`merge: false`). */
export function update(store: DocumentStore, collection: string, params: Params): UpdateResult {
  const query = decodeQuery(params)
  const data = decodeEjson(params.data ?? {})
  if (!params.merge)
    return replace(store, collection, query, data, !!params.upsert)
  return modify(store, collection, query, data, params)
}

export function remove(store: DocumentStore, collection: string, params: Params): RemoveResult {
  const rows = findRows(store, collection, decodeQuery(params))
  const targets = params.multi ? rows : rows.slice(0, 1)
  store.delete(collection, targets.map(row => row.id))
  return { deleted: targets.length }
}

const writeStages = new Set(['$out', '$merge'])

/**
 * Runs an aggregation with mingo. A leading `$match` picks candidates through
 * the indexes; other stages see every document of the collection.
 */
export function aggregate(store: DocumentStore, collection: string, params: Params): ReadResult {
  const pipeline: Document[] = (params.stages ?? []).map(stage => ({ [stage.stageKey]: decodeEjson(JSON.parse(stage.stageValue)) }))
  const write = pipeline.find(stage => writeStages.has(Object.keys(stage)[0]))
  if (write)
    throw unsupported(`aggregation stage ${Object.keys(write)[0]}`)
  const [first] = pipeline
  const documents = first && '$match' in first
    ? findRows(store, collection, first.$match).map(row => row.document)
    : store.select(collection, null).map(row => row.document)
  const rest = first && '$match' in first ? pipeline.slice(1) : pipeline
  try {
    const aggregator = new Aggregator(rest, {
      collectionResolver: (name: string) => store.select(name, null).map(row => row.document),
    })
    return { list: aggregator.run(documents).map(document => encodeReply(document as Document)) }
  }
  catch (error) {
    throw translateMingoError(error, 'aggregation operator')
  }
}
