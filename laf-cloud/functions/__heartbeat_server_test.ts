// Heartbeat server of Laf x Heartbeat: registers client functions, receives
// their heartbeats and, from `schedule()`, calls each owner's push URL when a
// client goes silent. One self-contained Laf cloud function: paste it into the
// Laf web IDE (or push it with laf-cli) and add a cron trigger that calls
// `schedule()` once a minute.

import type { LookupAddress } from 'node:dns'
import { Buffer } from 'node:buffer'
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { lookup as dnsLookup } from 'node:dns'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP, isIPv4 } from 'node:net'
import cloud from '@lafjs/cloud'

// ---- Settings: defaults, overridden by the app's environment variables ----

const DEFAULT_MAX_CLIENTS = 10
const DEFAULT_LATE_AFTER_SECONDS = 60
const DEFAULT_SWEEP_INTERVAL_SECONDS = 60
// A registration that is not activated within a day is removed, so no one can hold a clientUrl or a place for good.
const DEFAULT_UNACTIVATED_TTL_SECONDS = 86400
// Empty: admin login is disabled.
const DEFAULT_ADMIN_PASSWORD = ''
const DEFAULT_ALLOW_PRIVATE_URLS = false

const SERVER_NAME = 'Laf x Heartbeat'
const SERVER_VERSION = '1.0.0'

export interface Settings {
  maxClients: number
  lateAfterSeconds: number
  sweepIntervalSeconds: number
  unactivatedTtlSeconds: number
  /** Empty when admin login is disabled. */
  adminPassword: string
  allowPrivateUrls: boolean
}

export class SettingsError extends Error {
  constructor(readonly variable: string, message: string) {
    super(message)
    this.name = 'SettingsError'
  }
}

/** Reads and range-checks every setting; throws SettingsError naming the variable. */
export function readSettings(env: Record<string, string | undefined>): Settings {
  return {
    // The sweep reads due clients in queries of at most 1000 documents, database-ql's cap per query.
    maxClients: readIntegerSetting(env, 'HEARTBEAT_MAX_CLIENTS', DEFAULT_MAX_CLIENTS, 1, 1000),
    lateAfterSeconds: readIntegerSetting(env, 'HEARTBEAT_LATE_AFTER_SECONDS', DEFAULT_LATE_AFTER_SECONDS, 1, 86400),
    sweepIntervalSeconds: readIntegerSetting(env, 'HEARTBEAT_SWEEP_INTERVAL_SECONDS', DEFAULT_SWEEP_INTERVAL_SECONDS, 1, 86400),
    unactivatedTtlSeconds: readIntegerSetting(env, 'HEARTBEAT_UNACTIVATED_TTL_SECONDS', DEFAULT_UNACTIVATED_TTL_SECONDS, 1, 30 * 86400),
    adminPassword: readPasswordSetting(env, 'HEARTBEAT_ADMIN_PASSWORD'),
    allowPrivateUrls: readBooleanSetting(env, 'HEARTBEAT_ALLOW_PRIVATE_URLS', DEFAULT_ALLOW_PRIVATE_URLS),
  }
}

function readIntegerSetting(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === '')
    return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value < min || value > max)
    throw new SettingsError(name, `${name} must be an integer from ${min} to ${max}, got "${raw.slice(0, 40)}"`)
  return value
}

function readPasswordSetting(env: Record<string, string | undefined>, name: string): string {
  const raw = env[name]
  if (raw === undefined || raw === '')
    return DEFAULT_ADMIN_PASSWORD
  if (raw.length < 8 || raw.length > 1024)
    throw new SettingsError(name, `${name} must be 8 to 1024 characters long, or unset to disable admin login`)
  return raw
}

function readBooleanSetting(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '')
    return fallback
  if (raw === 'true' || raw === '1')
    return true
  if (raw === 'false' || raw === '0')
    return false
  throw new SettingsError(name, `${name} must be true or false, got "${raw.slice(0, 40)}"`)
}

// ---- API shapes: this file's copy of types/api.ts (the function must stand alone) ----

export const ReplyCode = {
  Ok: 20000,
  InvalidInput: 40000,
  Unauthorized: 40100,
  Forbidden: 40300,
  NotFound: 40400,
  Conflict: 40900,
  TooManyRequests: 42900,
  InternalError: 50000,
  BadGateway: 50200,
} as const

export type ReplyCodeValue = (typeof ReplyCode)[keyof typeof ReplyCode]

export const replyStatus: Record<ReplyCodeValue, number> = {
  20000: 200,
  40000: 400,
  40100: 401,
  40300: 403,
  40400: 404,
  40900: 409,
  42900: 429,
  50000: 500,
  50200: 502,
}

export type ClientState = 0 | 1 | 2

export type ActionName = 'getInfo' | 'fetch' | 'signup' | 'active' | 'toggle' | 'update' | 'remove' | 'receive' | 'login' | 'list'

/** A client as replies show it: never the key, its hash or the sweep's bookkeeping. */
export interface ClientRecord {
  id: string
  clientUrl: string
  state: ClientState
  paused: boolean
  errorMax: number
  errorCount: number
  noticeMax: number
  noticeCount: number
  sendUrl: string
  createdAt: number
  updatedAt: number | null
  watchedSince: number | null
  lastNoticeAt: number | null
  lastNoticeError: string | null
  noticeFailures: number
}

export const CLIENT_RECORD_FIELDS = [
  'id',
  'clientUrl',
  'state',
  'paused',
  'errorMax',
  'errorCount',
  'noticeMax',
  'noticeCount',
  'sendUrl',
  'createdAt',
  'updatedAt',
  'watchedSince',
  'lastNoticeAt',
  'lastNoticeError',
  'noticeFailures',
] as const satisfies readonly (keyof ClientRecord)[]

/** A client as stored in the `heartbeat_clients` collection. Times are milliseconds since the epoch. */
export interface ClientDoc {
  _id: string
  clientUrl: string
  /** Kept because activation computes the expected HMAC with it; replies and logs never include it. */
  key: string
  /** sha256 of the key in hex, the indexed field that receive and owner checks look up. */
  keyHash: string
  state: ClientState
  paused: boolean
  errorMax: number
  errorCount: number
  noticeMax: number
  noticeCount: number
  sendUrl: string
  createdAt: number
  /** Server time of the last heartbeat, or null before the first one. */
  updatedAt: number | null
  /** Time the next late judgement is measured from: activation, resume or the last heartbeat. */
  watchedSince: number | null
  lastNoticeAt: number | null
  lastNoticeError: string | null
  /** Consecutive failed down notices in the current silence. */
  noticeFailures: number
  /**
   * Set when a heartbeat comes back after a down notice. It stays set until the
   * recovery notice is delivered or a new down notice is delivered.
   */
  recoveryPending: boolean
  recoveryFailures: number
  /** The `now` of the sweep whose delivery last failed, which the retry backoff is measured from. */
  lastFailureAt: number | null
  /** Length of the silence that the pending recovery notice reports, or null when unknown. */
  outageMs: number | null
  /**
   * Down notices delivered since the last delivered recovery notice. Unlike
   * noticeCount, a resume keeps it, so a heartbeat after the resume still owes the recovery notice.
   */
  outageNotices: number
  /** The `now` of the last sweep that counted this client or leased it for a notice; see judgeableClauses. */
  lastJudgedAt: number | null
  /** Id of the sweep that is delivering a notice to this client, so overlapping sweeps send it once. */
  noticeLease: string | null
  noticeLeaseUntil: number | null
}

// ---- Reply errors ----

export class ReplyError extends Error {
  constructor(readonly code: ReplyCodeValue, message: string) {
    super(message)
    this.name = 'ReplyError'
  }
}

// Control, format (such as bidirectional overrides) and line or paragraph separator characters.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu
const PLAIN_NAME = /^[\w$.:-]+$/

/**
 * Shows user-supplied text in a reply message or log line: a plain name as
 * it is, anything else as a JSON string with every unprintable character
 * escaped, so the text can neither forge nor break a log line. Cut to
 * `maxLength` characters first.
 */
