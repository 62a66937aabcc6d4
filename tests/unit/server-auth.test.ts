import type { RateBucket } from '../../laf-cloud/functions/__heartbeat_server_test'
import { describe, expect, it } from 'vitest'
import { adminFingerprint, CLIENT_RECORD_FIELDS, isAdminPayload, newClientDoc, rateLimitWait, readSettings, recordRateHit, toClientRecord } from '../../laf-cloud/functions/__heartbeat_server_test'

const NOW = 1_700_000_000_000
const settings = readSettings({ HEARTBEAT_ADMIN_PASSWORD: 'correct horse' })

function payload(overrides: Record<string, unknown> = {}) {
  return { sub: 'heartbeat-admin', fp: adminFingerprint('correct horse'), exp: Math.floor(NOW / 1000) + 3600, ...overrides }
}

describe('adminFingerprint', () => {
  it('is stable and short', () => {
    expect(adminFingerprint('correct horse')).toMatch(/^[0-9a-f]{32}$/)
    expect(adminFingerprint('correct horse')).toBe(adminFingerprint('correct horse'))
  })

  it('changes with the password', () => {
    expect(adminFingerprint('correct horse')).not.toBe(adminFingerprint('battery staple'))
  })

  it('does not contain the password', () => {
    expect(adminFingerprint('correct horse')).not.toContain('correct')
  })
})

describe('isAdminPayload', () => {
  it('accepts a current token', () => {
    expect(isAdminPayload(payload(), settings, NOW)).toBe(true)
  })

  it('rejects an expired token', () => {
    expect(isAdminPayload(payload({ exp: Math.floor(NOW / 1000) }), settings, NOW)).toBe(false)
  })

  it('rejects a token without exp', () => {
    expect(isAdminPayload(payload({ exp: undefined }), settings, NOW)).toBe(false)
  })

  it('rejects another subject', () => {
    expect(isAdminPayload(payload({ sub: 'user-1' }), settings, NOW)).toBe(false)
  })

  it('rejects an old password', () => {
    expect(isAdminPayload(payload({ fp: adminFingerprint('old password') }), settings, NOW)).toBe(false)
  })

  it('rejects a missing fingerprint', () => {
    expect(isAdminPayload(payload({ fp: undefined }), settings, NOW)).toBe(false)
    expect(isAdminPayload(payload({ fp: { $ne: '' } }), settings, NOW)).toBe(false)
  })

  it('rejects when admin disabled', () => {
    expect(isAdminPayload(payload(), readSettings({}), NOW)).toBe(false)
  })

  it('rejects no user', () => {
    expect(isAdminPayload(null, settings, NOW)).toBe(false)
    expect(isAdminPayload('heartbeat-admin', settings, NOW)).toBe(false)
  })
})

describe('rate limit', () => {
  it('limits after the count', () => {
    const buckets = new Map<string, RateBucket>()
    for (let hit = 0; hit < 5; hit++) {
      expect(rateLimitWait(buckets, 'login:1.2.3.4', 5, NOW)).toBe(0)
      recordRateHit(buckets, 'login:1.2.3.4', 60_000, NOW)
    }
    expect(rateLimitWait(buckets, 'login:1.2.3.4', 5, NOW)).toBe(60)
    expect(rateLimitWait(buckets, 'login:1.2.3.4', 5, NOW + 59_001)).toBe(1)
  })

  it('resets after the window', () => {
    const buckets = new Map<string, RateBucket>()
    for (let hit = 0; hit < 5; hit++)
      recordRateHit(buckets, 'a', 60_000, NOW)
    expect(rateLimitWait(buckets, 'a', 5, NOW + 60_000)).toBe(0)
    recordRateHit(buckets, 'a', 60_000, NOW + 60_000)
    expect(buckets.get('a')).toEqual({ count: 1, resetAt: NOW + 120_000 })
  })

  it('keeps addresses apart', () => {
    const buckets = new Map<string, RateBucket>()
    for (let hit = 0; hit < 5; hit++)
      recordRateHit(buckets, 'a', 60_000, NOW)
    expect(rateLimitWait(buckets, 'b', 5, NOW)).toBe(0)
  })

  it('prunes expired buckets when full', () => {
    const buckets = new Map<string, RateBucket>()
    for (let index = 0; index < 10_000; index++)
      buckets.set(`old:${index}`, { count: 1, resetAt: NOW - 1 })
    recordRateHit(buckets, 'new', 60_000, NOW)
    expect(buckets.size).toBe(1)
  })
})

describe('toClientRecord', () => {
  it('drops key and internals', () => {
    const key = 'c'.repeat(64)
    const record = toClientRecord({ ...newClientDoc('https://fn.example.com/c', key, NOW), _id: 'abc' })
    expect(Object.keys(record)).toEqual([...CLIENT_RECORD_FIELDS])
    expect(record.id).toBe('abc')
    expect(JSON.stringify(record)).not.toContain(key)
  })
})
