import { describe, expect, it } from 'vitest'
import { createKey, describeVerifyProblem, hashKey, isKeyFormat, keyMatchesHash, safeEqualHex, signNonce } from '../../laf-cloud/functions/__heartbeat_server_test'

// Computed independently: printf %s NONCE | openssl dgst -sha256 -hmac KEY
const VECTOR = {
  key: '0'.repeat(64),
  nonce: '00112233445566778899aabbccddeeff',
  signature: '7c5f4f0adea746761830e284593dc90fe18f7f312c356d7b7cd1f629cb53ceb1',
}

describe('keys', () => {
  it('creates 64-hex keys', () => {
    const key = createKey()
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(isKeyFormat(key)).toBe(true)
  })

  it('creates distinct keys', () => {
    expect(createKey()).not.toBe(createKey())
  })

  it('hashes with sha256', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it.each(['', 'A'.repeat(64), 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), { $ne: '' }, 5, null])('rejects key format %j', (value) => {
    expect(isKeyFormat(value)).toBe(false)
  })

  it('matches only its own hash', () => {
    const key = createKey()
    expect(keyMatchesHash(key, hashKey(key))).toBe(true)
    expect(keyMatchesHash(createKey(), hashKey(key))).toBe(false)
    expect(keyMatchesHash(undefined, hashKey(key))).toBe(false)
    expect(keyMatchesHash(key.toUpperCase(), hashKey(key))).toBe(false)
  })
})

describe('signNonce', () => {
  it('matches the known vector', () => {
    expect(signNonce(VECTOR.key, VECTOR.nonce)).toBe(VECTOR.signature)
  })

  it('depends on the key', () => {
    expect(signNonce('1'.repeat(64), VECTOR.nonce)).not.toBe(VECTOR.signature)
  })
})

describe('safeEqualHex', () => {
  it('compares equal hex', () => {
    expect(safeEqualHex(VECTOR.signature, VECTOR.signature)).toBe(true)
  })

  it.each([
    ['other hex', 'f'.repeat(64)],
    ['uppercase', VECTOR.signature.toUpperCase()],
    ['short', VECTOR.signature.slice(2)],
    ['number', 5],
    ['object', { $ne: '' }],
    ['missing', undefined],
  ])('rejects %s', (_name, actual) => {
    expect(safeEqualHex(VECTOR.signature, actual)).toBe(false)
  })
})

describe('describeVerifyProblem', () => {
  const expected = VECTOR.signature
  const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) })

  it('accepts the right signature', () => {
    expect(describeVerifyProblem(json(200, { code: 20000, data: { signature: expected } }), expected)).toBeNull()
  })

  it('rejects a wrong signature', () => {
    expect(describeVerifyProblem(json(200, { code: 20000, data: { signature: 'f'.repeat(64) } }), expected)).toBe(
      'the client function did not return a valid signature: check that HEARTBEAT_SERVER_KEY in the client function is this client\'s key',
    )
  })

  it('rejects a missing signature', () => {
    expect(describeVerifyProblem(json(200, { code: 20000 }), expected)).toMatch(/^the client function did not return a valid signature/)
  })

  it('reports the client message', () => {
    expect(describeVerifyProblem(json(403, { code: 40300, message: 'HEARTBEAT_SERVER_KEY is not set' }), expected)).toBe(
      'the client function rejected the check (code 40300): HEARTBEAT_SERVER_KEY is not set',
    )
  })

  it('reports non-JSON replies', () => {
    expect(describeVerifyProblem({ status: 200, body: '<html>' }, expected)).toBe(
      'the client function did not return JSON: check that clientUrl is the URL of the client function',
    )
    expect(describeVerifyProblem({ status: 404, body: 'Function Not Found' }, expected)).toBe(
      'the client function returned HTTP 404: check that clientUrl is the URL of the client function',
    )
  })

  it('strips control characters', () => {
    const problem = describeVerifyProblem(json(400, { code: 40000, message: 'bad\nline\u0007' }), expected)
    expect(problem).toBe('the client function rejected the check (code 40000): bad line ')
  })
})
