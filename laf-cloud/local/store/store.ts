import type { Document, IndexInfo } from './types'
import Database from 'better-sqlite3'
import { decodeStored, encodeReply, encodeStored } from './ejson'
import { DuplicateKeyError, unsupported } from './errors'
import { getPath, hasArrayOnPath } from './paths'
import { tableName } from './sql'

/** Candidate filter in SQL: `where` terms joined by AND, with their parameters. */
export interface SqlFilter {
  where: string[]
  params: unknown[]
}

export interface StoredRow {
  rowid: number
  id: string
  document: Document
}

/** Counters for tests and benchmarks: how much work the store did. */
export interface StoreStats {
  /** Calls of the accessor's `execute`, one per database-ql request. */
  executes: number
  /** Documents read from SQLite, before mingo filters them. */
  rowsRead: number
}

/** Text of the `id` column: the `_id` as JSON, so string and number ids never collide. */
export function idKey(id: unknown): string {
  return JSON.stringify(encodeReply({ id }).id)
}

/**
 * SQLite file of one app: a table per collection (`id`, `doc` as JSON text) and
 * the `__indexes` table with the index definitions.
 */
export class DocumentStore {
  readonly stats: StoreStats = { executes: 0, rowsRead: 0 }
  private readonly db: Database.Database
  private readonly collections = new Set<string>()
  private readonly indexes = new Map<string, IndexInfo[]>()

