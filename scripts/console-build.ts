import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** Folders and files whose changes mean the generated console is out of date. */
const consoleSources = [
  'app.vue',
  'nuxt.config.ts',
  'uno.config.ts',
  'pages',
  'components',
  'composables',
  'stores',
  'utils',
  'i18n',
  'locales',
  'public',
  'types',
]

function newestChange(path: string): number {
  if (!existsSync(path))
    return 0
  const stat = statSync(path)
  if (!stat.isDirectory())
    return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const entry of readdirSync(path))
    newest = Math.max(newest, newestChange(join(path, entry)))
  return newest
}

export function consoleOutputDir(root: string): string {
  return join(root, '.output', 'public')
}

/** Returns whether `.output/public` is missing or older than any console source. */
export function isConsoleStale(root: string): boolean {
  const index = join(consoleOutputDir(root), 'index.html')
  if (!existsSync(index))
    return true
  const builtAt = statSync(index).mtimeMs
  return consoleSources.some(source => newestChange(join(root, source)) > builtAt)
}

/** A build that has held the lock this long is taken to have died. */
const staleLockMs = 10 * 60_000

/**
 * Takes the build lock, a folder because mkdir is atomic, so two test files or a test
 * and `npm start` never run `nuxt generate` into the same folder at once.
 */
async function acquireBuildLock(root: string): Promise<string> {
  const lock = join(root, '.nuxt-generate.lock')
  for (;;) {
    try {
      mkdirSync(lock)
      return lock
    }
    catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw error
      if (Date.now() - statSync(lock).mtimeMs > staleLockMs)
        rmSync(lock, { recursive: true, force: true })
      else
        await sleep(500)
    }
  }
}

function runGenerate(root: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn('npx', ['nuxt', 'generate'], { cwd: root, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', chunk => output += chunk)
    child.stderr.on('data', chunk => output += chunk)
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code === 0)
        resolve()
      else
        reject(new Error(`nuxt generate failed with exit code ${code}:\n${output.slice(-4000)}`))
    })
  })
}

/** Runs `nuxt generate` when the generated console is stale, and resolves with its folder. */
export async function buildConsole(root: string, log: (line: string) => void): Promise<string> {
  const outputDir = consoleOutputDir(root)
  if (!isConsoleStale(root))
    return outputDir
  const lock = await acquireBuildLock(root)
  try {
    // Another process may have built it while this one waited for the lock.
    if (isConsoleStale(root)) {
      log('INFO [console] building the console with nuxt generate')
      await runGenerate(root)
      log(`INFO [console] built into ${outputDir}`)
    }
  }
  finally {
    rmSync(lock, { recursive: true, force: true })
  }
  return outputDir
}
