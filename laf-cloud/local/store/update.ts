import type { Document } from './types'
import { ObjectId } from 'bson'
import { update as applyModifier } from 'mingo/updater'
import { translateMingoError, unsupported } from './errors'
import { isOperatorObject } from './paths'

/** Update operators that mingo's updater applies, plus $setOnInsert, which this module handles. */
const updateOperators = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
])

/** Generates a document id as MongoAccessor does: a new ObjectId as a 24-hex string. */
export function generateId(): string {
  return new ObjectId().toHexString()
}

/** Checks an update document before any document is touched, as MongoDB does. */
export function validateModifier(modifier: Document): void {
  if (typeof modifier !== 'object' || modifier === null || Array.isArray(modifier))
    throw new Error('update data must be an object')
  for (const key of Object.keys(modifier)) {
    if (!key.startsWith('$'))
      throw new Error(`Update document requires atomic operators, got field "${key}"`)
    if (!updateOperators.has(key))
      throw unsupported(`update operator ${key}`)
  }
}

/** Checks a replacement document (database-ql's `merge: false`). */
export function validateReplacement(replacement: Document): void {
  if (typeof replacement !== 'object' || replacement === null || Array.isArray(replacement))
    throw new Error('replacement data must be an object')
  const operator = Object.keys(replacement).find(key => key.startsWith('$'))
  if (operator)
    throw new Error(`Replacement document must not contain atomic operators, got "${operator}"`)
}

/**
 * Applies an update document to `document` in place and returns whether it changed.
 * `inserting` applies $setOnInsert too, as in an upsert.
 */
export function applyUpdate(document: Document, modifier: Document, inserting: boolean): boolean {
  const { $setOnInsert, ...rest } = modifier
  const operations: Document = { ...rest }
  if (inserting && $setOnInsert)
    operations.$set = { ...operations.$set, ...$setOnInsert }
  const before = JSON.stringify(document)
  const id = document._id
  try {
    applyModifier(document, operations, [], undefined, { cloneMode: 'deep' })
  }
  catch (error) {
    throw translateMingoError(error, 'update operator')
  }
  if (!inserting && JSON.stringify(document._id) !== JSON.stringify(id))
    throw new Error(`Performing an update on the path '_id' would modify the immutable field '_id'`)
  return JSON.stringify(document) !== before
}

/** Sets `value` at a dotted path of `target`, creating objects on the way. */
function setPath(target: Document, path: string, value: unknown): void {
  const segments = path.split('.')
  let current = target
  for (const segment of segments.slice(0, -1)) {
    if (typeof current[segment] !== 'object' || current[segment] === null)
      current[segment] = {}
    current = current[segment]
  }
  current[segments.at(-1)!] = value
}

/**
 * Builds the document of an upsert from the query's equality conditions (top
 * level and `$and`), as MongoDB seeds it before applying the update.
 */
export function seedFromQuery(query: Document, into: Document = {}): Document {
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const branch of value)
        seedFromQuery(branch, into)
    }
    else if (!key.startsWith('$') && !(value instanceof RegExp)) {
      if (!isOperatorObject(value))
        setPath(into, key, value)
      else if ('$eq' in value)
        setPath(into, key, value.$eq)
    }
  }
  return into
}