export function showText(text: string, maxLength = 50): string {
  const cut = text.slice(0, maxLength)
  if (PLAIN_NAME.test(cut))
    return cut
  return JSON.stringify(cut).replace(UNPRINTABLE, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function invalid(message: string): ReplyError {
  return new ReplyError(ReplyCode.InvalidInput, message)
}

function unauthorized(message: string): ReplyError {
  return new ReplyError(ReplyCode.Unauthorized, message)
}

function forbidden(message: string): ReplyError {
  return new ReplyError(ReplyCode.Forbidden, message)
}

// ---- Input validation: runs before any database access ----

const MAX_URL_LENGTH = 2048
// A filled push URL carries the notice text, so it may be longer than the template.
const MAX_FILLED_URL_LENGTH = 8192
const MAX_KEY_LENGTH = 256
const MAX_PASSWORD_LENGTH = 1024
const MAX_QUERY_LENGTH = 200
const ID_PATTERN = /^[\w-]{1,64}$/
const ERROR_MAX_RANGE = [1, 100] as const
const NOTICE_MAX_RANGE = [0, 100] as const
const PAGE_RANGE = [1, 1_000_000] as const
const PAGE_SIZE_RANGE = [1, 100] as const

type FieldCheck = (value: unknown, field: string, settings: Settings) => unknown

interface ActionInput {
  methods: readonly string[]
  fields: Record<string, FieldCheck>
  required: readonly string[]
}

const GET_OR_POST = ['GET', 'POST'] as const
const POST_ONLY = ['POST'] as const

/** Methods and body fields of each action. `key` is never required here: the owner check rejects a missing key with 40100. */
export const ACTION_INPUTS: Record<ActionName, ActionInput> = {
  getInfo: { methods: GET_OR_POST, fields: {}, required: [] },
  fetch: { methods: POST_ONLY, fields: { clientUrl: checkClientUrl, key: checkKey }, required: ['clientUrl'] },
  signup: { methods: POST_ONLY, fields: { clientUrl: checkClientUrl }, required: ['clientUrl'] },
  active: { methods: POST_ONLY, fields: { id: checkId, key: checkKey }, required: ['id'] },
  toggle: { methods: POST_ONLY, fields: { id: checkId, key: checkKey, paused: checkBoolean }, required: ['id'] },
  update: { methods: POST_ONLY, fields: { id: checkId, key: checkKey, payload: checkPayload }, required: ['id', 'payload'] },
  remove: { methods: POST_ONLY, fields: { id: checkId, key: checkKey }, required: ['id'] },
  receive: { methods: GET_OR_POST, fields: { key: checkKey }, required: [] },
  login: { methods: POST_ONLY, fields: { password: checkPassword }, required: ['password'] },
  list: {
    methods: POST_ONLY,
    fields: { page: checkInteger(...PAGE_RANGE), pageSize: checkInteger(...PAGE_SIZE_RANGE), state: checkState, q: checkQuery },
    required: [],
  },
}

export const ACTION_NAMES = Object.keys(ACTION_INPUTS) as ActionName[]

const PAYLOAD_FIELDS: Record<string, FieldCheck> = {
  errorMax: checkInteger(...ERROR_MAX_RANGE),
  noticeMax: checkInteger(...NOTICE_MAX_RANGE),
  sendUrl: checkSendUrl,
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks an action's input against its field table and returns the normalized
 * fields. The `action` field itself is allowed and dropped. Throws a 40000
 * ReplyError naming the field and the rule.
 */
export function validateInput(action: ActionName, input: unknown, settings: Settings): Record<string, any> {
  if (!isPlainObject(input))
    throw invalid('request body must be a JSON object')
  const spec = ACTION_INPUTS[action]
  return checkFields(input, spec.fields, spec.required, '', settings)
}

function checkFields(input: Record<string, unknown>, fields: Record<string, FieldCheck>, required: readonly string[], prefix: string, settings: Settings): Record<string, any> {
  for (const field of Object.keys(input)) {
    if (!(prefix === '' && field === 'action') && !Object.hasOwn(fields, field))
      throw invalid(`unknown field ${showText(`${prefix}${field}`)}`)
  }
  for (const field of required) {
    if (input[field] === undefined)
      throw invalid(`${prefix}${field} is required`)
  }
  const output: Record<string, any> = {}
  for (const [field, check] of Object.entries(fields)) {
    if (input[field] !== undefined)
      output[field] = check(input[field], `${prefix}${field}`, settings)
  }
  return output
}

function checkString(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string')
    throw invalid(`${field} must be a string`)
  if (value.length > maxLength)
    throw invalid(`${field} must be at most ${maxLength} characters`)
  return value
}

function checkKey(value: unknown, field: string): string {
  return checkString(value, field, MAX_KEY_LENGTH)
}

function checkPassword(value: unknown, field: string): string {
  return checkString(value, field, MAX_PASSWORD_LENGTH)
}

/** Checks the list filter, which becomes a regex: BSON cannot hold a NUL in a regex, so control characters are rejected. */
function checkQuery(value: unknown, field: string): string {
  const text = checkString(value, field, MAX_QUERY_LENGTH)
  if (/\p{Cc}/u.test(text))
    throw invalid(`${field} must not contain control characters`)
  return text
}

function checkId(value: unknown, field: string): string {
  const id = checkString(value, field, MAX_KEY_LENGTH)
  if (!ID_PATTERN.test(id))
    throw invalid(`${field} must be a client id (1 to 64 letters, digits, - or _)`)
  return id
}

function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean')
    throw invalid(`${field} must be true or false`)
  return value
}

function checkInteger(min: number, max: number): FieldCheck {
  return (value, field) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw invalid(`${field} must be an integer from ${min} to ${max}`)
    return value
  }
}

function checkState(value: unknown, field: string): ClientState {
  if (value !== 0 && value !== 1 && value !== 2)
    throw invalid(`${field} must be 0, 1 or 2`)
  return value
}

function checkPayload(value: unknown, field: string, settings: Settings): Record<string, any> {
  if (!isPlainObject(value))
    throw invalid(`${field} must be an object`)
  const payload = checkFields(value, PAYLOAD_FIELDS, [], `${field}.`, settings)
  if (Object.keys(payload).length === 0)
    throw invalid(`${field} must contain at least one of errorMax, noticeMax, sendUrl`)
  return payload
}

/** Checks a client URL and returns its normalized form, which is what the unique index stores. */
function checkClientUrl(value: unknown, field: string, settings: Settings): string {
  const text = checkString(value, field, MAX_URL_LENGTH)
  const url = parseHttpUrl(text, field, settings)
  if (url.hash !== '')
    throw invalid(`${field} must not contain a fragment (#...)`)
  if (url.href.length > MAX_URL_LENGTH)
    throw invalid(`${field} must be at most ${MAX_URL_LENGTH} characters`)
  return url.href
}

// Values that checkSendUrl fills a template with before checking it as a URL.
const SAMPLE_NOTICE_VALUES: NoticeValues = {
  clientUrl: 'https://example.com/client',
  status: 'down',
  silentMinutes: '5',
  noticeCount: '1',
  noticeMax: '3',
  errorCount: '3',
  lastHeartbeat: '2024-01-01T00:00:00.000Z',
  title: 'Heartbeat lost',
  message: 'No heartbeat',
}

/** Checks a push URL template: '' turns notices off; otherwise it must be a valid URL once its placeholders are filled. */
function checkSendUrl(value: unknown, field: string, settings: Settings): string {
  const text = checkString(value, field, MAX_URL_LENGTH).trim()
  if (text !== '')
    parseHttpUrl(fillTemplate(text, SAMPLE_NOTICE_VALUES), field, settings)
  return text
}

function parseHttpUrl(text: string, field: string, settings: Settings): URL {
  const problem = describeUrlProblem(text, settings.allowPrivateUrls)
  if (problem)
    throw invalid(`${field} ${problem}`)
  return new URL(text)
}

/** Returns why the server may not fetch a URL (a phrase that follows the field name), or null when it may. */
export function describeUrlProblem(text: string, allowPrivate: boolean, maxLength = MAX_URL_LENGTH): string | null {
  if (text === '')
    return 'must not be empty'
  if (text.length > maxLength)
    return `must be at most ${maxLength} characters`
  let url: URL
  try {
    url = new URL(text)
  }
  catch {
    return 'must be a valid http or https URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'must use http or https'
  if (url.username !== '' || url.password !== '')
    return 'must not contain credentials (user:password@)'
  const blocked = allowPrivate ? null : describeBlockedHost(url.hostname)
  return blocked ? `must not point at ${blocked}` : null
}

// ---- Address rules: what the server does not connect to ----

/** Ranges in check order, so the more specific metadata entries win over their enclosing ranges. */
const BLOCKED_RANGES: [category: string, network: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  // Alibaba Cloud's metadata service, inside the carrier-grade NAT range.
  ['cloud metadata', '100.100.100.200', 32, 'ipv4'],
  ['carrier-grade NAT', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['cloud metadata', '169.254.169.254', 32, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  // AWS's IPv6 metadata service, inside the unique local range.
  ['cloud metadata', 'fd00:ec2::254', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['reserved', 'fec0::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
]

const BLOCKED_RULES = BLOCKED_RANGES.map(([category, network, prefix, family]) => {
  const list = new BlockList()
  list.addSubnet(network, prefix, family)
  return { category, list, family }
})

/**
 * Classifies an IP address that the server must not connect to: returns its
 * category ('loopback', 'private', 'cloud metadata', ...) or null for a public
 * address. IPv6 forms that embed an IPv4 address (mapped ::ffff:0:0/96,
 * NAT64 64:ff9b::/96, IPv4-compatible ::/96) are judged by that IPv4 address.
 * Anything that is not an IP address returns 'invalid'.
 */
export function classifyAddress(address: string): string | null {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(plain)
  if (family === 0)
    return 'invalid'
  if (family === 6) {
    const embedded = embeddedIpv4(plain)
    if (embedded)
      return classifyAddress(embedded)
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const rule = BLOCKED_RULES.find(candidate => candidate.family === type && candidate.list.check(plain, type))
  return rule ? rule.category : null
}

function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address)
  if (!groups)
    return null
  const leadingZeros = groups.slice(0, 5).every(group => group === 0)
  const mapped = leadingZeros && groups[5] === 0xFFFF
  const compatible = leadingZeros && groups[5] === 0 && groups[6] !== 0
  const nat64 = groups[0] === 0x64 && groups[1] === 0xFF9B && groups.slice(2, 6).every(group => group === 0)
  if (!mapped && !compatible && !nat64)
    return null
  return [groups[6] >> 8, groups[6] & 0xFF, groups[7] >> 8, groups[7] & 0xFF].join('.')
}

/** Expands a valid IPv6 address into its eight 16-bit groups. */
function expandIpv6(address: string): number[] | null {
  let text = address.toLowerCase()
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    if (!isIPv4(tail))
      return null
    const [a, b, c, d] = tail.split('.').map(Number)
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2)
    return null
  const head = halves[0] ? halves[0].split(':') : []
  const tailGroups = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const missing = 8 - head.length - tailGroups.length
  if (halves.length === 1 ? missing !== 0 : missing < 1)
    return null
  return [...head, ...Array.from({ length: missing }, () => '0'), ...tailGroups].map(group => Number.parseInt(group, 16))
}

/** Describes why a URL's host is blocked before any DNS lookup (localhost or a literal IP), or returns null. */
export function describeBlockedHost(hostname: string): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost'))
    return `${host} (localhost)`
  const plain = host.replace(/^\[|\]$/g, '')
  if (isIP(plain) === 0)
    return null
  const category = classifyAddress(plain)
  return category ? `${plain} (${category} address)` : null
}

// ---- Keys and signatures ----

const KEY_PATTERN = /^[0-9a-f]{64}$/
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/

/** Creates a client key: 32 random bytes in lowercase hex. */
export function createKey(): string {
  return randomBytes(32).toString('hex')
}

export function isKeyFormat(value: unknown): value is string {
  return typeof value === 'string' && KEY_PATTERN.test(value)
}

/** Hashes a key with sha256 (hex), the form the database indexes and compares. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/**
 * Computes the activation signature: HMAC-SHA256 keyed with the key's text
 * (its 64 hex characters as UTF-8, not the decoded bytes) over the nonce's
 * text, in lowercase hex. The client function computes the same.
 */
export function signNonce(key: string, nonce: string): string {
  return createHmac('sha256', key).update(nonce).digest('hex')
}

/** Compares two lowercase hex strings in constant time; false when either is not 64-character hex. */
export function safeEqualHex(expected: unknown, actual: unknown): boolean {
  if (typeof expected !== 'string' || typeof actual !== 'string')
    return false
  if (!SIGNATURE_PATTERN.test(expected) || !SIGNATURE_PATTERN.test(actual))
    return false
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(actual, 'hex'))
}

/** Checks a key against a stored keyHash in constant time. */
export function keyMatchesHash(key: unknown, keyHash: string): boolean {
  return isKeyFormat(key) && safeEqualHex(keyHash, hashKey(key))
}

// ---- Notice templates ----

export interface NoticeValues {
  clientUrl: string
  status: 'down' | 'up'
  silentMinutes: string
  noticeCount: string
  noticeMax: string
  errorCount: string
  lastHeartbeat: string
  title: string
  message: string
}

/** Replaces `{name}` placeholders with URL-encoded values; unknown placeholders stay as they are. */
export function fillTemplate(template: string, values: object): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    Object.hasOwn(values, name) ? encodeURIComponent(String((values as Record<string, unknown>)[name])) : match)
}

