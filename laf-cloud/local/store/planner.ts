import type { SqlFilter } from './store'
import type { Document, IndexInfo } from './types'
import { sparsePredicate } from './indexes'
import { isOperatorObject } from './paths'
import { keyExpression } from './sql'
import { idKey } from './store'

// The planner turns the indexable part of a query into SQL that picks candidate
// rows, and mingo then filters the candidates with the whole query. Every SQL
// term must be true for each document that the query matches (extra candidates
// are fine), so terms are made only for equality, $in and numeric ranges on a
// number, string, boolean or Date, on an index with no arrays.

/** Collects `path -> conditions` from the query's top level and its `$and` branches. */
function collectConditions(query: Document, into: Map<string, unknown[]>): void {
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const branch of value)
        collectConditions(branch, into)
    }
    else if (!key.startsWith('$')) {
      into.set(key, [...(into.get(key) ?? []), value])
    }
  }
}

/** Converts an equality value to its index key parameter, or returns undefined when the value is not indexable. */
function keyParameter(value: unknown): unknown {
  if (typeof value === 'string')
    return value
  if (typeof value === 'number' && Number.isFinite(value))
    return value
  if (typeof value === 'boolean')
    return value ? 1 : 0
  if (value instanceof Date && !Number.isNaN(value.getTime()))
    return value.getTime()
  return undefined
}

function rangeParameter(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value))
    return value
  if (value instanceof Date && !Number.isNaN(value.getTime()))
    return value.getTime()
  return undefined
}

const rangeOperators: Record<string, string> = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }

class TermBuilder {
  readonly where: string[] = []
  readonly params: unknown[] = []

  equal(column: string, values: unknown[]): void {
    if (values.length === 1) {
      this.where.push(`${column} = ?`)
    }
    else {
      this.where.push(`${column} IN (${values.map(() => '?').join(', ')})`)
    }
    this.params.push(...values)
  }

  range(column: string, operator: string, value: number): void {
    this.where.push(`${column} ${operator} ?`)
    this.params.push(value)
    // Numbers sort below all text in SQLite, so this keeps a lower bound from taking strings.
    if (operator === '>' || operator === '>=')
      this.where.push(`${column} < ''`)
  }
}

/** Adds terms for one condition; returns whether any term was added. */
function addCondition(terms: TermBuilder, column: string, condition: unknown, toParameter: (value: unknown) => unknown, ranges: boolean): boolean {
  if (!isOperatorObject(condition)) {
    const parameter = toParameter(condition)
    if (parameter === undefined)
      return false
    terms.equal(column, [parameter])
    return true
  }
  let added = false
  for (const [operator, operand] of Object.entries(condition)) {
    if (operator === '$eq' || operator === '$in') {
      const operands = operator === '$eq' ? [operand] : operand
      if (!Array.isArray(operands) || operands.length === 0)
        continue
      const parameters = operands.map(toParameter)
      if (parameters.includes(undefined))
        continue
      terms.equal(column, parameters)
      added = true
    }
    else if (ranges && operator in rangeOperators) {
      const parameter = rangeParameter(operand)
      if (parameter === undefined)
        continue
      terms.range(column, rangeOperators[operator], parameter)
      added = true
    }
  }
  return added
}

function idParameter(value: unknown): unknown {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) ? idKey(value) : undefined
}

/** Builds the SQL candidate filter for a query, or null when no index applies (a full scan). */
export function planCandidates(query: Document, indexes: IndexInfo[]): SqlFilter | null {
  const conditions = new Map<string, unknown[]>()
  collectConditions(query, conditions)
  const usable = indexes.filter(index => !index.multikey)
  const indexedPaths = new Set(usable.flatMap(index => Object.keys(index.keys)))
  const terms = new TermBuilder()
  const constrained = new Set<string>()
  for (const [path, list] of conditions) {
    for (const condition of list) {
      const added = path === '_id'
        ? addCondition(terms, 'id', condition, idParameter, false)
        : indexedPaths.has(path) && addCondition(terms, keyExpression(path), condition, keyParameter, true)
      if (added)
        constrained.add(path)
    }
  }
  // A partial (sparse) index is only used when the query repeats its WHERE, which
  // a constrained leading field implies because every planned value is non-null.
  for (const index of usable) {
    if (index.sparse && constrained.has(Object.keys(index.keys)[0]))
      terms.where.push(sparsePredicate(index.keys))
  }
  return terms.where.length ? { where: terms.where, params: terms.params } : null
}
