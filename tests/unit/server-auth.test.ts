import type { RateBucket } from '../../laf-cloud/functions/__heartbeat_server_test'
import { describe, expect, it } from 'vitest'
import { adminFingerprint, CLIENT_RECORD_FIELDS, isAdminPayload, MAX_RATE_BUCKETS, newClientDoc, rateLimitWait, readSettings, recordRateHit, toClientRecord } from '../../laf-cloud/functions/__heartbeat_server_test'

const NOW = 1_700_000_000_000
const settings = readSettings({ HEARTBEAT_ADMIN_PASSWORD: 'correct horse' })
const SALT = 'a'.repeat(64)

function payload(overrides: Record<string, unknown> = {}) {
  return { sub: 'heartbeat-admin', fp: adminFingerprint('correct horse', SALT), exp: Math.floor(NOW / 1000) + 3600, ...overrides }
}

describe('adminFingerprint', () => {
  it('is stable and short', () => {
    expect(adminFingerprint('correct horse', SALT)).toMatch(/^[0-9a-f]{32}$/)
    expect(adminFingerprint('correct horse', SALT)).toBe(adminFingerprint('correct horse', SALT))
  })

  it('changes with the password', () => {
    expect(adminFingerprint('correct horse', SALT)).not.toBe(adminFingerprint('battery staple', SALT))
  })

  it('changes with the salt', () => {
    expect(adminFingerprint('correct horse', SALT)).not.toBe(adminFingerprint('correct horse', 'b'.repeat(64)))
  })

  it('does not contain the password', () => {
    expect(adminFingerprint('correct horse', SALT)).not.toContain('correct')
  })
})

describe('isAdminPayload', () => {
  it('accepts a current token', () => {
    expect(isAdminPayload(payload(), settings, NOW, SALT)).toBe(true)
  })

  it('rejects an expired token', () => {
    expect(isAdminPayload(payload({ exp: Math.floor(NOW / 1000) }), settings, NOW, SALT)).toBe(false)
  })

  it('rejects a token without exp', () => {
    expect(isAdminPayload(payload({ exp: undefined }), settings, NOW, SALT)).toBe(false)
  })

  it('rejects another subject', () => {
    expect(isAdminPayload(payload({ sub: 'user-1' }), settings, NOW, SALT)).toBe(false)
  })

  it('rejects an old password', () => {
    expect(isAdminPayload(payload({ fp: adminFingerprint('old password', SALT) }), settings, NOW, SALT)).toBe(false)
  })

  it('rejects another salt', () => {
    expect(isAdminPayload(payload(), settings, NOW, 'b'.repeat(64))).toBe(false)
  })

  it('rejects a missing fingerprint', () => {
    expect(isAdminPayload(payload({ fp: undefined }), settings, NOW, SALT)).toBe(false)
    expect(isAdminPayload(payload({ fp: { $ne: '' } }), settings, NOW, SALT)).toBe(false)
  })

  it('rejects when admin disabled', () => {
    expect(isAdminPayload(payload(), readSettings({}), NOW, SALT)).toBe(false)
  })

  it('rejects no user', () => {
    expect(isAdminPayload(null, settings, NOW, SALT)).toBe(false)
    expect(isAdminPayload('heartbeat-admin', settings, NOW, SALT)).toBe(false)
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

  it('evicts the oldest when full', () => {
    const buckets = new Map<string, RateBucket>()
    for (let index = 0; index < 3; index++)
      recordRateHit(buckets, `a${index}`, 60_000, NOW + index, 3)
    recordRateHit(buckets, 'new', 60_000, NOW + 3, 3)
    expect([...buckets.keys()]).toEqual(['a1', 'a2', 'new'])
  })

  it('new window moves to the end', () => {
    const buckets = new Map<string, RateBucket>()
    recordRateHit(buckets, 'a', 60_000, NOW, 2)
    recordRateHit(buckets, 'b', 60_000, NOW + 1, 2)
    recordRateHit(buckets, 'a', 60_000, NOW + 60_000, 2)
    recordRateHit(buckets, 'c', 60_000, NOW + 60_001, 2)
    expect([...buckets.keys()]).toEqual(['a', 'c'])
    expect(buckets.get('a')).toEqual({ count: 1, resetAt: NOW + 120_000 })
  })

  it('stays bounded under a flood', () => {
    const buckets = new Map<string, RateBucket>()
    for (let index = 0; index < 3 * MAX_RATE_BUCKETS; index++)
      recordRateHit(buckets, `login:10.0.${index}`, 60_000, NOW)
    expect(buckets.size).toBe(MAX_RATE_BUCKETS)
    expect(buckets.has(`login:10.0.${3 * MAX_RATE_BUCKETS - 1}`)).toBe(true)
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
