import type { DocumentStore, StoredRow } from './store'
import type { Document } from './types'
import { Query } from 'mingo'
import { translateMingoError } from './errors'
import { planCandidates } from './planner'

/** Compiles a query with mingo; an unknown operator fails here, even on an empty collection. */
export function compileQuery(query: Document): Query {
  if (typeof query !== 'object' || query === null || Array.isArray(query))
    throw new Error('query must be an object')
  try {
    return new Query(query)
  }
  catch (error) {
    throw translateMingoError(error, 'query operator')
  }
}

/** Reads the rows that match the query, in insertion order: indexed candidates filtered by mingo. */
export function findRows(store: DocumentStore, collection: string, query: Document): StoredRow[] {
  const compiled = compileQuery(query)
  const filter = planCandidates(query, store.indexesOf(collection))
  try {
    return store.select(collection, filter).filter(row => compiled.test(row.document))
  }
  catch (error) {
    throw translateMingoError(error, 'query operator')
  }
}

/** Returns SQLite's plan for the candidate query, to check that an index is used. */
export function explainQuery(store: DocumentStore, collection: string, query: Document): string[] {
  return store.explain(collection, planCandidates(query, store.indexesOf(collection)))
}
