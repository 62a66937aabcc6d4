import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const tsx = resolve(root, 'node_modules/.bin/tsx')

function runCli(...args: string[]) {
  const result = spawnSync(tsx, ['laf-cloud/local/cli.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('cli', () => {
  it('help lists options with defaults', () => {
    const { status, stdout } = runCli('--help')
    expect(status).toBe(0)
    const help = stdout.replace(/\s+/g, ' ')
    for (const option of [
      '--functions <dir> folder of *.ts cloud functions (default: "./laf-cloud/functions")',
      '--only <names> comma-separated names of the functions to serve (default: all in the folder)',
      '--host <host> address to listen on (default: "127.0.0.1")',
      '--port <port> port to listen on, 0 for a free port (default: 8000)',
      '--data <dir> folder of the app\'s database and JWT secret, created if missing (default: "./.laf-local/app")',
      '--env-file <file> dotenv file with the app\'s environment variables (default: none)',
      '--triggers <file> YAML file of cron triggers: triggers: [{ desc, cron, target }] (default: none)',
      '--name <name> app id, shown in logs and as cloud.appid (default: "local")',
      '--no-watch do not reload a function when its file changes (default: reload)',
    ])
      expect(help).toContain(option)
  })

  it('rejects port out of range', () => {
    const { status, stderr } = runCli('--port', '70000')
    expect(status).toBe(1)
    expect(stderr.trim()).toBe('error: option \'--port <port>\' argument \'70000\' is invalid. It must be an integer from 0 to 65535.')
  })

  it('rejects missing functions folder', () => {
    const { status, stderr } = runCli('--functions', 'no/such/folder')
    expect(status).toBe(1)
    expect(stderr.trim()).toBe('error: option \'--functions <dir>\': folder no/such/folder does not exist')
  })

  it('rejects missing triggers file', () => {
    const { status, stderr } = runCli('--functions', 'tests/fixtures/local-app', '--triggers', 'no/such.yaml')
    expect(status).toBe(1)
    expect(stderr.trim()).toBe('error: option \'--triggers <file>\': file no/such.yaml does not exist')
  })

  it('serves until SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laf-local-cli-'))
    try {
      writeFileSync(join(dir, 'app.env'), 'GREETING=from-env-file\n')
      const args = ['--functions', 'tests/fixtures/local-app', '--only', 'env', '--port', '0', '--data', join(dir, 'data'), '--env-file', join(dir, 'app.env'), '--name', 'cli', '--no-watch']
      const child = spawn(tsx, ['laf-cloud/local/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.setEncoding('utf8')
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          output += chunk
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
          if (match)
            resolve(match[1])
        })
        child.once('exit', code => reject(new Error(`cli exited with ${code}: ${output}`)))
      })
      const data = await (await fetch(`${url}/env`)).json()
      expect(data).toEqual({ greeting: 'from-env-file', cloudGreeting: 'from-env-file', sameObject: true, path: null, appid: 'cli' })
      const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
      // tsx relays the signal to the node process that runs the CLI.
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(output).toContain('received SIGINT, closing cli')
      expect(output).toMatch(/INFO \[cli\] stopped/)
    }
    finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
