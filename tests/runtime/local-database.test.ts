import type { Db } from 'database-ql'
import type { TestApp } from './local-helpers'
import { afterEach, describe, expect, it } from 'vitest'
import { removeTempDirs, startTestApp } from './local-helpers'

const started: TestApp[] = []

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp & { db: Db }> {
  const test = await startTestApp(options)
  started.push(test)
  // The fixture returns its app's cloud.database(), so queries below go through the real SDK.
  const db = await test.app.invoke('database') as Db
  return { ...test, db }
}

afterEach(async () => {
  for (const test of started.splice(0))
    await test.app.close()
  removeTempDirs()
})

describe('crud', () => {
  it('add then getOne', async () => {
    const { db } = await start()
    const added = await db.collection('users').add({ name: 'ada', age: 36 })
    expect(added.ok).toBe(true)
    expect(added.id).toMatch(/^[0-9a-f]{24}$/)
    const found = await db.collection('users').where({ name: 'ada' }).getOne()
    expect(found.data).toEqual({ _id: added.id, name: 'ada', age: 36 })
  })

  it('multi add returns ids by position', async () => {
    const { db } = await start()
    const added = await db.collection('users').add([{ name: 'a' }, { name: 'b' }], { multi: true })
    expect(added.insertedCount).toBe(2)
    // database-ql types `id` as one id, but a multi add returns MongoDB's insertedIds object.
    const ids = added.id as unknown as Record<string, string>
    expect(Object.keys(ids)).toEqual(['0', '1'])
    expect(ids[1]).toMatch(/^[0-9a-f]{24}$/)
  })

  it('update touches one unless multi', async () => {
    const { db } = await start()
    const users = db.collection('users')
    await users.add([{ team: 'x', score: 1 }, { team: 'x', score: 1 }, { team: 'y', score: 1 }], { multi: true })
    const single = await users.where({ team: 'x' }).update({ score: db.command.inc(1) })
    expect([single.matched, single.updated]).toEqual([1, 1])
    const many = await users.where({ team: 'x' }).update({ score: db.command.inc(10) }, { multi: true })
    expect([many.matched, many.updated]).toEqual([2, 2])
    const scores = (await users.where({ team: 'x' }).get()).data.map(user => user.score)
    expect(scores).toEqual([12, 11])
  })

  it('remove deletes one unless multi', async () => {
    const { db } = await start()
    const users = db.collection('users')
    await users.add([{ team: 'x' }, { team: 'x' }, { team: 'x' }], { multi: true })
    expect((await users.where({ team: 'x' }).remove()).deleted).toBe(1)
    expect((await users.where({ team: 'x' }).remove({ multi: true })).deleted).toBe(2)
    expect((await users.count()).total).toBe(0)
  })

  it('orderBy skip and limit', async () => {
    const { db } = await start()
    const items = db.collection('items')
    await items.add([5, 3, 9, 1, 7].map(rank => ({ rank })), { multi: true })
    const page = await items.where({}).orderBy('rank', 'desc').skip(1).limit(2).get()
    expect(page.data.map(item => item.rank)).toEqual([7, 5])
    const second = await items.where({}).orderBy('rank', 'asc').page({ current: 2, size: 2 }).get()
    expect(second.data.map(item => item.rank)).toEqual([5, 7])
  })

  it('field projection', async () => {
    const { db } = await start()
    await db.collection('users').add({ name: 'ada', secret: 'x' })
    const found = await db.collection('users').where({}).field({ secret: 0 }).getOne()
    expect(Object.keys(found.data).sort()).toEqual(['_id', 'name'])
  })

  it('doc set upserts by id', async () => {
    const { db } = await start()
    const result = await db.collection('settings').doc('site').set({ title: 'Heartbeat' })
    expect(result.upsertId).toBe('site')
    const found = await db.collection('settings').doc('site').get()
    expect(found.data).toEqual({ _id: 'site', title: 'Heartbeat' })
  })

  it('upsert seeds from query', async () => {
    const { db } = await start()
    const result = await db.collection('counters').where({ name: 'hits' }).update({ value: db.command.inc(1) }, { upsert: true })
    expect(result.upsertId).toMatch(/^[0-9a-f]{24}$/)
    const found = await db.collection('counters').where({ name: 'hits' }).getOne()
    expect(found.data).toEqual({ _id: result.upsertId, name: 'hits', value: 1 })
  })

  it('dates come back as Date', async () => {
    const { db } = await start()
    const at = new Date('2024-05-01T10:00:00.000Z')
    await db.collection('events').add({ at })
    const found = await db.collection('events').where({ at: db.command.lt(new Date('2024-06-01T00:00:00.000Z')) }).getOne()
    expect(found.data.at).toBeInstanceOf(Date)
    expect(found.data.at.toISOString()).toBe('2024-05-01T10:00:00.000Z')
  })
})

