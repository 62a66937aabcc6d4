import type { Document } from './types'

/** Reads the value at a dotted path, or undefined; used for error messages and upsert ids. */
export function getPath(document: Document, path: string): unknown {
  let value: unknown = document
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null)
      return undefined
    value = (value as Document)[segment]
  }
  return value
}

/**
 * Tells whether an array lies on a dotted path (at the end or on the way),
 * which makes MongoDB match each element: such a field needs a multikey index.
 */
export function hasArrayOnPath(document: Document, path: string): boolean {
  let value: unknown = document
  for (const segment of path.split('.')) {
    if (Array.isArray(value))
      return true
    if (typeof value !== 'object' || value === null)
      return false
    value = (value as Document)[segment]
  }
  return Array.isArray(value)
}

/** Tells whether a value is a query operator object such as `{ $in: [...] }`. */
export function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date || value instanceof RegExp)
    return false
  const keys = Object.keys(value)
  return keys.length > 0 && keys.every(key => key.startsWith('$'))
}
