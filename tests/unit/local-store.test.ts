import { describe, expect, it } from 'vitest'
import { decodeEjson, decodeStored, encodeStored } from '../../laf-cloud/local/store/ejson'
import { applyUpdate, seedFromQuery, validateModifier } from '../../laf-cloud/local/store/update'

describe('stored encoding', () => {
  it('dates become milliseconds', () => {
    const text = encodeStored({ at: new Date(1500), before: new Date(-1500), n: 1.5 })
    expect(JSON.parse(text)).toEqual({ at: { $date: 1500 }, before: { $date: -1500 }, n: 1.5 })
  })

  it('round trip keeps types', () => {
    const document = decodeStored(encodeStored({ at: new Date(1500), nested: { list: [new Date(0), 'x'] } }))
    expect(document.at).toEqual(new Date(1500))
    expect(document.nested.list[0]).toEqual(new Date(0))
    expect(document.nested.list[1]).toBe('x')
  })
})

describe('decodeEjson', () => {
  it('decodes dates and patterns', () => {
    const query = decodeEjson({ at: { $date: '2024-01-01T00:00:00.000Z' }, name: { $regex: '^a', $options: 'i' } })
    expect(query.at).toEqual(new Date('2024-01-01T00:00:00.000Z'))
    expect(query.name).toEqual(/^a/i)
  })

  it('rejects the x option', () => {
    expect(() => decodeEjson({ name: { $regex: 'a b', $options: 'x' } }))
      .toThrow('regular expression option x (in /a b/x) is not supported by the local runtime')
  })
})

describe('updates', () => {
  it('seeds upserts from equality', () => {
    expect(seedFromQuery({ 'name': 'a', 'meta.kind': 'x', 'n': { $gt: 1 }, 'm': { $eq: 2 }, '$and': [{ o: 3 }] }))
      .toEqual({ name: 'a', meta: { kind: 'x' }, m: 2, o: 3 })
  })

  it('$setOnInsert applies on insert only', () => {
    const inserted: Record<string, unknown> = { _id: '1' }
    applyUpdate(inserted, { $set: { a: 1 }, $setOnInsert: { created: true } }, true)
    expect(inserted).toEqual({ _id: '1', a: 1, created: true })
    const existing: Record<string, unknown> = { _id: '2' }
    applyUpdate(existing, { $set: { a: 1 }, $setOnInsert: { created: true } }, false)
    expect(existing).toEqual({ _id: '2', a: 1 })
  })

  it('reports whether anything changed', () => {
    expect(applyUpdate({ _id: '1', a: 1 }, { $set: { a: 1 } }, false)).toBe(false)
    expect(applyUpdate({ _id: '1', a: 1 }, { $inc: { a: 1 } }, false)).toBe(true)
  })

  it('_id cannot change', () => {
    expect(() => applyUpdate({ _id: '1' }, { $set: { _id: '2' } }, false))
      .toThrow('Performing an update on the path \'_id\' would modify the immutable field \'_id\'')
  })

  it('checks operators before running', () => {
    expect(() => validateModifier({ name: 'a' })).toThrow('Update document requires atomic operators, got field "name"')
    expect(() => validateModifier({ $where: {} })).toThrow('update operator $where is not supported by the local runtime')
  })
})