  /** Opens or creates the file; `namespace` names the database in E11000 messages. */
  constructor(file: string, readonly namespace: string) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    // FULL syncs the WAL on every commit, so a write is on disk (and survives a
    // power cut, not only a crash) before execute returns. NORMAL would not.
    this.db.pragma('synchronous = FULL')
    this.db.exec(`CREATE TABLE IF NOT EXISTS __indexes (
      collection TEXT NOT NULL, name TEXT NOT NULL, keys TEXT NOT NULL,
      is_unique INTEGER NOT NULL, sparse INTEGER NOT NULL, multikey INTEGER NOT NULL,
      PRIMARY KEY (collection, name))`)
    this.loadCatalog()
  }

  private loadCatalog(): void {
    this.collections.clear()
    this.indexes.clear()
    const tables = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c:%'`).all() as { name: string }[]
    for (const { name } of tables)
      this.collections.add(name.slice(2))
    const rows = this.db.prepare('SELECT * FROM __indexes ORDER BY rowid').all() as Record<string, any>[]
    for (const row of rows) {
      const list = this.indexes.get(row.collection) ?? []
      list.push({ name: row.name, keys: JSON.parse(row.keys), unique: !!row.is_unique, sparse: !!row.sparse, multikey: !!row.multikey })
      this.indexes.set(row.collection, list)
    }
  }

  /** Runs `work` in one IMMEDIATE transaction, so no other write interleaves. */
  transaction<T>(work: () => T): T {
    try {
      return this.db.transaction(work).immediate()
    }
    catch (error) {
      // A rollback also undoes CREATE TABLE and index changes, so the cached catalog may be wrong.
      this.loadCatalog()
      throw error
    }
  }

  hasCollection(collection: string): boolean {
    return this.collections.has(collection)
  }

  ensureCollection(collection: string): void {
    if (this.collections.has(collection))
      return
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${tableName(collection)} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`)
    this.collections.add(collection)
  }

  indexesOf(collection: string): IndexInfo[] {
    return this.indexes.get(collection) ?? []
  }

  /** Runs DDL or metadata SQL of the index module. */
  run(sql: string, ...params: unknown[]): void {
    this.db.prepare(sql).run(...params)
  }

  saveIndex(collection: string, index: IndexInfo): void {
    this.run(
      'INSERT OR REPLACE INTO __indexes (collection, name, keys, is_unique, sparse, multikey) VALUES (?, ?, ?, ?, ?, ?)',
      collection,
      index.name,
      JSON.stringify(index.keys),
      Number(index.unique),
      Number(index.sparse),
      Number(index.multikey),
    )
    const list = this.indexesOf(collection).filter(existing => existing.name !== index.name)
    this.indexes.set(collection, [...list, index])
  }

  forgetIndex(collection: string, name: string): void {
    this.run('DELETE FROM __indexes WHERE collection = ? AND name = ?', collection, name)
    this.indexes.set(collection, this.indexesOf(collection).filter(index => index.name !== name))
  }

  /** Reads the rows that pass `filter` (all rows without one), in insertion order. */
  select(collection: string, filter: SqlFilter | null): StoredRow[] {
    if (!this.collections.has(collection))
      return []
    const sql = this.selectSql(collection, filter)
    const rows = this.db.prepare(sql).all(...(filter?.params ?? [])) as { rowid: number, id: string, doc: string }[]
    this.stats.rowsRead += rows.length
    rows.sort((a, b) => a.rowid - b.rowid)
    return rows.map(row => ({ rowid: row.rowid, id: row.id, document: decodeStored(row.doc) }))
  }

  /** Returns SQLite's EXPLAIN QUERY PLAN lines for the candidate query. */
  explain(collection: string, filter: SqlFilter | null): string[] {
    if (!this.collections.has(collection))
      return []
    const sql = `EXPLAIN QUERY PLAN ${this.selectSql(collection, filter)}`
    const rows = this.db.prepare(sql).all(...(filter?.params ?? [])) as { detail: string }[]
    return rows.map(row => row.detail)
  }

  private selectSql(collection: string, filter: SqlFilter | null): string {
    const where = filter?.where.length ? ` WHERE ${filter.where.join(' AND ')}` : ''
    return `SELECT rowid, id, doc FROM ${tableName(collection)}${where}`
  }

  insert(collection: string, document: Document): void {
    this.ensureCollection(collection)
    this.checkIndexedArrays(collection, document)
    this.write(collection, document, () =>
      this.run(`INSERT INTO ${tableName(collection)} (id, doc) VALUES (?, ?)`, idKey(document._id), encodeStored(document)))
  }

  replace(collection: string, id: string, document: Document): void {
    this.checkIndexedArrays(collection, document)
    this.write(collection, document, () =>
      this.run(`UPDATE ${tableName(collection)} SET doc = ? WHERE id = ?`, encodeStored(document), id))
  }

  countAll(collection: string): number {
    if (!this.collections.has(collection))
      return 0
    return (this.db.prepare(`SELECT count(*) AS total FROM ${tableName(collection)}`).get() as { total: number }).total
  }

  delete(collection: string, ids: string[]): void {
    const statement = this.db.prepare(`DELETE FROM ${tableName(collection)} WHERE id = ?`)
    for (const id of ids)
      statement.run(id)
  }

  close(): void {
    if (this.db.open)
      this.db.close()
  }

  // NOTE: MongoDB indexes every element of an array, and a unique index then
  // forbids an element that another document holds. The store cannot honour
  // that, so it rejects arrays in uniquely indexed fields, and marks other
  // indexes multikey so that the planner stops using them.
  private checkIndexedArrays(collection: string, document: Document): void {
    for (const index of this.indexesOf(collection)) {
      const path = Object.keys(index.keys).find(key => hasArrayOnPath(document, key))
      if (path === undefined)
        continue
      if (index.unique)
        throw unsupported(`an array in the uniquely indexed field "${path}" (index ${index.name})`)
      if (!index.multikey)
        this.saveIndex(collection, { ...index, multikey: true })
    }
  }

  private write(collection: string, document: Document, statement: () => void): void {
    try {
      statement()
    }
    catch (error) {
      throw this.duplicateKeyError(collection, document, error) ?? error
    }
  }

  /** Maps SQLite's unique constraint error to MongoDB's E11000, naming the index and the key. */
  duplicateKeyError(collection: string, document: Document | null, error: unknown): DuplicateKeyError | null {
    const code = (error as { code?: unknown }).code
    if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return null
    const prefix = `i:${collection}:`
    const quoted = /index '(.*)'$/.exec((error as Error).message)?.[1]
    const namespace = `${this.namespace}.${collection}`
    if (!quoted?.startsWith(prefix))
      return new DuplicateKeyError(namespace, '_id_', document ? { _id: encodeReply({ id: document._id }).id } : null)
    const name = quoted.slice(prefix.length)
    const index = this.indexesOf(collection).find(existing => existing.name === name)
    const keyValue = document && index
      ? Object.fromEntries(Object.keys(index.keys).map(key => [key, encodeReply({ v: getPath(document, key) ?? null }).v]))
      : null
    return new DuplicateKeyError(namespace, name, keyValue)
  }
}