/** Builds the placeholder values of a down notice (kind 'down') or a recovery notice (kind 'up'). */
export function buildNoticeValues(doc: ClientDoc, kind: 'down' | 'up', now: number): NoticeValues {
  const host = hostOf(doc.clientUrl)
  const lastHeartbeat = doc.updatedAt === null ? 'never' : new Date(doc.updatedAt).toISOString()
  if (kind === 'up') {
    const minutes = doc.outageMs === null ? 'unknown' : String(Math.floor(doc.outageMs / 60_000))
    return {
      clientUrl: doc.clientUrl,
      status: 'up',
      silentMinutes: minutes,
      noticeCount: String(doc.outageNotices),
      noticeMax: String(doc.noticeMax),
      errorCount: String(doc.errorCount),
      lastHeartbeat,
      title: `Heartbeat back: ${host}`,
      message: `Heartbeats from ${doc.clientUrl} are back after ${minutes} min of silence. 心跳已恢复，此前中断 ${minutes} 分钟。`,
    }
  }
  const since = doc.updatedAt ?? doc.watchedSince ?? now
  const minutes = String(Math.floor((now - since) / 60_000))
  const count = doc.noticeCount + 1
  return {
    clientUrl: doc.clientUrl,
    status: 'down',
    silentMinutes: minutes,
    noticeCount: String(count),
    noticeMax: String(doc.noticeMax),
    errorCount: String(doc.errorCount),
    lastHeartbeat,
    title: `Heartbeat lost: ${host}`,
    message: `No heartbeat from ${doc.clientUrl} for ${minutes} min (last: ${lastHeartbeat}). Notice ${count} of ${doc.noticeMax}. 心跳丢失：已 ${minutes} 分钟没有心跳（第 ${count}/${doc.noticeMax} 次提醒）。`,
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  }
  catch {
    return 'invalid URL'
  }
}

// ---- Sweep decisions (pure) ----

/** Consecutive failed deliveries after which the sweep backs off between retries. */
export const MAX_NOTICE_FAILURES = 5
/** Most sweep intervals between two retries after MAX_NOTICE_FAILURES. */
export const MAX_RETRY_INTERVALS = 60

export type SweepFields = Pick<ClientDoc, 'state' | 'paused' | 'updatedAt' | 'watchedSince' | 'errorCount' | 'errorMax' | 'noticeCount' | 'noticeMax' | 'sendUrl' | 'noticeFailures' | 'recoveryPending' | 'recoveryFailures' | 'lastFailureAt'>

export interface SweepDecision {
  late: boolean
  incrementError: boolean
  sendNotice: boolean
  sendRecovery: boolean
}

/**
 * Returns the watchedSince value below which a client is late: now minus the
 * late-after time minus a jitter tolerance of a tenth of it, so a trigger that
 * fires a little late does not count as a missed beat.
 */
export function lateCutoff(now: number, settings: Settings): number {
  return now - settings.lateAfterSeconds * 1000 - settings.lateAfterSeconds * 100
}

/**
 * Returns the sweep interval that `now` falls in. Slots are shifted by half an
 * interval so that cron runs, which fire near whole minutes, land mid-slot:
 * a run a few milliseconds early or late still claims the slot it belongs to.
 */
export function sweepSlot(now: number, settings: Settings): number {
  const intervalMs = settings.sweepIntervalSeconds * 1000
  return Math.floor((now + intervalMs / 2) / intervalMs)
}

/**
 * Returns the `$or` clauses that let a sweep at `now` count a client or lease
 * it for a notice: its last such judgement is at least half a sweep interval
 * old. The slot claim alone lets two sweeps a few milliseconds apart, on
 * either side of a slot boundary, both judge. With this rule each client is
 * counted or noticed at most once per slot, and two of those judgements are
 * always at least half an interval apart. A judgement more than an interval
 * in the future means the clock moved back, and it does not block.
 */
export function judgeableClauses(now: number, settings: Settings): Record<string, unknown>[] {
  const intervalMs = settings.sweepIntervalSeconds * 1000
  return [
    { lastJudgedAt: null },
    { lastJudgedAt: { $lt: now - intervalMs / 2 } },
    { lastJudgedAt: { $gt: now + intervalMs } },
  ]
}

/**
 * Returns how many sweep intervals a delivery waits after `failures`
 * consecutive failures: 1 below MAX_NOTICE_FAILURES, then 1 at
 * MAX_NOTICE_FAILURES and doubling with each failure up to MAX_RETRY_INTERVALS.
 */
export function retryIntervals(failures: number): number {
  if (failures < MAX_NOTICE_FAILURES)
    return 1
  return Math.min(2 ** (failures - MAX_NOTICE_FAILURES), MAX_RETRY_INTERVALS)
}

/**
 * Returns whether a delivery may be tried again. Half an interval is taken off
 * the wait, because a cron trigger may fire a little early.
 */
export function canRetry(failures: number, lastFailureAt: number | null, now: number, settings: Settings): boolean {
  // Records stored before lastFailureAt existed lack it, so they retry at once.
  if (failures < MAX_NOTICE_FAILURES || typeof lastFailureAt !== 'number')
    return true
  const intervalMs = settings.sweepIntervalSeconds * 1000
  return now - lastFailureAt >= retryIntervals(failures) * intervalMs - intervalMs / 2
}

const NO_ACTION: SweepDecision = { late: false, incrementError: false, sendNotice: false, sendRecovery: false }

/** Decides what one sweep does to one client. */
export function decideSweep(client: SweepFields, now: number, settings: Settings): SweepDecision {
  if (client.state === 0 || client.paused)
    return NO_ACTION
  const cutoff = lateCutoff(now, settings)
  const late = client.watchedSince !== null && client.watchedSince < cutoff
  const decision = { ...NO_ACTION, late }
  // The recovery notice waits for a fresh heartbeat, not a resume, which also moves watchedSince.
  // It is never dropped: the owner's last message was "down" until "up" or a new "down" is delivered.
  const beatIsFresh = client.updatedAt !== null && client.updatedAt >= cutoff
  if (client.recoveryPending && beatIsFresh && client.sendUrl !== '' && canRetry(client.recoveryFailures, client.lastFailureAt, now, settings))
    decision.sendRecovery = true
  if (!late)
    return decision
  if (client.errorCount < client.errorMax)
    decision.incrementError = true
  else if (client.noticeCount < client.noticeMax && client.sendUrl !== '' && canRetry(client.noticeFailures, client.lastFailureAt, now, settings))
    decision.sendNotice = true
  return decision
}

// ---- Outbound HTTP: fetches that re-check every address and redirect ----

const VERIFY_TIMEOUT_MS = 5000
const NOTICE_TIMEOUT_MS = 10_000
const MAX_REDIRECTS = 3
const MAX_VERIFY_BODY_BYTES = 16 * 1024
const USER_AGENT = `laf-heartbeat/${SERVER_VERSION}`

export class FetchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FetchError'
  }
}

export interface FetchOptions {
  timeoutMs: number
  allowPrivate: boolean
  /** Reads up to this many bytes of the body; 0 skips the body. */
  maxBodyBytes: number
  maxUrlLength?: number
}

export interface FetchResult {
  status: number
  body: string
}

