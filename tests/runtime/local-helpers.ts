import type { LafApp, LafAppOptions } from '../../laf-cloud/local/index'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { startApp } from '../../laf-cloud/local/index'

export const fixtureDir = resolve(fileURLToPath(new URL('../fixtures/local-app', import.meta.url)))

/** Log sink that keeps the lines and lets a test wait for one. */
export interface LogCollector {
  lines: string[]
  log: (line: string) => void
  /** Resolves with the first line, past or future, that matches. */
  waitFor: (pattern: RegExp) => Promise<string>
}

export function collectLogs(): LogCollector {
  const lines: string[] = []
  const waiters: { pattern: RegExp, resolve: (line: string) => void }[] = []
  return {
    lines,
    log: (line) => {
      lines.push(line)
      for (const waiter of waiters.filter(w => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    },
    waitFor: (pattern) => {
      const seen = lines.find(line => pattern.test(line))
      if (seen)
        return Promise.resolve(seen)
      return new Promise(resolve => waiters.push({ pattern, resolve }))
    },
  }
}

const tempDirs: string[] = []

/** Makes a temporary folder and registers it for removal by `removeTempDirs`. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `laf-local-${prefix}-`))
  tempDirs.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0))
    rmSync(dir, { recursive: true, force: true })
}

/** Copies the fixture functions to a temporary folder that a test may edit. */
export function copyFixtures(): string {
  const dir = makeTempDir('functions')
  cpSync(fixtureDir, dir, { recursive: true })
  return dir
}

export interface TestApp {
  app: LafApp
  logs: LogCollector
  dataDir: string
}

/** Starts an app on a free port with the fixture functions and a fresh data folder. */
export async function startTestApp(options: Partial<LafAppOptions> = {}): Promise<TestApp> {
  const logs = collectLogs()
  const dataDir = options.dataDir ?? makeTempDir('data')
  const app = await startApp({
    name: 'test',
    functionsDir: fixtureDir,
    port: 0,
    watch: false,
    log: logs.log,
    ...options,
    dataDir,
  })
  return { app, logs, dataDir }
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

/**
 * Returns a `start` that starts a test app and registers an afterEach hook
 * that closes every app it started and removes the temporary folders.
 */
export function trackStartedApps(): (...args: Parameters<typeof startTestApp>) => Promise<TestApp> {
  const started: TestApp[] = []
  afterEach(async () => {
    for (const test of started.splice(0))
      await test.app.close()
    removeTempDirs()
  })
  return async (...args) => {
    const test = await startTestApp(...args)
    started.push(test)
    return test
  }
}
