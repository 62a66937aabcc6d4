import type { LafApp } from '../../laf-cloud/local/index'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startApp } from '../../laf-cloud/local/index'

export const FUNCTIONS_DIR = resolve(fileURLToPath(new URL('../../laf-cloud/functions', import.meta.url)))
export const SERVER_FUNCTION = '__heartbeat_server_test'
export const SERVER_TRIGGER = '__heartbeat_server_trigger'
export const CLIENT_FUNCTION = '__heartbeat_client_test'
export const CLIENT_TRIGGER = '__heartbeat_client_trigger'
export const ADMIN_PASSWORD = 'correct horse battery'
export const SERVER_SECRET = 'test-server-secret-0123456789abcdef'

/** Server settings for tests: 1 s late-after and sweep interval, private URLs allowed because everything runs on 127.0.0.1. */
export const FAST_SERVER_ENV: Record<string, string> = {
  HEARTBEAT_ALLOW_PRIVATE_URLS: 'true',
  HEARTBEAT_LATE_AFTER_SECONDS: '1',
  HEARTBEAT_SWEEP_INTERVAL_SECONDS: '1',
  HEARTBEAT_MAX_CLIENTS: '50',
  HEARTBEAT_ADMIN_PASSWORD: ADMIN_PASSWORD,
}

export const SWEEP_INTERVAL_MS = 1000

export interface ServerApp {
  app: LafApp
  dataDir: string
  /** Folder the functions are served from: FUNCTIONS_DIR, or one made by makeSweepFunctionsDir. */
  functionsDir: string
  env: Record<string, string>
  logs: string[]
  /** URL of the server function. */
  url: string
}

export interface Stack {
  server: ServerApp
  client: LafApp
  /** The client app's environment; the runtime reads it live, so tests set HEARTBEAT_SERVER_KEY here. */
  clientEnv: Record<string, string>
  clientLogs: string[]
  /** URL of the client function, the clientUrl to register. */
  clientUrl: string
  /** Closes the server app and starts it again on the same data folder. */
  restartServer: () => Promise<void>
  close: () => Promise<void>
}

const tempDirs: string[] = []

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

/** Removes the data folders made by makeTempDir; call it after the apps are closed. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0))
    rmSync(dir, { recursive: true, force: true })
}

/** Starts an app that serves the server function, its trigger and any extra functions of `functionsDir`, on a random port. */
export async function startServerApp(env: Record<string, string> = FAST_SERVER_ENV, dataDir = makeTempDir('heartbeat-server-'), functionsDir = FUNCTIONS_DIR, extraFunctions: string[] = []): Promise<ServerApp> {
  const logs: string[] = []
  const app = await startApp({
    name: 'heartbeat-server',
    functionsDir,
    only: [SERVER_FUNCTION, SERVER_TRIGGER, ...extraFunctions],
    port: 0,
    dataDir,
    env,
    secret: SERVER_SECRET,
    watch: false,
    log: line => logs.push(line),
  })
  return { app, dataDir, functionsDir, env, logs, url: app.functionUrl(SERVER_FUNCTION) }
}

/** Starts a server app and a client app, two separate "Laf instances" on 127.0.0.1. */
export async function startStack(serverEnv: Record<string, string> = FAST_SERVER_ENV, functionsDir = FUNCTIONS_DIR, extraFunctions: string[] = []): Promise<Stack> {
  const server = await startServerApp({ ...serverEnv }, undefined, functionsDir, extraFunctions)
  const clientLogs: string[] = []
  const clientEnv: Record<string, string> = { HEARTBEAT_SERVER_URL: server.url }
  const client = await startApp({
    name: 'heartbeat-client',
    functionsDir: FUNCTIONS_DIR,
    only: [CLIENT_FUNCTION, CLIENT_TRIGGER],
    port: 0,
    dataDir: makeTempDir('heartbeat-client-'),
    env: clientEnv,
    watch: false,
    log: line => clientLogs.push(line),
  })
  const stack: Stack = {
    server,
    client,
    clientEnv,
    clientLogs,
    clientUrl: client.functionUrl(CLIENT_FUNCTION),
    restartServer: async () => {
      await stack.server.app.close()
      const port = new URL(stack.server.url).port
      stack.server = await startServerApp(stack.server.env, stack.server.dataDir, stack.server.functionsDir, extraFunctions)
      // The client keeps sending to the old port unless its environment names the new one.
      if (new URL(stack.server.url).port !== port)
        clientEnv.HEARTBEAT_SERVER_URL = stack.server.url
    },
    close: async () => {
      await Promise.all([stack.server.app.close(), client.close()])
    },
  }
  return stack
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

let lastSweepEndedAt = 0

/** Notes that a sweep ended now, so the next wait leaves the half interval that the server requires between two judgements of a client. */
export function noteSweepEnded(): void {
  lastSweepEndedAt = Date.now()
}

/**
 * Waits until 20 ms into the first sweep slot that starts after `time`, after
 * now and at least half an interval after the last sweep ended. The sweeps a
 * test runs next then share one fresh slot that no earlier sweep used, and
 * the server judges their clients again. Slots of the 1 s interval start at
 * x.500 s because the server shifts them by half an interval.
 */
export async function waitForSlotAfter(time: number): Promise<void> {
  const from = Math.max(time, Date.now(), lastSweepEndedAt + SWEEP_INTERVAL_MS / 2)
  const slotStart = (Math.floor((from + SWEEP_INTERVAL_MS / 2) / SWEEP_INTERVAL_MS) + 1) * SWEEP_INTERVAL_MS - SWEEP_INTERVAL_MS / 2
  await sleep(slotStart + 20 - Date.now())
}

export function waitForNextSlot(): Promise<void> {
  return waitForSlotAfter(Date.now())
}

/** Late-after (1 s) plus the server's jitter tolerance (a tenth), plus a margin: after this long without a beat a client is late. */
export const LATE_MS = 1150

/** Waits for a fresh sweep slot in which a client last watched at `since` is late. */
export function waitUntilLate(since: number): Promise<void> {
  return waitForSlotAfter(since + LATE_MS)
}
