import type { Logger } from './logger'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import jwt from 'jsonwebtoken'

/**
 * Reads the app's JWT secret from `<dataDir>/secret`, or creates it (32 random
 * bytes, hex, mode 0600) so that tokens stay valid across restarts.
 */
export function loadSecret(dataDir: string, logger: Logger): string {
  const file = join(dataDir, 'secret')
  if (!existsSync(file)) {
    const secret = randomBytes(32).toString('hex')
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' })
    logger.info(`created a new JWT secret in ${file}`)
    return secret
  }
  if ((statSync(file).mode & 0o077) !== 0)
    logger.warn(`${file} can be read by other users; run chmod 600 on it`)
  const secret = readFileSync(file, 'utf8').trim()
  if (secret === '')
    throw new Error(`${file} is empty: delete it to create a new secret, or write one into it`)
  return secret
}

/** Signs a JWT (HS256) with the app secret, as Laf's `cloud.getToken` does. */
export function signToken(payload: string | object, secret: string): string {
  return jwt.sign(payload, secret, { algorithm: 'HS256' })
}

/** Verifies an HS256 JWT; returns its payload, or null when it is missing, expired or forged. */
export function verifyToken(token: unknown, secret: string): any {
  if (typeof token !== 'string' || token === '')
    return null
  try {
    return jwt.verify(token, secret, { algorithms: ['HS256'] })
  }
  catch {
    return null
  }
}

/** Returns the payload of `Authorization: Bearer <jwt>`, or null. */
export function userFromAuthorization(header: string | undefined, secret: string): any {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  return match ? verifyToken(match[1], secret) : null
}
