import type { Params } from 'database-proxy'
import { ActionType } from 'database-proxy'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalAccessor } from '../../laf-cloud/local/store/accessor'
import { DocumentStore } from '../../laf-cloud/local/store/store'

const accessors: LocalAccessor[] = []

function createAccessor(): LocalAccessor {
  const accessor = new LocalAccessor(new DocumentStore(':memory:', 'app'))
  accessors.push(accessor)
  return accessor
}

afterEach(() => {
  for (const accessor of accessors.splice(0))
    accessor.close()
})

function params(action: ActionType, fields: Partial<Params> = {}): Params {
  return { collection: 'items', action, ...fields }
}

describe('localAccessor', () => {
  it('read result has MongoAccessor shape', async () => {
    const accessor = createAccessor()
    await accessor.execute(params(ActionType.ADD, { data: { n: 1 } }))
    const result = await accessor.execute(params(ActionType.READ, { query: {}, count: true }))
    expect(result).toEqual({ list: [{ n: 1, _id: expect.stringMatching(/^[0-9a-f]{24}$/) }], limit: 100, offset: 0, total: 1 })
  })

  it('dates go out as relaxed EJSON', async () => {
    const accessor = createAccessor()
    await accessor.execute(params(ActionType.ADD, { data: { at: { $date: '2024-01-01T00:00:00.123Z' } } }))
    const result = await accessor.execute(params(ActionType.READ, { query: {} }))
    expect(result.list[0].at).toEqual({ $date: '2024-01-01T00:00:00.123Z' })
  })

  it('replace keeps the id', async () => {
    const accessor = createAccessor()
    const { _id } = await accessor.execute(params(ActionType.ADD, { data: { n: 1, old: true } }))
    const result = await accessor.execute(params(ActionType.UPDATE, { query: { _id }, data: { n: 2 }, merge: false }))
    expect(result).toEqual({ upsert_id: null, updated: 1, matched: 1 })
    expect(await accessor.get('items', { _id })).toEqual({ _id, n: 2 })
  })

  it('multi update never upserts', async () => {
    const accessor = createAccessor()
    const result = await accessor.execute(params(ActionType.UPDATE, { query: { n: 1 }, data: { $set: { m: 1 } }, merge: true, multi: true, upsert: true }))
    expect(result).toEqual({ upsert_id: null, updated: 0, matched: 0 })
  })

  it('watch is not supported', async () => {
    const accessor = createAccessor()
    await expect(accessor.execute(params(ActionType.WATCH)))
      .rejects
      .toThrow('database action database.watchDocument is not supported by the local runtime')
  })

  it('rejects invalid collection names', async () => {
    const accessor = createAccessor()
    await expect(accessor.execute({ collection: 'a$b', action: ActionType.READ }))
      .rejects
      .toThrow('collection name "a$b" is invalid: at most 120 characters, no $ or NUL, not starting with "system."')
  })

  it('failed insert leaves no table', async () => {
    const accessor = createAccessor()
    await expect(accessor.execute(params(ActionType.ADD, { data: [{ n: 1 }, 'text'], multi: true })))
      .rejects
      .toThrow('a document to add must be an object')
    expect(await accessor.execute(params(ActionType.COUNT, { query: {} }))).toEqual({ total: 0 })
    expect(await accessor.execute(params(ActionType.ADD, { data: { n: 2 } }))).toMatchObject({ insertedCount: 1 })
  })

  it('listIndexes on missing collection fails', async () => {
    const accessor = createAccessor()
    await expect(accessor.execute(params(ActionType.LIST_INDEXES)))
      .rejects
      .toThrow('ns does not exist: app.items')
  })

  it('counts requests and rows read', async () => {
    const accessor = createAccessor()
    await accessor.execute(params(ActionType.ADD, { data: [{ n: 1 }, { n: 2 }], multi: true }))
    await accessor.execute(params(ActionType.READ, { query: { n: 2 } }))
    expect(accessor.store.stats).toEqual({ executes: 2, rowsRead: 2 })
  })
})
