import type { DocumentStore } from './store'
import type { Document, IndexInfo, IndexKeys } from './types'
import { StoreError, unsupported } from './errors'
import { fieldExists, keyExpression, sqlIndexName, tableName, validateIndexPath } from './sql'

// MongoDB's server codes for the index errors it reports.
const indexOptionsConflict = 85
const indexKeySpecsConflict = 86
const indexNotFound = 27
const invalidOptions = 72
const namespaceNotFound = 26

/** Options of createIndex that the store honours; `background` is accepted and ignored, as MongoDB 4.2+ does. */
const knownOptions = new Set(['name', 'unique', 'sparse', 'background'])

function parseKeys(keys: unknown): IndexKeys {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys) || Object.keys(keys).length === 0)
    throw new Error('index keys must be a non-empty object such as { field: 1 }')
  const parsed: IndexKeys = {}
  for (const [path, direction] of Object.entries(keys)) {
    if (direction !== 1 && direction !== -1)
      throw unsupported(`index type ${JSON.stringify(direction)} on field "${path}" (only 1 and -1)`)
    validateIndexPath(path)
    parsed[path] = direction
  }
  return parsed
}

function parseOptions(keys: IndexKeys, options: unknown): Pick<IndexInfo, 'name' | 'unique' | 'sparse'> {
  const given = (options ?? {}) as Document
  for (const option of Object.keys(given)) {
    if (!knownOptions.has(option))
      throw unsupported(`index option ${option}`)
  }
  const name = given.name ?? Object.entries(keys).map(([path, direction]) => `${path}_${direction}`).join('_')
  if (typeof name !== 'string' || name === '')
    throw new Error('index option name must be a non-empty string')
  return { name, unique: given.unique === true, sparse: given.sparse === true }
}

function sameKeys(a: IndexKeys, b: IndexKeys): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Creates an index, or does nothing when the same index exists; returns its name. */
export function createIndex(store: DocumentStore, collection: string, data: Document): { indexName: string } {
  const keys = parseKeys(data?.keys)
  const { name, unique, sparse } = parseOptions(keys, data?.options)
  if (sameKeys(keys, { _id: 1 }))
    return { indexName: '_id_' }
  const existing = store.indexesOf(collection)
  const sameName = existing.find(index => index.name === name)
  if (sameName) {
    if (sameKeys(sameName.keys, keys) && sameName.unique === unique && sameName.sparse === sparse)
      return { indexName: name }
    throw new StoreError(`An existing index has the same name as the requested index: ${name}`, indexKeySpecsConflict)
  }
  const sameSpec = existing.find(index => sameKeys(index.keys, keys))
  if (sameSpec)
    throw new StoreError(`Index already exists with a different name: ${sameSpec.name}`, indexOptionsConflict)

  store.ensureCollection(collection)
  const columns = Object.keys(keys).map(path => `${keyExpression(path)}${keys[path] === -1 ? ' DESC' : ''}`)
  const where = sparse ? ` WHERE ${sparsePredicate(keys)}` : ''
  try {
    store.run(`CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${sqlIndexName(collection, name)} ON ${tableName(collection)} (${columns.join(', ')})${where}`)
  }
  catch (error) {
    throw store.duplicateKeyError(collection, null, error) ?? error
  }
  const index: IndexInfo = { name, keys, unique, sparse, multikey: false }
  store.saveIndex(collection, index)
  return { indexName: name }
}

/** SQL condition of a sparse index: the document has at least one of the key fields. */
export function sparsePredicate(keys: IndexKeys): string {
  return `(${Object.keys(keys).map(fieldExists).join(' OR ')})`
}

/** Drops an index given by name or by key pattern; `*` drops all but `_id_`. */
export function dropIndex(store: DocumentStore, collection: string, data: unknown): { result: Document } {
  const existing = store.indexesOf(collection)
  const nIndexesWas = existing.length + 1
  if (data === '*') {
    for (const index of existing)
      removeIndex(store, collection, index.name)
    return { result: { nIndexesWas, ok: 1 } }
  }
  const target = typeof data === 'string'
    ? existing.find(index => index.name === data)
    : existing.find(index => sameKeys(index.keys, data as IndexKeys))
  if (data === '_id_' || (typeof data === 'object' && data !== null && sameKeys(data as IndexKeys, { _id: 1 })))
    throw new StoreError('cannot drop _id index', invalidOptions)
  if (!target)
    throw new StoreError(`index not found with name [${typeof data === 'string' ? data : JSON.stringify(data)}]`, indexNotFound)
  removeIndex(store, collection, target.name)
  return { result: { nIndexesWas, ok: 1 } }
}

function removeIndex(store: DocumentStore, collection: string, name: string): void {
  store.run(`DROP INDEX IF EXISTS ${sqlIndexName(collection, name)}`)
  store.forgetIndex(collection, name)
}

/** Lists indexes in MongoDB's shape, `_id_` first; a missing collection is an error, as on MongoDB. */
export function listIndexes(store: DocumentStore, collection: string): { list: Document[] } {
  if (!store.hasCollection(collection))
    throw new StoreError(`ns does not exist: ${store.namespace}.${collection}`, namespaceNotFound)
  const list: Document[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }]
  for (const index of store.indexesOf(collection)) {
    const entry: Document = { v: 2, key: index.keys, name: index.name }
    if (index.unique)
      entry.unique = true
    if (index.sparse)
      entry.sparse = true
    list.push(entry)
  }
  return { list }
}
