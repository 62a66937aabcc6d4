import type { Params } from 'database-proxy'
import type { ServerApp } from './stack'
import { symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getDb } from 'database-proxy'
import { LocalAccessor } from '../../laf-cloud/local/store/accessor'
import { DocumentStore } from '../../laf-cloud/local/store/store'
import { FUNCTIONS_DIR, makeTempDir, SERVER_FUNCTION, SERVER_TRIGGER } from './stack'

/** A test-only function that calls the server's `schedule()` with its request body as the options. */
export const SWEEP_WITH_FUNCTION = '__heartbeat_sweep_with'

const SWEEP_WITH_SOURCE = `import { schedule } from '@/${SERVER_FUNCTION}'

export default async function (ctx: FunctionContext) {
  return schedule(ctx.body)
}
`

/**
 * Makes a functions folder with links to the real server function and
 * trigger, plus SWEEP_WITH_FUNCTION, so a test can run a sweep with an
 * injected database, clock and settings in the server app's own process.
 */
export function makeSweepFunctionsDir(): string {
  const dir = makeTempDir('heartbeat-functions-')
  for (const name of [SERVER_FUNCTION, SERVER_TRIGGER]) {
    for (const extension of ['ts', 'yaml'])
      symlinkSync(join(FUNCTIONS_DIR, `${name}.${extension}`), join(dir, `${name}.${extension}`))
  }
  writeFileSync(join(dir, `${SWEEP_WITH_FUNCTION}.ts`), SWEEP_WITH_SOURCE)
  writeFileSync(join(dir, `${SWEEP_WITH_FUNCTION}.yaml`), `name: ${SWEEP_WITH_FUNCTION}\nmethods:\n  - POST\n`)
  return dir
}

export interface SweepWithOptions {
  db?: unknown
  now?: number
  env?: Record<string, string>
}

/** Runs `schedule(options)` inside the server app; the app must serve a folder from makeSweepFunctionsDir. */
export function sweepWith(server: ServerApp, options: SweepWithOptions): Promise<any> {
  return server.app.invoke(SWEEP_WITH_FUNCTION, { body: options } as any)
}

/** Called before each database request; the request waits until the returned promise settles. */
export type BeforeRequest = (params: Params) => Promise<void> | void

export interface HookedDatabase {
  /** A database-ql database, what `cloud.database()` returns. */
  db: unknown
  close: () => void
}

/**
 * Opens the server app's database file through a second accessor whose
 * requests first await `before`, so a test can stop one sweep at an exact
 * request and run another sweep in that gap.
 */
export function openHookedDatabase(server: ServerApp, before: BeforeRequest): HookedDatabase {
  const inner = new LocalAccessor(new DocumentStore(join(server.dataDir, 'db.sqlite'), 'hooked'))
  const hooked = Object.create(inner) as LocalAccessor
  hooked.execute = async (params: Params) => {
    await before(params)
    return inner.executeSync(params)
  }
  return { db: getDb(hooked), close: () => inner.close() }
}

/** True when a request is an update whose changes set `field`. */
export function updatesField(params: Params, field: string): boolean {
  if (params.action !== 'database.updateDocument')
    return false
  const data = (params.data ?? {}) as Record<string, unknown>
  return Object.values(data).some(changes => typeof changes === 'object' && changes !== null && Object.hasOwn(changes, field)) || Object.hasOwn(data, field)
}
