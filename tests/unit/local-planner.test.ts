import type { IndexInfo } from '../../laf-cloud/local/store/types'
import { describe, expect, it } from 'vitest'
import { planCandidates } from '../../laf-cloud/local/store/planner'
import { keyExpression } from '../../laf-cloud/local/store/sql'

function index(keys: IndexInfo['keys'], options: Partial<IndexInfo> = {}): IndexInfo {
  return { name: Object.keys(keys).join('_'), keys, unique: false, sparse: false, multikey: false, ...options }
}

const url = keyExpression('clientUrl')
const since = keyExpression('watchedSince')

describe('planCandidates', () => {
  it('equality on indexed field', () => {
    expect(planCandidates({ clientUrl: 'a' }, [index({ clientUrl: 1 })])).toEqual({ where: [`${url} = ?`], params: ['a'] })
  })

  it('dates and booleans as keys', () => {
    const at = keyExpression('at')
    const plan = planCandidates({ at: new Date(5), paused: false }, [index({ at: 1 }), index({ paused: 1 })])
    expect(plan).toEqual({ where: [`${at} = ?`, `${keyExpression('paused')} = ?`], params: [5, 0] })
  })

  it('$in becomes IN', () => {
    expect(planCandidates({ clientUrl: { $in: ['a', 'b'] } }, [index({ clientUrl: 1 })])).toEqual({ where: [`${url} IN (?, ?)`], params: ['a', 'b'] })
  })

  it('numeric range keeps to numbers', () => {
    const plan = planCandidates({ watchedSince: { $gte: 1, $lt: 9 } }, [index({ watchedSince: 1 })])
    expect(plan).toEqual({ where: [`${since} >= ?`, `${since} < ''`, `${since} < ?`], params: [1, 9] })
  })

  it('string range is not planned', () => {
    expect(planCandidates({ clientUrl: { $gt: 'a' } }, [index({ clientUrl: 1 })])).toBeNull()
  })

  it('_id uses the primary key', () => {
    expect(planCandidates({ _id: 'abc' }, [])).toEqual({ where: ['id = ?'], params: ['"abc"'] })
  })

  it('$and branches are planned', () => {
    const plan = planCandidates({ $and: [{ clientUrl: 'a' }, { state: 2 }] }, [index({ clientUrl: 1 })])
    expect(plan).toEqual({ where: [`${url} = ?`], params: ['a'] })
  })

  it('no index means no filter', () => {
    expect(planCandidates({ clientUrl: 'a' }, [])).toBeNull()
  })

  it('multikey index is skipped', () => {
    expect(planCandidates({ tags: 'a' }, [index({ tags: 1 }, { multikey: true })])).toBeNull()
  })

  it('null, regex and $or are skipped', () => {
    const indexes = [index({ clientUrl: 1 })]
    expect(planCandidates({ clientUrl: null }, indexes)).toBeNull()
    expect(planCandidates({ clientUrl: /a/ }, indexes)).toBeNull()
    expect(planCandidates({ $or: [{ clientUrl: 'a' }] }, indexes)).toBeNull()
    expect(planCandidates({ clientUrl: { $in: ['a', null] } }, indexes)).toBeNull()
  })

  it('sparse index adds its predicate', () => {
    const plan = planCandidates({ keyHash: 'h' }, [index({ keyHash: 1 }, { sparse: true })])
    expect(plan?.where).toEqual([`${keyExpression('keyHash')} = ?`, `(json_type(doc, '$."keyHash"') IS NOT NULL)`])
  })
})
