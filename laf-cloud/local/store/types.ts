export type Document = Record<string, any>

/** Index key pattern: field path to direction, in key order. */
export type IndexKeys = Record<string, 1 | -1>

/** An index as the store keeps it; `_id_` is implicit and not listed. */
export interface IndexInfo {
  name: string
  keys: IndexKeys
  unique: boolean
  sparse: boolean
  /** Set once a document contains an array on one of the key paths; the planner skips such indexes. */
  multikey: boolean
}