describe('queries', () => {
  it('$expr compares two fields', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.add([{ id: 'a', errorCount: 3, errorMax: 3 }, { id: 'b', errorCount: 1, errorMax: 3 }], { multi: true })
    const result = await clients.where({ $expr: { $gte: ['$errorCount', '$errorMax'] } }).get()
    expect(result.data.map(client => client.id)).toEqual(['a'])
  })

  it('$in and $or', async () => {
    const { db } = await start()
    const items = db.collection('items')
    await items.add([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], { multi: true })
    const _ = db.command
    expect((await items.where({ n: _.in([1, 3]) }).count()).total).toBe(2)
    expect((await items.where(_.or([{ n: 1 }, { n: _.gt(3) }])).count()).total).toBe(2)
  })

  it('regular expressions match', async () => {
    const { db } = await start()
    await db.collection('users').add([{ name: 'Ada' }, { name: 'Bob' }], { multi: true })
    const result = await db.collection('users').where({ name: /^a/i }).get()
    expect(result.data.map(user => user.name)).toEqual(['Ada'])
  })

  it('conditional update is atomic', async () => {
    const { db } = await start()
    const slots = db.collection('slots')
    await slots.add({ slot: 1, taken: false })
    const attempts = await Promise.all(Array.from({ length: 10 }, () =>
      slots.where({ slot: 1, taken: false }).update({ taken: true })))
    expect(attempts.filter(attempt => attempt.updated === 1)).toHaveLength(1)
  })
})

describe('unique index', () => {
  it('duplicate fails like MongoDB', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    const created = await clients.createIndex({ clientUrl: 1 }, { unique: true })
    expect(created.indexName).toBe('clientUrl_1')
    await clients.add({ clientUrl: 'https://a.example' })
    const error = await clients.add({ clientUrl: 'https://a.example' }).catch(caught => caught)
    expect(error.message).toBe('E11000 duplicate key error collection: test.clients index: clientUrl_1 dup key: {"clientUrl":"https://a.example"}')
    expect(error.code).toBe(11000)
    expect((await clients.count()).total).toBe(1)
  })

  it('update into a duplicate fails', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 }, { unique: true })
    await clients.add([{ clientUrl: 'a' }, { clientUrl: 'b' }], { multi: true })
    const error = await clients.where({ clientUrl: 'b' }).update({ clientUrl: 'a' }).catch(caught => caught)
    expect(error.code).toBe(11000)
    expect((await clients.where({ clientUrl: 'b' }).count()).total).toBe(1)
  })

  it('index on existing duplicates fails', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.add([{ clientUrl: 'a' }, { clientUrl: 'a' }], { multi: true })
    const error = await clients.createIndex({ clientUrl: 1 }, { unique: true }).catch(caught => caught)
    expect(error.code).toBe(11000)
    expect(error.message).toBe('E11000 duplicate key error collection: test.clients index: clientUrl_1')
  })

  it('creating it twice is a no-op', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 }, { unique: true })
    const again = await clients.createIndex({ clientUrl: 1 }, { unique: true })
    expect(again.indexName).toBe('clientUrl_1')
    const indexes = await clients.listIndexes()
    expect(indexes.list).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { clientUrl: 1 }, name: 'clientUrl_1', unique: true },
    ])
  })

  it('same name other options fails', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 })
    const error = await clients.createIndex({ clientUrl: 1 }, { unique: true }).catch(caught => caught)
    expect(error.message).toBe('An existing index has the same name as the requested index: clientUrl_1')
    expect(error.code).toBe(86)
  })

  it('sparse unique allows missing fields', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ keyHash: 1 }, { unique: true, sparse: true })
    await clients.add([{ name: 'a' }, { name: 'b' }], { multi: true })
    await clients.add({ keyHash: 'h1' })
    const error = await clients.add({ keyHash: 'h1' }).catch(caught => caught)
    expect(error.code).toBe(11000)
  })

  it('dropIndex removes the rule', async () => {
    const { db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 }, { unique: true })
    const dropped = await clients.dropIndex('clientUrl_1')
    expect(dropped.result).toEqual({ nIndexesWas: 2, ok: 1 })
    await clients.add([{ clientUrl: 'a' }, { clientUrl: 'a' }], { multi: true })
    expect((await clients.count()).total).toBe(2)
  })
})

