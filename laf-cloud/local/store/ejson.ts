import type { Document } from './types'
import { BSONRegExp, EJSON } from 'bson'

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

// JavaScript has no flag for MongoDB's x (extended) option, so such a pattern cannot be evaluated.
function toRegExp(value: BSONRegExp): RegExp {
  if (value.options.includes('x'))
    throw new Error(`regular expression option x (in /${value.pattern}/${value.options}) is not supported by the local runtime`)
  const flags = [...new Set(value.options.replace(/[^gimsuy]/g, ''))].join('')
  return new RegExp(value.pattern, flags)
}

// mingo evaluates native RegExp values, and EJSON decodes patterns to BSONRegExp.
function nativeRegExps(value: unknown): unknown {
  if (value instanceof BSONRegExp)
    return toRegExp(value)
  if (Array.isArray(value))
    return value.map(nativeRegExps)
  if (isPlainObject(value)) {
    for (const key of Object.keys(value))
      value[key] = nativeRegExps(value[key])
  }
  return value
}

/**
 * Decodes EJSON from database-ql as database-proxy's MongoAccessor does
 * (`EJSON.deserialize(value, { relaxed: true })`), so `{ $date }` becomes a Date
 * and `{ $regex, $options }` a RegExp.
 */
export function decodeEjson(value: unknown): any {
  if (value === undefined || value === null)
    return value
  return nativeRegExps(EJSON.deserialize(value as Document, { relaxed: true }))
}

/** Encodes a document for a reply, as MongoAccessor does: relaxed EJSON. */
export function encodeReply(document: Document): Document {
  return EJSON.serialize(document, { relaxed: true })
}

function isEjsonDate(value: unknown): value is { $date: string | { $numberLong: string } } {
  return isPlainObject(value) && Object.keys(value).length === 1 && '$date' in value
}

function toMilliseconds(value: string | { $numberLong: string }): number {
  return typeof value === 'string' ? Date.parse(value) : Number(value.$numberLong)
}

/**
 * Encodes a document for the `doc` column: relaxed EJSON, except that a Date is
 * `{ "$date": <milliseconds> }`, a number that SQLite can index and compare.
 */
export function encodeStored(document: Document): string {
  return JSON.stringify(EJSON.serialize(document, { relaxed: true }), (_key, value) =>
    isEjsonDate(value) ? { $date: toMilliseconds(value.$date) } : value)
}

/** Decodes a `doc` column back to a document with Date and other BSON values. */
export function decodeStored(text: string): Document {
  return decodeEjson(JSON.parse(text)) as Document
}
