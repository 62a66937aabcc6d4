/** Quotes an SQLite identifier, so any collection or index name is safe in SQL text. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

export function tableName(collection: string): string {
  return quoteIdentifier(`c:${collection}`)
}

export function sqlIndexName(collection: string, index: string): string {
  return quoteIdentifier(`i:${collection}:${index}`)
}

const segmentPattern = /^[\w-]+$/

/**
 * Checks that an indexed field path is made of plain segments (letters, digits,
 * `_`, `-`), because the path is written into SQL text and into JSON paths.
 */
export function validateIndexPath(path: string): void {
  if (!path.split('.').every(segment => segmentPattern.test(segment)))
    throw new Error(`index field "${path}" is invalid: use segments of letters, digits, _ and - joined by dots`)
}

function jsonPath(path: string, suffix = ''): string {
  const segments = path.split('.').map(segment => `."${segment}"`).join('')
  return `'$${segments}${suffix}'`
}

/** SQL that is true when the document has the field at `path` (sparse index rule). */
export function fieldExists(path: string): string {
  return `json_type(doc, ${jsonPath(path)}) IS NOT NULL`
}

/**
 * SQL for the index key of `path`, the same text in CREATE INDEX and in queries,
 * so that SQLite uses the expression index:
 * - a number, string or boolean (1 or 0) is its JSON value;
 * - a Date, stored as `{ "$date": ms }`, is its milliseconds;
 * - another object or an array is its JSON text;
 * - null and a missing field are the empty blob, so a unique index admits one
 *   such document, as MongoDB does.
 */
// NOTE: keys of different types can be equal here where MongoDB keeps them apart
// (true and 1, a Date and its milliseconds, an object and a string of its JSON),
// so a unique index can report a duplicate across such types. Queries are not
// affected, because mingo filters every candidate.
export function keyExpression(path: string): string {
  const value = `json_extract(doc, ${jsonPath(path)})`
  const date = `json_extract(doc, ${jsonPath(path, '."$date"')})`
  return `(CASE WHEN json_type(doc, ${jsonPath(path)}) = 'object' THEN coalesce(${date}, ${value}) ELSE ifnull(${value}, x'') END)`
}