/** Sends a GET, following at most 3 redirects by hand and checking every URL and resolved address. Throws FetchError. */
export async function safeGet(url: string, options: FetchOptions): Promise<FetchResult> {
  const deadline = Date.now() + options.timeoutMs
  let current = url
  for (let redirects = 0; ; redirects++) {
    const problem = describeUrlProblem(current, options.allowPrivate, options.maxUrlLength)
    if (problem)
      throw new FetchError(redirects === 0 ? `the URL ${problem}` : `a redirect target ${problem}`)
    const response = await getOnce(new URL(current), deadline, options)
    if (response.location === null)
      return { status: response.status, body: response.body }
    if (redirects === MAX_REDIRECTS)
      throw new FetchError(`more than ${MAX_REDIRECTS} redirects`)
    current = new URL(response.location, current).href
  }
}

interface OnceResult extends FetchResult {
  location: string | null
}

function getOnce(url: URL, deadline: number, options: FetchOptions): Promise<OnceResult> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(url, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': USER_AGENT, 'accept': 'application/json, */*' },
      lookup: options.allowPrivate ? undefined : guardedLookup,
    })
    const timer = setTimeout(() => {
      request.destroy(new FetchError(`timed out after ${options.timeoutMs / 1000} s`))
    }, Math.max(0, deadline - Date.now()))
    request.on('error', (error) => {
      clearTimeout(timer)
      reject(error instanceof FetchError ? error : new FetchError(describeNetworkError(error)))
    })
    request.on('response', (response) => {
      const status = response.statusCode ?? 0
      const location = status >= 300 && status < 400 ? (response.headers.location ?? null) : null
      if (location !== null || options.maxBodyBytes === 0) {
        clearTimeout(timer)
        response.destroy()
        resolve({ status, body: '', location })
        return
      }
      readBody(response, options.maxBodyBytes).then((body) => {
        clearTimeout(timer)
        resolve({ status, body, location: null })
      }, (error) => {
        clearTimeout(timer)
        request.destroy()
        reject(error)
      })
    })
    request.end()
  })
}

function readBody(response: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        reject(new FetchError(`response body larger than ${maxBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    response.on('error', error => reject(new FetchError(describeNetworkError(error))))
  })
}

/**
 * Resolves a host name like dns.lookup but fails when any resolved address is
 * blocked. Checking at connect time means a DNS answer that changes between
 * validation and connection (DNS rebinding) cannot reach a private address.
 */
export function guardedLookup(hostname: string, options: any, callback: (...args: any[]) => void): void {
  dnsLookup(hostname, { ...options, all: true }, (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
    if (error) {
      callback(error)
      return
    }
    const blocked = addresses.map(entry => ({ address: entry.address, category: classifyAddress(entry.address) }))
      .find(entry => entry.category !== null)
    if (blocked) {
      callback(new FetchError(`${hostname} resolves to ${blocked.address} (${blocked.category} address), which this server does not connect to`))
      return
    }
    if (options?.all)
      callback(null, addresses)
    else
      callback(null, addresses[0].address, addresses[0].family)
  })
}

function describeNetworkError(error: any): string {
  const code = typeof error?.code === 'string' ? error.code : ''
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return 'DNS lookup failed'
  if (code === 'ECONNREFUSED')
    return 'connection refused'
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return 'connection reset'
  if (code === 'ETIMEDOUT')
    return 'connection timed out'
  if (code.startsWith('ERR_TLS') || code.includes('CERT'))
    return `TLS error (${code})`
  return code ? `network error (${code})` : 'network error'
}

// ---- Rate limits: best effort, per process, in cloud.shared ----

const LOGIN_FAILURE_LIMIT = 5
// Failed logins from all addresses together, because a caller can forge the address headers that the per-address limit reads.
const LOGIN_TOTAL_FAILURE_LIMIT = 30
const LOGIN_WINDOW_MS = 60_000
const SIGNUP_LIMIT = 20
const SIGNUP_WINDOW_MS = 10 * 60_000
/** Per-address buckets kept at most; past this the oldest window is evicted. */
export const MAX_RATE_BUCKETS = 10_000

export interface RateBucket {
  count: number
  resetAt: number
}

/** Returns the seconds until the bucket under `name` allows another hit, or 0 when it allows one now. */
export function rateLimitWait(buckets: Map<string, RateBucket>, name: string, limit: number, now: number): number {
  const bucket = buckets.get(name)
  if (!bucket || bucket.resetAt <= now || bucket.count < limit)
    return 0
  return Math.ceil((bucket.resetAt - now) / 1000)
}

/**
 * Counts one hit in the bucket under `name`, starting a new window when the
 * old one has ended. A new window is inserted last, so the map stays in
 * order of window start and, at `maxBuckets`, the oldest is evicted in O(1).
 */
export function recordRateHit(buckets: Map<string, RateBucket>, name: string, windowMs: number, now: number, maxBuckets = MAX_RATE_BUCKETS): void {
  const bucket = buckets.get(name)
  if (bucket && bucket.resetAt > now) {
    bucket.count++
    return
  }
  buckets.delete(name)
  while (buckets.size >= maxBuckets)
    buckets.delete(buckets.keys().next().value as string)
  buckets.set(name, { count: 1, resetAt: now + windowMs })
}

/** Per-address buckets under 'heartbeat:rate-limits'; totals over all addresses under 'heartbeat:rate-totals', which a flood of addresses cannot evict. */
function rateBuckets(scope: 'address' | 'total' = 'address'): Map<string, RateBucket> {
  const name = scope === 'address' ? 'heartbeat:rate-limits' : 'heartbeat:rate-totals'
  let buckets = cloud.shared.get(name)
  if (!(buckets instanceof Map)) {
    buckets = new Map()
    cloud.shared.set(name, buckets)
  }
  return buckets
}

// ---- Store ----

const CLIENTS = 'heartbeat_clients'
const SWEEPS = 'heartbeat_sweeps'
/** Server-wide values that the function creates once, each a document `{ name, value }`. */
const SERVER_VALUES = 'heartbeat_settings'

type Database = ReturnType<typeof cloud.database>

function database(): Database {
  return cloud.database()
}

/** Throws when a database-ql result reports an error (some accessors return errors instead of throwing). */
function expectOk<T extends { ok?: boolean, error?: unknown }>(result: T, operation: string): T {
  if (result.error || result.ok === false)
    throw new Error(`database ${operation} failed: ${String(result.error)}`)
  return result
}

export function isDuplicateKeyError(error: unknown): boolean {
  const anyError = error as { code?: unknown, message?: unknown } | null
  return anyError?.code === 11000 || String(anyError?.message ?? error).includes('E11000')
}

/**
 * Creates the indexes once per process; createIndex is idempotent on MongoDB,
 * so replicas may each run it. The sweep's due-client queries use the
 * watchedSince and recoveryPending indexes.
 */
async function ensureIndexes(db: Database): Promise<void> {
  const flag = 'heartbeat:indexes'
  let pending = cloud.shared.get(flag)
  if (!pending) {
    pending = createIndexes(db)
    cloud.shared.set(flag, pending)
    pending.catch(() => cloud.shared.delete(flag))
  }
  await pending
}

async function createIndexes(db: Database): Promise<void> {
  const clients = db.collection(CLIENTS)
  expectOk(await clients.createIndex({ clientUrl: 1 }, { unique: true }), 'createIndex clientUrl')
  expectOk(await clients.createIndex({ keyHash: 1 }, { unique: true }), 'createIndex keyHash')
  expectOk(await clients.createIndex({ watchedSince: 1 }), 'createIndex watchedSince')
  expectOk(await clients.createIndex({ recoveryPending: 1 }), 'createIndex recoveryPending')
  expectOk(await clients.createIndex({ createdAt: -1 }), 'createIndex createdAt')
  expectOk(await db.collection(SWEEPS).createIndex({ slot: 1 }, { unique: true }), 'createIndex slot')
  expectOk(await db.collection(SERVER_VALUES).createIndex({ name: 1 }, { unique: true }), 'createIndex name')
}

export function toClientRecord(doc: ClientDoc): ClientRecord {
  return {
    id: String(doc._id),
    clientUrl: doc.clientUrl,
    state: doc.state,
    paused: doc.paused,
    errorMax: doc.errorMax,
    errorCount: doc.errorCount,
    noticeMax: doc.noticeMax,
    noticeCount: doc.noticeCount,
    sendUrl: doc.sendUrl,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    watchedSince: doc.watchedSince,
    lastNoticeAt: doc.lastNoticeAt,
    lastNoticeError: doc.lastNoticeError,
    noticeFailures: doc.noticeFailures ?? 0,
  }
}

/**
 * Shortens a push URL to its origin, because its path or query usually carries
 * the owner's push token (ServerChan's SENDKEY, PushPlus's token, Bark's device key).
 */
export function maskSendUrl(sendUrl: string): string {
  if (sendUrl === '')
    return ''
  try {
    const origin = new URL(sendUrl).origin
    const rest = sendUrl.slice(origin.length)
    return rest === '' || rest === '/' ? origin : `${origin}/…`
  }
  catch {
    return '…'
  }
}

/** Builds the record for admin replies: the same fields, with the push URL masked. */
export function toAdminRecord(doc: ClientDoc): ClientRecord {
  return { ...toClientRecord(doc), sendUrl: maskSendUrl(doc.sendUrl) }
}

export function newClientDoc(clientUrl: string, key: string, now: number): Omit<ClientDoc, '_id'> {
  return {
    clientUrl,
    key,
    keyHash: hashKey(key),
    state: 0,
    paused: false,
    errorMax: 3,
    errorCount: 0,
    noticeMax: 3,
    noticeCount: 0,
    sendUrl: '',
    createdAt: now,
    updatedAt: null,
    watchedSince: null,
    lastNoticeAt: null,
    lastNoticeError: null,
    noticeFailures: 0,
    recoveryPending: false,
    recoveryFailures: 0,
    lastFailureAt: null,
    outageMs: null,
    outageNotices: 0,
    lastJudgedAt: null,
    noticeLease: null,
    noticeLeaseUntil: null,
  }
}

async function findClient(db: Database, query: Record<string, unknown>): Promise<ClientDoc | null> {
  const result = expectOk(await db.collection(CLIENTS).where(query).getOne(), 'getOne')
  return (result.data as ClientDoc | null) ?? null
}

async function updateClients(db: Database, query: Record<string, unknown>, changes: Record<string, unknown>): Promise<number> {
  const result = expectOk(await db.collection(CLIENTS).where(query).update(changes, { multi: true }), 'update')
  return result.matched ?? 0
}

async function countClients(db: Database, query: Record<string, unknown>): Promise<number> {
  const result = expectOk(await db.collection(CLIENTS).where(query).count(), 'count')
  return result.total ?? 0
}

// ---- Auth: owner key or admin token ----

const ADMIN_SUBJECT = 'heartbeat-admin'
const ADMIN_TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000
const TOKEN_SALT_NAME = 'admin-token-salt'
const fingerprintCache = new Map<string, string>()

/**
 * Derives the short password fingerprint that admin tokens carry, so changing
 * the password revokes old tokens. The salt is random and only the database
 * stores it, so a token alone cannot be used to test password guesses
 * offline. The result is cached per process.
 */
export function adminFingerprint(password: string, salt: string): string {
  const cacheKey = hashKey(`${salt}:${password}`)
  let fingerprint = fingerprintCache.get(cacheKey)
  if (!fingerprint) {
    fingerprint = scryptSync(password, salt, 16).toString('hex')
    fingerprintCache.set(cacheKey, fingerprint)
  }
  return fingerprint
}

/**
 * Reads the salt of admin token fingerprints, creating 32 random bytes on
 * first use. The unique index on `name` makes replicas that create it at the
 * same moment agree on one. Read from the database every time, never cached,
 * so every replica always uses the stored salt.
 */
async function readTokenSalt(db: Database): Promise<string> {
  const values = db.collection(SERVER_VALUES)
  const read = async () => (expectOk(await values.where({ name: TOKEN_SALT_NAME }).getOne(), 'getOne salt').data as { value?: unknown } | null)?.value
  const found = await read()
  if (typeof found === 'string')
    return found
  try {
    const result = await values.add({ name: TOKEN_SALT_NAME, value: randomBytes(32).toString('hex') })
    if (!(result.error && isDuplicateKeyError(result.error)))
      expectOk(result, 'add salt')
  }
  catch (error) {
    if (!isDuplicateKeyError(error))
      throw error
  }
  const created = await read()
  if (typeof created !== 'string')
    throw new Error('admin token salt is missing after creating it')
  return created
}

/** Checks a parsed admin token payload (ctx.user) against the current password and the stored salt. */
export function isAdminPayload(payload: unknown, settings: Settings, now: number, salt: string): boolean {
  if (settings.adminPassword === '' || !isPlainObject(payload))
    return false
  if (payload.sub !== ADMIN_SUBJECT || typeof payload.exp !== 'number' || payload.exp * 1000 <= now)
    return false
  const expected = Buffer.from(adminFingerprint(settings.adminPassword, salt))
  const actual = Buffer.from(typeof payload.fp === 'string' ? payload.fp : '')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

interface Call {
  ctx: FunctionContext
  db: Database
  input: Record<string, any>
  settings: Settings
  ip: string
  now: number
}

/** Checks the request's admin token; reads the salt only for a token that claims to be an admin's. */
async function isAdmin(call: Call): Promise<boolean> {
  const payload = call.ctx.user
  if (call.settings.adminPassword === '' || !isPlainObject(payload) || payload.sub !== ADMIN_SUBJECT)
    return false
  return isAdminPayload(payload, call.settings, call.now, await readTokenSalt(call.db))
}

function hasBearerToken(ctx: FunctionContext): boolean {
  const header = (ctx.headers as Record<string, unknown> | undefined)?.authorization
  return typeof header === 'string' && /^bearer\s+\S/i.test(header)
}

/** Loads the client named by `id`, requiring its key (or, when allowed, an admin token). */
async function loadOwnedClient(call: Call, allowAdmin: boolean): Promise<{ doc: ClientDoc, byAdmin: boolean }> {
  const byAdmin = allowAdmin && await isAdmin(call)
  if (!byAdmin && call.input.key === undefined) {
    if (allowAdmin && hasBearerToken(call.ctx))
      throw unauthorized('admin token is invalid or expired: log in again, or send the client key')
    throw unauthorized(allowAdmin ? 'key is required (or an admin token)' : 'key is required')
  }
  const doc = await findClient(call.db, { _id: call.input.id })
  if (!doc)
    throw new ReplyError(ReplyCode.NotFound, 'no client with this id')
  if (!byAdmin && !keyMatchesHash(call.input.key, doc.keyHash))
    throw unauthorized('key does not match this client')
  return { doc, byAdmin }
}

async function reloadRecord(call: Call, id: string, byAdmin = false): Promise<ClientRecord> {
  const doc = await findClient(call.db, { _id: id })
  if (!doc)
    throw new ReplyError(ReplyCode.NotFound, 'no client with this id')
  return byAdmin ? toAdminRecord(doc) : toClientRecord(doc)
}

// ---- Actions ----

// No request id prefix: Laf's function log stores the request id with every line, and so does the local runtime.
function logInfo(message: string): void {
  console.log(message)
}

function logError(message: string, error?: unknown): void {
  console.error(message, error instanceof Error ? (error.stack ?? error.message) : (error ?? ''))
}

/** Returns server info. `active` counts activated clients (state 1 or 2) that are not paused, the ones the sweep watches. */
async function getInfo(call: Call) {
  const count = await countClients(call.db, {})
  const active = await countClients(call.db, { state: call.db.command.in([1, 2]), paused: false })
  return {
    name: SERVER_NAME,
    version: SERVER_VERSION,
    count,
    active,
    max: call.settings.maxClients,
    lateAfterSeconds: call.settings.lateAfterSeconds,
    adminEnabled: call.settings.adminPassword !== '',
  }
}

/** Returns the record for the right key; anyone else only learns whether the URL is registered and its state. */
async function fetchClient(call: Call) {
  const doc = await findClient(call.db, { clientUrl: call.input.clientUrl })
  if (!doc)
    return { registered: false, state: null }
  if (keyMatchesHash(call.input.key, doc.keyHash))
    return toClientRecord(doc)
  return { registered: true, state: doc.state }
}

async function signup(call: Call) {
  const limitName = `signup:${call.ip}`
  const buckets = rateBuckets()
  const wait = rateLimitWait(buckets, limitName, SIGNUP_LIMIT, call.now)
  if (wait > 0)
    throw new ReplyError(ReplyCode.TooManyRequests, `too many signups from this address, try again in ${wait} s`)
  recordRateHit(buckets, limitName, SIGNUP_WINDOW_MS, call.now)

  if (await findClient(call.db, { clientUrl: call.input.clientUrl }))
    throw new ReplyError(ReplyCode.Conflict, 'clientUrl is already registered')
  const full = new ReplyError(ReplyCode.Conflict, `this server accepts at most ${call.settings.maxClients} clients`)
  if (await countClients(call.db, {}) >= call.settings.maxClients)
    throw full
  const key = createKey()
  const doc = newClientDoc(call.input.clientUrl, key, call.now)
  const id = await insertClient(call.db, doc)
  // Two signups can pass the count check at once, so count again and undo the insert past the limit.
  if (await countClients(call.db, {}) > call.settings.maxClients) {
    await call.db.collection(CLIENTS).where({ _id: id }).remove()
    throw full
  }
  logInfo(`client ${id} registered (${hostOf(doc.clientUrl)})`)
  return { client: toClientRecord({ ...doc, _id: id }), key }
}

async function insertClient(db: Database, doc: Omit<ClientDoc, '_id'>): Promise<string> {
  let result: { id?: unknown, ok?: boolean, error?: unknown }
  try {
    result = await db.collection(CLIENTS).add(doc)
  }
  catch (error) {
    if (isDuplicateKeyError(error))
      throw new ReplyError(ReplyCode.Conflict, 'clientUrl is already registered')
    throw error
  }
  if (result.error && isDuplicateKeyError(result.error))
    throw new ReplyError(ReplyCode.Conflict, 'clientUrl is already registered')
  expectOk(result, 'add')
  return String(result.id)
}

/** Activates a client after it proves, through the verify challenge, that it has the key. */
async function activate(call: Call) {
  const { doc } = await loadOwnedClient(call, false)
  if (doc.state !== 0)
    return toClientRecord(doc)
  await verifyClient(doc, call.settings.allowPrivateUrls)
  const now = Date.now()
  // Concurrent activations all pass the check, but only one update matches state 0, and only that one logs.
  const activated = await updateClients(call.db, { _id: doc._id, state: 0 }, { state: 1, watchedSince: now, errorCount: 0, noticeCount: 0, noticeFailures: 0 })
  if (activated > 0)
    logInfo(`client ${doc._id} activated (${hostOf(doc.clientUrl)})`)
  return reloadRecord(call, doc._id)
}

const KEY_HINT = 'check that HEARTBEAT_SERVER_KEY in the client function is this client\'s key'
const URL_HINT = 'check that clientUrl is the URL of the client function'

/** Sends the verify challenge to the client function. Throws a 50200 ReplyError whose message names what to check. */
export async function verifyClient(doc: Pick<ClientDoc, 'clientUrl' | 'key'>, allowPrivate: boolean): Promise<void> {
  const nonce = randomBytes(32).toString('hex')
  const url = new URL(doc.clientUrl)
  url.searchParams.set('action', 'verify')
  url.searchParams.set('nonce', nonce)
  let response: FetchResult
  try {
    response = await safeGet(url.href, { timeoutMs: VERIFY_TIMEOUT_MS, allowPrivate, maxBodyBytes: MAX_VERIFY_BODY_BYTES })
  }
  catch (error) {
    const reason = error instanceof FetchError ? error.message : 'network error'
    throw new ReplyError(ReplyCode.BadGateway, `could not reach clientUrl: ${reason}`)
  }
  const problem = describeVerifyProblem(response, signNonce(doc.key, nonce))
  if (problem)
    throw new ReplyError(ReplyCode.BadGateway, problem)
}

/** Returns what is wrong with a verify response, or null when it carries the expected signature. */
export function describeVerifyProblem(response: FetchResult, expectedSignature: string): string | null {
  let reply: any
  try {
    reply = JSON.parse(response.body)
  }
  catch {
    reply = undefined
  }
  if (!isPlainObject(reply)) {
    if (response.status < 200 || response.status > 299)
      return `the client function returned HTTP ${response.status}: ${URL_HINT}`
    return `the client function did not return JSON: ${URL_HINT}`
  }
  if (reply.code !== ReplyCode.Ok) {
    const message = typeof reply.message === 'string' ? reply.message.replace(UNPRINTABLE, ' ').slice(0, 200) : 'no message'
    return `the client function rejected the check (code ${String(reply.code).slice(0, 10)}): ${message}`
  }
  const signature = isPlainObject(reply.data) ? reply.data.signature : undefined
  if (!safeEqualHex(expectedSignature, signature))
    return `the client function did not return a valid signature: ${KEY_HINT}`
  return null
}

/**
 * Pauses or resumes. Resuming restarts watching: the next late judgement is
 * measured from now, and the error and notice counts start again, so a client
 * that is still dead gets its notices again. It keeps outageNotices and
 * recoveryPending, so a heartbeat after the resume still brings the recovery notice.
 */
async function toggle(call: Call) {
  const { doc, byAdmin } = await loadOwnedClient(call, true)
  if (doc.state === 0)
    throw forbidden('client is not activated: activate it before pausing or resuming')
  const paused: boolean = call.input.paused ?? !doc.paused
  if (paused !== doc.paused) {
    const now = Date.now()
    const changes = paused
      ? { paused: true }
      : { paused: false, watchedSince: now, errorCount: 0, noticeCount: 0, noticeFailures: 0 }
    // Conditional on the paused value read, so two toggles that read the same value flip the client once.
    if (await updateClients(call.db, { _id: doc._id, paused: doc.paused }, changes) > 0)
      logInfo(`client ${doc._id} ${paused ? 'paused' : 'resumed'} by ${byAdmin ? 'admin' : 'owner'}`)
  }
  return reloadRecord(call, doc._id, byAdmin)
}

/** Changes errorMax, noticeMax or sendUrl; never touches paused or the error and notice counts. */
async function update(call: Call) {
  const { doc, byAdmin } = await loadOwnedClient(call, true)
  const payload = call.input.payload as { errorMax?: number, noticeMax?: number, sendUrl?: string }
  const changes: Record<string, unknown> = { ...payload }
  if (payload.sendUrl !== undefined) {
    // Saving the push URL, even unchanged, re-arms retries: the owner may have fixed the push service behind it.
    Object.assign(changes, { noticeFailures: 0, recoveryFailures: 0, lastFailureAt: null, lastNoticeError: null })
  }
  await updateClients(call.db, { _id: doc._id }, changes)
  logInfo(`client ${doc._id} settings changed by ${byAdmin ? 'admin' : 'owner'}: ${Object.keys(payload).join(', ')}`)
  return reloadRecord(call, doc._id, byAdmin)
}

async function remove(call: Call) {
  const { doc, byAdmin } = await loadOwnedClient(call, true)
  expectOk(await call.db.collection(CLIENTS).where({ _id: doc._id }).remove(), 'remove')
  logInfo(`client ${doc._id} removed by ${byAdmin ? 'admin' : 'owner'}`)
  return undefined
}

const UNKNOWN_KEY = 'unknown key: check HEARTBEAT_SERVER_KEY in the client function'

/** Records a heartbeat at the server's own clock. */
async function receive(call: Call) {
  const key = call.input.key
  if (key === undefined)
    throw unauthorized('key is required')
  if (!isKeyFormat(key))
    throw unauthorized(UNKNOWN_KEY)
  const keyHash = hashKey(key)
  const doc = await findClient(call.db, { keyHash })
  if (!doc || !safeEqualHex(doc.keyHash, keyHash))
    throw unauthorized(UNKNOWN_KEY)
  if (doc.state === 0)
    throw forbidden('client is not activated: activate it in the console first')
  if (!await recordHeartbeat(call.db, doc, Date.now()))
    throw unauthorized(UNKNOWN_KEY)
  logInfo(`heartbeat from ${doc._id} (${hostOf(doc.clientUrl)})`)
  return { state: 2, paused: doc.paused }
}

/**
 * Stamps a heartbeat and resets the counters. The first update only matches
 * while a down notice was delivered and no recovery notice is pending yet, and
 * it sets recoveryPending, so a recovery notice is scheduled once however many
 * beats arrive together. Otherwise, unless a recovery notice is still pending,
 * the beat records the silence it ends, because a down notice that is still on
 * its way makes recordDeliveries schedule the recovery notice later.
 * Returns false when the client is gone.
 */
async function recordHeartbeat(db: Database, doc: ClientDoc, now: number): Promise<boolean> {
  const _ = db.command
  const activated = { _id: doc._id, state: _.in([1, 2]) }
  const beat = { state: 2, updatedAt: now, watchedSince: now, errorCount: 0, noticeCount: 0, noticeFailures: 0 }
  const outageMs = now - (doc.updatedAt ?? doc.watchedSince ?? now)
  const recovered = await updateClients(db, { ...activated, outageNotices: _.gt(0), recoveryPending: false }, {
    ...beat,
    recoveryPending: true,
    recoveryFailures: 0,
    outageMs,
  })
  if (recovered > 0)
    return true
  if (await updateClients(db, { ...activated, recoveryPending: false }, { ...beat, outageMs }) > 0)
    return true
  return await updateClients(db, activated, beat) > 0
}

const ADMIN_DISABLED = 'admin login is disabled: set HEARTBEAT_ADMIN_PASSWORD on the server to enable it'

async function login(call: Call) {
  if (call.settings.adminPassword === '')
    throw forbidden(ADMIN_DISABLED)
  const limitName = `login:${call.ip}`
  const buckets = rateBuckets()
  const totals = rateBuckets('total')
  const wait = rateLimitWait(buckets, limitName, LOGIN_FAILURE_LIMIT, call.now)
  if (wait > 0)
    throw new ReplyError(ReplyCode.TooManyRequests, `too many failed logins, try again in ${wait} s`)
  const totalWait = rateLimitWait(totals, 'login', LOGIN_TOTAL_FAILURE_LIMIT, call.now)
  if (totalWait > 0)
    throw new ReplyError(ReplyCode.TooManyRequests, `too many failed logins on this server, try again in ${totalWait} s`)
  const expected = createHash('sha256').update(call.settings.adminPassword).digest()
  const actual = createHash('sha256').update(call.input.password as string).digest()
  if (!timingSafeEqual(expected, actual)) {
    recordRateHit(buckets, limitName, LOGIN_WINDOW_MS, call.now)
    recordRateHit(totals, 'login', LOGIN_WINDOW_MS, call.now)
    logInfo(`admin login failed from ${call.ip}`)
    throw unauthorized('wrong password')
  }
  const expiresAt = call.now + ADMIN_TOKEN_LIFETIME_MS
  const fingerprint = adminFingerprint(call.settings.adminPassword, await readTokenSalt(call.db))
  const token = cloud.getToken({ sub: ADMIN_SUBJECT, fp: fingerprint, exp: Math.floor(expiresAt / 1000) })
  logInfo(`admin login from ${call.ip}`)
  return { token, expiresAt }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

async function list(call: Call) {
  if (call.settings.adminPassword === '')
    throw forbidden(ADMIN_DISABLED)
  if (!await isAdmin(call))
    throw unauthorized('admin token is missing, invalid or expired: log in again')
  const page: number = call.input.page ?? 1
  const pageSize: number = call.input.pageSize ?? 20
  const query: Record<string, unknown> = {}
  if (call.input.state !== undefined)
    query.state = call.input.state
  if (call.input.q)
    query.clientUrl = { $regex: escapeRegex(call.input.q), $options: 'i' }
  const total = await countClients(call.db, query)
  // page() in database-ql 1.0.0 drops the total, so the count above is separate and paging uses skip/limit.
  const result = expectOk(await call.db.collection(CLIENTS).where(query).orderBy('createdAt', 'desc').orderBy('_id', 'desc').skip((page - 1) * pageSize).limit(pageSize).get(), 'get')
  const items = (result.data as ClientDoc[]).map(toAdminRecord)
  return { items, total, page, pageSize }
}

// ---- Sweep: run by the cron trigger through schedule() ----

const NOTICE_CONCURRENCY = 8
const MAX_FAILURE_GROUPS = 6
// database-ql 1.0.0 caps one query at 1000 documents, which is also the largest HEARTBEAT_MAX_CLIENTS.
const MAX_QUERY_DOCS = 1000
const SWEEP_HISTORY_SLOTS = 1000

export interface SweepSummary {
  slot: number
  checked: number
  late: number
  counted: number
  notices: number
  failed: number
  recoveries: number
  /** Unactivated registrations removed because they passed HEARTBEAT_UNACTIVATED_TTL_SECONDS. */
  expired: number
}

export interface SweepOptions {
  db?: Database
  now?: number
  env?: Record<string, string | undefined>
}

type NoticeKind = 'down' | 'up'

interface Delivery {
  doc: ClientDoc
  kind: NoticeKind
  reason: string | null
}

interface LeasedDeliveries {
  lease: string
  leasedIds: string[]
  deliveries: Delivery[]
}

/**
 * Judges every activated, unpaused client, each at most once per sweep slot
 * and never twice within half an interval (see judgeableClauses). The
 * number of database round trips does not depend on the number of clients,
 * and it is 20 at most. They are one insert to claim the interval, two
 * cleanups of old sweep claims and of claims from before a clock step back, one removal of expired registrations, two reads of due clients, two for the notice lease and one to
 * release it, plus at most one multi-update per kind of change (up to 6 for
 * failure reasons). Indexes are created once per process.
 */
export async function schedule(options: SweepOptions = {}): Promise<SweepSummary | { slot: number, skipped: string }> {
  const settings = readSettingsForSweep(options.env ?? process.env)
  const db = options.db ?? database()
  const now = options.now ?? Date.now()
  await ensureIndexes(db)
  const slot = sweepSlot(now, settings)
  if (!await claimSlot(db, slot, now)) {
    console.log(`sweep ${slot} skipped: already swept this interval`)
    return { slot, skipped: 'already swept this interval' }
  }
  const summary = await sweep(db, slot, now, settings)
  console.log(`sweep ${slot}: checked ${summary.checked}, late ${summary.late}, counted ${summary.counted}, notices ${summary.notices}, recoveries ${summary.recoveries}, failed ${summary.failed}, expired ${summary.expired}`)
  return summary
}

function readSettingsForSweep(env: Record<string, string | undefined>): Settings {
  try {
    return readSettings(env)
  }
  catch (error) {
    console.error(`sweep not run: invalid setting: ${(error as Error).message}`)
    throw error
  }
}

/**
 * Claims a sweep slot through the unique index on `slot`; returns false when
 * another sweep already has it. A claim of a slot after the next one started
 * more than an interval after `now`, so it was made before the server clock
 * stepped back. It would make sweeps skip until the clock caught up, so the
 * sweep that claims a slot removes such claims.
 */
async function claimSlot(db: Database, slot: number, now: number): Promise<boolean> {
  if (!await addSlot(db, slot, now))
    return false
  const sweeps = db.collection(SWEEPS)
  const _ = db.command
  expectOk(await sweeps.where({ slot: _.lt(slot - SWEEP_HISTORY_SLOTS) }).remove({ multi: true }), 'remove old sweeps')
  const future = expectOk(await sweeps.where({ slot: _.gt(slot + 1) }).remove({ multi: true }), 'remove future sweeps')
  if ((future.deleted ?? 0) > 0)
    console.log(`sweep ${slot}: removed ${future.deleted} sweep claims from after ${new Date(now).toISOString()}, because the server clock moved back`)
  return true
}

/** Inserts the claim of a slot; returns false when the unique index already has one. */
async function addSlot(db: Database, slot: number, now: number): Promise<boolean> {
  try {
    const result = await db.collection(SWEEPS).add({ slot, startedAt: now })
    if (result.error && isDuplicateKeyError(result.error))
      return false
    expectOk(result, 'add sweep')
  }
  catch (error) {
    if (isDuplicateKeyError(error))
      return false
    throw error
  }
  return true
}

async function sweep(db: Database, slot: number, now: number, settings: Settings): Promise<SweepSummary> {
  const expired = await removeExpiredRegistrations(db, now, settings)
  const cutoff = lateCutoff(now, settings)
  const due = await findDueClients(db, cutoff)
  const judged = due.map(doc => ({ doc, decision: decideSweep(doc, now, settings) }))
  const idsWhere = (test: (decision: SweepDecision) => boolean) => judged.filter(entry => test(entry.decision)).map(entry => entry.doc._id)

  const counted = await countErrors(db, idsWhere(decision => decision.incrementError), cutoff, now, settings)
  const targets = idsWhere(decision => decision.sendNotice || decision.sendRecovery)
  const { lease, leasedIds, deliveries } = await deliverNotices(db, targets, now, settings)
  await recordDeliveries(db, deliveries, cutoff, now)
  // Released only after the counters are recorded: a sweep that leased in between would re-read old counters and send again.
  await releaseLease(db, lease, leasedIds)
  return {
    slot,
    checked: due.length,
    late: judged.filter(entry => entry.decision.late).length,
    counted,
    notices: deliveries.filter(entry => entry.kind === 'down' && entry.reason === null).length,
    recoveries: deliveries.filter(entry => entry.kind === 'up' && entry.reason === null).length,
    failed: deliveries.filter(entry => entry.reason !== null).length,
    expired,
  }
}

/** Removes registrations still in state 0 after HEARTBEAT_UNACTIVATED_TTL_SECONDS, through the createdAt index. */
async function removeExpiredRegistrations(db: Database, now: number, settings: Settings): Promise<number> {
  const createdBefore = now - settings.unactivatedTtlSeconds * 1000
  const result = expectOk(await db.collection(CLIENTS).where({ state: 0, createdAt: db.command.lt(createdBefore) }).remove({ multi: true }), 'remove expired registrations')
  const deleted = result.deleted ?? 0
  if (deleted > 0)
    console.log(`removed ${deleted} registrations not activated within ${settings.unactivatedTtlSeconds} s`)
  return deleted
}

/**
 * Returns the two queries for due clients: late ones through the watchedSince
 * index and those owing a recovery notice through the recoveryPending index.
 * Two queries instead of one `$or` so that every store can use an index.
 */
export function dueClientQueries(cutoff: number): Record<string, unknown>[] {
  const watched = { state: { $in: [1, 2] }, paused: false }
  return [
    { ...watched, watchedSince: { $lt: cutoff } },
    { ...watched, recoveryPending: true },
  ]
}

/** Reads the activated, unpaused clients that are late or owe a recovery notice. */
async function findDueClients(db: Database, cutoff: number): Promise<ClientDoc[]> {
  const found = new Map<string, ClientDoc>()
  for (const query of dueClientQueries(cutoff)) {
    const result = expectOk(await db.collection(CLIENTS).where(query).limit(MAX_QUERY_DOCS).get(), 'get due clients')
    for (const doc of result.data as ClientDoc[])
      found.set(String(doc._id), doc)
  }
  return [...found.values()]
}

/**
 * Adds 1 to errorCount. The conditions skip a client whose heartbeat, resume
 * or new errorMax landed after the read, or that another sweep judged less
 * than half an interval ago.
 */
async function countErrors(db: Database, ids: string[], cutoff: number, now: number, settings: Settings): Promise<number> {
  if (ids.length === 0)
    return 0
  const _ = db.command
  return updateClients(db, {
    _id: _.in(ids),
    state: _.in([1, 2]),
    paused: false,
    watchedSince: _.lt(cutoff),
    $expr: { $lt: ['$errorCount', '$errorMax'] },
    $or: judgeableClauses(now, settings),
  }, { errorCount: _.inc(1), lastJudgedAt: now })
}

/**
 * Leases the target clients to this sweep, re-reads and re-judges them, and
 * delivers the notices that are still due, 8 at a time. The lease keeps an
 * overlapping sweep (a slow one from the previous interval) from sending the
 * same notice, so the caller releases it only after recording the deliveries.
 */
async function deliverNotices(db: Database, ids: string[], now: number, settings: Settings): Promise<LeasedDeliveries> {
  if (ids.length === 0)
    return { lease: '', leasedIds: [], deliveries: [] }
  const _ = db.command
  const lease = randomBytes(8).toString('hex')
  const leaseMs = (Math.ceil(ids.length / NOTICE_CONCURRENCY) + 1) * (NOTICE_TIMEOUT_MS + 1000)
  // Raw operators inside $and and $or: database-ql passes `$`-keys through unchanged but does not encode commands inside them.
  const leaseFree = [{ noticeLease: null }, { noticeLeaseUntil: { $lt: now } }]
  await updateClients(db, { _id: _.in(ids), $and: [{ $or: leaseFree }, { $or: judgeableClauses(now, settings) }] }, { noticeLease: lease, noticeLeaseUntil: now + leaseMs, lastJudgedAt: now })
  const leased = expectOk(await db.collection(CLIENTS).where({ _id: _.in(ids), noticeLease: lease }).limit(ids.length).get(), 'get leased clients').data as ClientDoc[]
  const jobs: { doc: ClientDoc, kind: NoticeKind }[] = []
  for (const doc of leased) {
    const decision = decideSweep(doc, now, settings)
    if (decision.sendRecovery)
      jobs.push({ doc, kind: 'up' })
    else if (decision.sendNotice)
      jobs.push({ doc, kind: 'down' })
  }
  const deliveries = await mapBounded(jobs, NOTICE_CONCURRENCY, job => deliverNotice(job.doc, job.kind, now, settings))
  return { lease, leasedIds: leased.map(doc => doc._id), deliveries }
}

async function releaseLease(db: Database, lease: string, ids: string[]): Promise<void> {
  if (ids.length > 0)
    await updateClients(db, { _id: db.command.in(ids), noticeLease: lease }, { noticeLease: null, noticeLeaseUntil: null })
}

async function mapBounded<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = Array.from({ length: items.length })
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await run(items[index])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** Sends one notice; never throws. Logs the push URL's host only, because the URL may carry a push token. */
async function deliverNotice(doc: ClientDoc, kind: NoticeKind, now: number, settings: Settings): Promise<Delivery> {
  const url = fillTemplate(doc.sendUrl, buildNoticeValues(doc, kind, now))
  const label = kind === 'down' ? 'notice' : 'recovery notice'
  let reason: string | null = null
  try {
    const response = await safeGet(url, { timeoutMs: NOTICE_TIMEOUT_MS, allowPrivate: settings.allowPrivateUrls, maxBodyBytes: 0, maxUrlLength: MAX_FILLED_URL_LENGTH })
    if (response.status < 200 || response.status > 299)
      reason = `push URL returned HTTP ${response.status}`
  }
  catch (error) {
    reason = error instanceof FetchError ? error.message : 'network error'
  }
  if (reason === null) {
    console.log(`${label} sent to ${doc._id} via ${hostOf(url)}`)
    return { doc, kind, reason }
  }
  const failures = (kind === 'down' ? doc.noticeFailures : doc.recoveryFailures) + 1
  if (failures >= MAX_NOTICE_FAILURES)
    reason = `${reason} (${failures} failures in a row, next retry in ${retryIntervals(failures)} sweep intervals)`
  console.error(`${label} to ${doc._id} failed: ${reason} (via ${hostOf(url)})`)
  return { doc, kind, reason }
}

async function recordDeliveries(db: Database, deliveries: Delivery[], cutoff: number, now: number): Promise<void> {
  const _ = db.command
  const idsOf = (kind: NoticeKind) => deliveries.filter(entry => entry.kind === kind && entry.reason === null).map(entry => entry.doc._id)
  const downIds = idsOf('down')
  if (downIds.length > 0) {
    const delivered = { lastNoticeAt: now, lastNoticeError: null }
    // The owner's last message is now "down", so a recovery notice owed for an earlier silence is no longer due.
    const counted = await updateClients(db, { _id: _.in(downIds), watchedSince: _.lt(cutoff) }, {
      ...delivered,
      noticeCount: _.inc(1),
      noticeFailures: 0,
      outageNotices: _.inc(1),
      recoveryPending: false,
      recoveryFailures: 0,
    })
    if (counted < downIds.length)
      await recordInterruptedDeliveries(db, downIds, cutoff, now)
  }
  const upIds = idsOf('up')
  if (upIds.length > 0)
    await updateClients(db, { _id: _.in(upIds), recoveryPending: true }, { recoveryPending: false, recoveryFailures: 0, outageNotices: 0, lastNoticeAt: now, lastNoticeError: null })
  await recordFailures(db, deliveries.filter(entry => entry.reason !== null), cutoff, now)
}

/**
 * Records down notices delivered to clients whose heartbeat or resume landed
 * while the notice was on its way. The owner got "down", so the notice counts
 * in outageNotices. After a heartbeat (updatedAt separates it from a
 * resume), the owner is owed "up" as well.
 */
async function recordInterruptedDeliveries(db: Database, ids: string[], cutoff: number, now: number): Promise<void> {
  const _ = db.command
  await updateClients(db, { _id: _.in(ids), watchedSince: _.gte(cutoff) }, { lastNoticeAt: now, lastNoticeError: null, outageNotices: _.inc(1) })
  await updateClients(db, { _id: _.in(ids), updatedAt: _.gte(cutoff), recoveryPending: false }, { recoveryPending: true, recoveryFailures: 0 })
}

/** Records failed deliveries with one multi-update per kind and reason, lumping reasons past the sixth together. */
async function recordFailures(db: Database, failures: Delivery[], cutoff: number, now: number): Promise<void> {
  const _ = db.command
  const groups = new Map<string, { kind: NoticeKind, reason: string, ids: string[] }>()
  for (const entry of failures) {
    let reason = entry.reason as string
    if (groups.size >= MAX_FAILURE_GROUPS && !groups.has(`${entry.kind}:${reason}`))
      reason = 'delivery failed (see the server log)'
    const name = `${entry.kind}:${reason}`
    const group = groups.get(name) ?? { kind: entry.kind, reason, ids: [] }
    group.ids.push(entry.doc._id)
    groups.set(name, group)
  }
  for (const group of groups.values()) {
    if (group.kind === 'down')
      await updateClients(db, { _id: _.in(group.ids), watchedSince: _.lt(cutoff) }, { noticeFailures: _.inc(1), lastNoticeError: group.reason, lastFailureAt: now })
    else
      await updateClients(db, { _id: _.in(group.ids), recoveryPending: true }, { recoveryFailures: _.inc(1), lastNoticeError: group.reason, lastFailureAt: now })
  }
}

// ---- HTTP edge: action table, request parsing, replies ----

const ACTION_HANDLERS: Record<ActionName, (call: Call) => Promise<unknown>> = {
  getInfo,
  fetch: fetchClient,
  signup,
  active: activate,
  toggle,
  update,
  remove,
  receive,
  login,
  list,
}

/** Reads the action from `?action=` or the body's `action`; throws a 40000 ReplyError naming `action`. */
export function readAction(query: unknown, body: unknown): ActionName {
  const fromQuery = isPlainObject(query) ? query.action : undefined
  const fromBody = isPlainObject(body) ? body.action : undefined
  for (const value of [fromQuery, fromBody]) {
    if (value !== undefined && typeof value !== 'string')
      throw invalid('action must be a string')
  }
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody)
    throw invalid('action in the query and action in the body differ')
  const action = (fromQuery ?? fromBody) as string | undefined
  const valid = ACTION_NAMES.join(', ')
  if (action === undefined || action === '')
    throw invalid(`action is required: one of ${valid}`)
  if (!Object.hasOwn(ACTION_INPUTS, action))
    throw invalid(`unknown action ${showText(action)}: use one of ${valid}`)
  return action as ActionName
}

/**
 * Picks an action's input: the query for GET, the body for POST. Query
 * parameters other than `action` are rejected on POST so that a key in a
 * URL is never silently ignored.
 */
export function readInput(action: ActionName, method: string, query: unknown, body: unknown): unknown {
  if (!ACTION_INPUTS[action].methods.includes(method))
    throw invalid(`action ${action} requires ${ACTION_INPUTS[action].methods.join(' or ')}`)
  const queryFields = isPlainObject(query) ? query : {}
  if (method === 'GET')
    return queryFields
  const extra = Object.keys(queryFields).find(name => name !== 'action')
  if (extra !== undefined)
    throw invalid(`unknown query parameter ${showText(extra)}: send fields in the JSON body`)
  return body ?? {}
}

/**
 * Returns the caller's address for rate limits. Behind Laf's gateway the
 * peer is the proxy, so this trusts x-real-ip and then the last
 * x-forwarded-for entry.
 * NOTE: a client can forge these headers where no proxy overwrites them. It
 * then escapes the per-address limits and can use up another address's
 * login limit. The total limit on failed logins still caps password guessing.
 */
function clientIp(ctx: FunctionContext): string {
  return showText(readClientAddress(ctx), 64)
}

function readClientAddress(ctx: FunctionContext): string {
  const headers = (ctx.headers ?? {}) as Record<string, string | string[] | undefined>
  const realIp = headers['x-real-ip']
  if (typeof realIp === 'string' && realIp.trim() !== '')
    return realIp.trim()
  const forwarded = headers['x-forwarded-for']
  if (typeof forwarded === 'string' && forwarded.trim() !== '')
    return forwarded.split(',').at(-1)!.trim()
  return ctx.request?.socket?.remoteAddress ?? 'unknown'
}

function reply(ctx: FunctionContext, code: ReplyCodeValue, data?: unknown, message?: string) {
  ctx.response?.status(replyStatus[code])
  const body: { code: ReplyCodeValue, message?: string, data?: unknown } = { code }
  if (message !== undefined)
    body.message = message
  if (data !== undefined)
    body.data = data
  return body
}

/** Handles one request: validates, runs the action, and maps errors to replies. A 500 carries only the request id. */
export async function handleRequest(ctx: FunctionContext) {
  // Without ctx.requestId no log line carries an id, so the error log names the one made here.
  const requestId = String(ctx.requestId ?? randomBytes(8).toString('hex'))
  const logId = ctx.requestId === undefined ? ` (request id ${requestId})` : ''
  let action: ActionName | undefined
  try {
    const settings = readSettings(process.env)
    const method = String(ctx.method ?? ctx.request?.method ?? 'GET').toUpperCase()
    action = readAction(ctx.query, ctx.body)
    const input = validateInput(action, readInput(action, method, ctx.query, ctx.body), settings)
    const db = database()
    await ensureIndexes(db)
    const call: Call = { ctx, db, input, settings, ip: clientIp(ctx), now: Date.now() }
    const data = await ACTION_HANDLERS[action](call)
    return reply(ctx, ReplyCode.Ok, data)
  }
  catch (error) {
    if (error instanceof ReplyError) {
      // Reply messages name fields and hosts but never carry a key, token or password.
      logInfo(`${action ?? 'request'} rejected from ${clientIp(ctx)}: ${error.code} ${error.message}`)
      return reply(ctx, error.code, undefined, error.message)
    }
    if (error instanceof SettingsError)
      logError(`invalid setting: ${error.message}${logId}`)
    else
      logError(`request failed${logId}:`, error)
    return { ...reply(ctx, ReplyCode.InternalError, undefined, 'internal error'), requestId }
  }
}

export default async function (ctx: FunctionContext) {
  return handleRequest(ctx)
}