describe('index use', () => {
  it('equality reads one row', async () => {
    const { app, db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 }, { unique: true })
    await clients.add(Array.from({ length: 200 }, (_, i) => ({ clientUrl: `https://c${i}.example` })), { multi: true })
    const before = app.databaseStats!().rowsRead
    const found = await clients.where({ clientUrl: 'https://c150.example' }).getOne()
    expect(found.data.clientUrl).toBe('https://c150.example')
    expect(app.databaseStats!().rowsRead - before).toBe(1)
  })

  it('query plan uses the index', async () => {
    const { app, db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ clientUrl: 1 }, { unique: true })
    await clients.createIndex({ watchedSince: 1 })
    await clients.add({ clientUrl: 'a', watchedSince: 5 })
    expect(app.explainQuery!('clients', { clientUrl: 'a' })).toEqual(['SEARCH c:clients USING INDEX i:clients:clientUrl_1 (<expr>=?)'])
    expect(app.explainQuery!('clients', { clientUrl: { $in: ['a', 'b'] } })).toEqual(['SEARCH c:clients USING INDEX i:clients:clientUrl_1 (<expr>=?)'])
    expect(app.explainQuery!('clients', { watchedSince: { $lt: 10 } })).toEqual(['SEARCH c:clients USING INDEX i:clients:watchedSince_1 (<expr><?)'])
    expect(app.explainQuery!('clients', { state: 2 })).toEqual(['SCAN c:clients'])
  })

  it('range reads only matching rows', async () => {
    const { app, db } = await start()
    const clients = db.collection('clients')
    await clients.createIndex({ watchedSince: 1 })
    await clients.add(Array.from({ length: 100 }, (_, i) => ({ watchedSince: i })), { multi: true })
    const before = app.databaseStats!().rowsRead
    const due = await clients.where({ watchedSince: db.command.lt(10) }).count()
    expect(due.total).toBe(10)
    expect(app.databaseStats!().rowsRead - before).toBe(10)
  })

  it('array values stop index use', async () => {
    const { app, db } = await start()
    const items = db.collection('items')
    await items.createIndex({ tags: 1 })
    await items.add([{ tags: 'a' }, { tags: ['a', 'b'] }], { multi: true })
    expect((await items.where({ tags: 'a' }).count()).total).toBe(2)
    expect(app.explainQuery!('items', { tags: 'a' })).toEqual(['SCAN c:items'])
  })
})

describe('persistence', () => {
  it('data and indexes survive restart', async () => {
    const first = await start()
    await first.db.collection('clients').createIndex({ clientUrl: 1 }, { unique: true })
    await first.db.collection('clients').add({ clientUrl: 'kept', at: new Date(0) })
    await first.app.close()
    const second = await start({ dataDir: first.dataDir })
    const found = await second.db.collection('clients').where({ clientUrl: 'kept' }).getOne()
    expect(found.data.at).toEqual(new Date(0))
    const error = await second.db.collection('clients').add({ clientUrl: 'kept' }).catch(caught => caught)
    expect(error.code).toBe(11000)
  })
})

describe('unsupported', () => {
  it('query operator fails clearly', async () => {
    const { db } = await start()
    await expect(db.collection('places').where({ loc: { $near: [0, 0] } }).get())
      .rejects
      .toThrow('query operator $near is not supported by the local runtime')
  })

  it('update operator fails clearly', async () => {
    const { db } = await start()
    await db.collection('items').add({ n: 1 })
    await expect(db.collection('items').where({}).update({ $currentDatex: { at: true } } as any))
      .rejects
      .toThrow('update operator $currentDatex is not supported by the local runtime')
  })

  it('index type fails clearly', async () => {
    const { db } = await start()
    await expect(db.collection('places').createIndex({ loc: '2dsphere' } as any))
      .rejects
      .toThrow('index type "2dsphere" on field "loc" (only 1 and -1) is not supported by the local runtime')
  })

  it('index option fails clearly', async () => {
    const { db } = await start()
    await expect(db.collection('sessions').createIndex({ at: 1 }, { expireAfterSeconds: 60 }))
      .rejects
      .toThrow('index option expireAfterSeconds is not supported by the local runtime')
  })

  it('array in unique field fails', async () => {
    const { db } = await start()
    await db.collection('users').createIndex({ emails: 1 }, { unique: true })
    await expect(db.collection('users').add({ emails: ['a@example.com'] }))
      .rejects
      .toThrow('an array in the uniquely indexed field "emails" (index emails_1) is not supported by the local runtime')
  })
})

describe('aggregate', () => {
  it('group after match', async () => {
    const { db } = await start()
    const items = db.collection('items')
    await items.add([{ team: 'x', n: 1 }, { team: 'x', n: 2 }, { team: 'y', n: 5 }], { multi: true })
    const result = await items.aggregate().match({ n: db.command.lt(5) }).group({ _id: '$team', total: db.command.aggregate.sum('$n') }).end()
    expect(result.data).toEqual([{ _id: 'x', total: 3 }])
  })

  it('write stage fails clearly', async () => {
    const { db } = await start()
    await db.collection('items').add({ n: 1 })
    await expect(db.collection('items').aggregate([{ $match: {} }, { $out: 'copy' }]).end())
      .rejects
      .toThrow('aggregation stage $out is not supported by the local runtime')
  })
})
