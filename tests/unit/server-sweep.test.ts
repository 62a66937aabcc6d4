import type { Settings, SweepFields } from '../../laf-cloud/functions/__heartbeat_server_test'
import { describe, expect, it } from 'vitest'
import { canRetry, decideSweep, lateCutoff, MAX_NOTICE_FAILURES, readSettings, retryIntervals, sweepSlot } from '../../laf-cloud/functions/__heartbeat_server_test'

const settings: Settings = readSettings({})
const NOW = 1_700_000_000_000
// 60 s late-after plus a 6 s jitter tolerance.
const LATE_MS = 66_000

function client(overrides: Partial<SweepFields> = {}): SweepFields {
  return {
    state: 2,
    paused: false,
    updatedAt: NOW - 10_000,
    watchedSince: NOW - 10_000,
    errorCount: 0,
    errorMax: 3,
    noticeCount: 0,
    noticeMax: 3,
    sendUrl: 'https://push.example.com/{status}',
    noticeFailures: 0,
    recoveryPending: false,
    recoveryFailures: 0,
    lastFailureAt: null,
    ...overrides,
  }
}

const NOTHING = { late: false, incrementError: false, sendNotice: false, sendRecovery: false }

describe('lateCutoff', () => {
  it('adds a tenth as jitter', () => {
    expect(lateCutoff(NOW, settings)).toBe(NOW - LATE_MS)
    expect(lateCutoff(NOW, readSettings({ HEARTBEAT_LATE_AFTER_SECONDS: '1' }))).toBe(NOW - 1100)
  })
})

describe('decideSweep boundary', () => {
  it('exactly at cutoff is not late', () => {
    expect(decideSweep(client({ watchedSince: NOW - LATE_MS }), NOW, settings)).toEqual(NOTHING)
  })

  it('one ms past cutoff is late', () => {
    expect(decideSweep(client({ watchedSince: NOW - LATE_MS - 1 }), NOW, settings)).toEqual({ ...NOTHING, late: true, incrementError: true })
  })

  it('one ms before cutoff is not late', () => {
    expect(decideSweep(client({ watchedSince: NOW - LATE_MS + 1 }), NOW, settings)).toEqual(NOTHING)
  })

  it('fresh heartbeat is not late', () => {
    expect(decideSweep(client({ watchedSince: NOW }), NOW, settings)).toEqual(NOTHING)
  })
})

describe('decideSweep counters', () => {
  const late = NOW - LATE_MS - 1

  it('counts below errorMax', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 2 }), NOW, settings)).toEqual({ ...NOTHING, late: true, incrementError: true })
  })

  it('sends notice at errorMax', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3 }), NOW, settings)).toEqual({ ...NOTHING, late: true, sendNotice: true })
  })

  it('sends notice above lowered errorMax', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3, errorMax: 1 }), NOW, settings)).toEqual({ ...NOTHING, late: true, sendNotice: true })
  })

  it('stops at noticeMax', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3, noticeCount: 3 }), NOW, settings)).toEqual({ ...NOTHING, late: true })
  })

  it('stops above lowered noticeMax', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3, noticeCount: 2, noticeMax: 1 }), NOW, settings)).toEqual({ ...NOTHING, late: true })
  })

  it('noticeMax zero sends nothing', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3, noticeMax: 0 }), NOW, settings)).toEqual({ ...NOTHING, late: true })
  })

  it('no notice without sendUrl', () => {
    expect(decideSweep(client({ watchedSince: late, errorCount: 3, sendUrl: '' }), NOW, settings)).toEqual({ ...NOTHING, late: true })
  })

  it('retries a failed notice', () => {
    const decision = decideSweep(client({ watchedSince: late, errorCount: 3, noticeFailures: MAX_NOTICE_FAILURES - 1 }), NOW, settings)
    expect(decision).toEqual({ ...NOTHING, late: true, sendNotice: true })
  })

  it('backs off after max failures', () => {
    const failing = { watchedSince: late, errorCount: 3, noticeFailures: MAX_NOTICE_FAILURES + 1 }
    expect(decideSweep(client({ ...failing, lastFailureAt: NOW - 60_000 }), NOW, settings)).toEqual({ ...NOTHING, late: true })
    expect(decideSweep(client({ ...failing, lastFailureAt: NOW - 120_000 }), NOW, settings)).toEqual({ ...NOTHING, late: true, sendNotice: true })
  })
})

