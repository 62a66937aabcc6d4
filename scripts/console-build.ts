import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

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

/** Runs `nuxt generate` when the generated console is stale, and resolves with its folder. */
export async function buildConsole(root: string, log: (line: string) => void): Promise<string> {
  const outputDir = consoleOutputDir(root)
  if (!isConsoleStale(root))
    return outputDir
  log('building the console with nuxt generate (once, about a minute)')
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npx', ['nuxt', 'generate'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
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
  return outputDir
}