describe('decideSweep skips', () => {
  const late = NOW - LATE_MS - 1

  it('skips paused clients', () => {
    expect(decideSweep(client({ watchedSince: late, paused: true }), NOW, settings)).toEqual(NOTHING)
    expect(decideSweep(client({ watchedSince: late, paused: true, errorCount: 3 }), NOW, settings)).toEqual(NOTHING)
  })

  it('skips registered clients', () => {
    expect(decideSweep(client({ state: 0, watchedSince: null }), NOW, settings)).toEqual(NOTHING)
  })

  it('judges waiting clients', () => {
    expect(decideSweep(client({ state: 1, watchedSince: late }), NOW, settings)).toEqual({ ...NOTHING, late: true, incrementError: true })
  })

  it('ignores a missing watchedSince', () => {
    expect(decideSweep(client({ watchedSince: null }), NOW, settings)).toEqual(NOTHING)
  })
})

describe('decideSweep recovery', () => {
  it('sends pending recovery', () => {
    expect(decideSweep(client({ recoveryPending: true }), NOW, settings)).toEqual({ ...NOTHING, sendRecovery: true })
  })

  it('holds recovery while paused', () => {
    expect(decideSweep(client({ recoveryPending: true, paused: true }), NOW, settings)).toEqual(NOTHING)
  })

  it('holds recovery without sendUrl', () => {
    expect(decideSweep(client({ recoveryPending: true, sendUrl: '' }), NOW, settings)).toEqual(NOTHING)
  })

  it('backs off recovery after max failures', () => {
    const failing = { recoveryPending: true, recoveryFailures: MAX_NOTICE_FAILURES + 2 }
    expect(decideSweep(client({ ...failing, lastFailureAt: NOW - 180_000 }), NOW, settings)).toEqual(NOTHING)
    expect(decideSweep(client({ ...failing, lastFailureAt: NOW - 240_000 }), NOW, settings)).toEqual({ ...NOTHING, sendRecovery: true })
  })

  it('holds recovery when late again', () => {
    const late = NOW - LATE_MS - 1
    const decision = decideSweep(client({ recoveryPending: true, updatedAt: late, watchedSince: late }), NOW, settings)
    expect(decision).toEqual({ ...NOTHING, late: true, incrementError: true })
  })

  it('holds recovery after resume', () => {
    const decision = decideSweep(client({ recoveryPending: true, updatedAt: NOW - LATE_MS - 1, watchedSince: NOW }), NOW, settings)
    expect(decision).toEqual(NOTHING)
  })

  it('sends recovery at cutoff', () => {
    const decision = decideSweep(client({ recoveryPending: true, updatedAt: NOW - LATE_MS, watchedSince: NOW - LATE_MS }), NOW, settings)
    expect(decision).toEqual({ ...NOTHING, sendRecovery: true })
  })

  it('holds recovery without heartbeat', () => {
    expect(decideSweep(client({ recoveryPending: true, updatedAt: null }), NOW, settings)).toEqual(NOTHING)
  })
})

describe('retry backoff', () => {
  it('waits one interval below max', () => {
    expect(retryIntervals(0)).toBe(1)
    expect(retryIntervals(MAX_NOTICE_FAILURES - 1)).toBe(1)
  })

  it('doubles up to sixty', () => {
    expect([5, 6, 7, 8, 10, 11, 64].map(retryIntervals)).toEqual([1, 2, 4, 8, 32, 60, 60])
  })

  it('allows half an interval early', () => {
    expect(canRetry(6, NOW - 90_000, NOW, settings)).toBe(true)
    expect(canRetry(6, NOW - 89_999, NOW, settings)).toBe(false)
  })

  it('retries at once below max', () => {
    expect(canRetry(MAX_NOTICE_FAILURES - 1, NOW, NOW, settings)).toBe(true)
  })

  it('retries records without a failure time', () => {
    expect(canRetry(MAX_NOTICE_FAILURES + 3, null, NOW, settings)).toBe(true)
  })
})

describe('sweepSlot', () => {
  it('shifts slots by half an interval', () => {
    const minute = 60_000
    const base = 28_333_333 * minute
    expect(sweepSlot(base, settings)).toBe(28_333_333)
    expect(sweepSlot(base - 1, settings)).toBe(28_333_333)
    expect(sweepSlot(base + 29_999, settings)).toBe(28_333_333)
    expect(sweepSlot(base + 30_000, settings)).toBe(28_333_334)
    expect(sweepSlot(base - 30_001, settings)).toBe(28_333_332)
  })

  it('uses the configured interval', () => {
    const oneSecond = readSettings({ HEARTBEAT_SWEEP_INTERVAL_SECONDS: '1' })
    expect(sweepSlot(10_000, oneSecond)).toBe(10)
    expect(sweepSlot(10_499, oneSecond)).toBe(10)
    expect(sweepSlot(10_500, oneSecond)).toBe(11)
  })
})
