import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConsole } from '../../scripts/console-build'
import { projectRoot } from '../../scripts/stack'

interface RunningStack {
  child: ChildProcessWithoutNullStreams
  output: () => string
  serverUrl: string
  clientUrl: string
  consoleUrl: string
}

const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx')
let dataDir: string

/** Starts `scripts/start.ts`, the script behind `npm start`, and waits for its URLs. */
function startScript(env: Record<string, string>): Promise<RunningStack> {
  const child = spawn(tsx, ['scripts/start.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SERVER_PORT: '0', CLIENT_PORT: '0', CONSOLE_PORT: '0', LAF_LOCAL_DATA: dataDir, ...env },
  })
  let output = ''
  child.stdout.on('data', chunk => output += chunk)
  child.stderr.on('data', chunk => output += chunk)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start in 60 s:\n${output}`)), 60_000)
    const check = () => {
      const server = output.match(/server function\s+(\S+)/)
      const client = output.match(/client function\s+(\S+)/)
      const consoleUrl = output.match(/console\s+(http\S+)/)
      if (server && client && consoleUrl && output.includes('Press Ctrl-C')) {
        clearTimeout(timer)
        resolve({ child, output: () => output, serverUrl: server[1], clientUrl: client[1], consoleUrl: consoleUrl[1] })
      }
    }
    child.stdout.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the stack exited with code ${code}:\n${output}`))
    })
  })
}

function stopScript(stack: RunningStack): Promise<number | null> {
  return new Promise((resolve) => {
    stack.child.removeAllListeners('exit')
    stack.child.on('exit', code => resolve(code))
    stack.child.kill('SIGINT')
  })
}

async function callServer(url: string, body: Record<string, unknown>): Promise<{ status: number, body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() }
}

beforeAll(async () => {
  await buildConsole(projectRoot, () => {})
  dataDir = mkdtempSync(join(tmpdir(), 'heartbeat-start-'))
})

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true })
})

describe('npm start', () => {
  it('serves both apps and the console, then stops on SIGINT', async () => {
    const stack = await startScript({ HEARTBEAT_MAX_CLIENTS: '7' })
    try {
      const info = await fetch(`${stack.serverUrl}?action=getInfo`)
      expect(info.status).toBe(200)
      const infoBody = await info.json() as { data: { max: number } }
      expect(infoBody.data.max).toBe(7)

      const consoleUrl = new URL(stack.consoleUrl)
      expect(consoleUrl.searchParams.get('server')).toBe(stack.serverUrl)
      const page = await fetch(stack.consoleUrl)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<div id="__nuxt">')

      const signup = await callServer(stack.serverUrl, { action: 'signup', clientUrl: stack.clientUrl })
      expect(signup.body.code).toBe(20000)
      writeFileSync(join(dataDir, 'client.env'), `HEARTBEAT_SERVER_KEY=${signup.body.data.key}\n`)
      // The stack rereads client.env when it changes; activation proves the client app has the key.
      let active = { status: 0, body: { code: 0 } as any }
      for (let attempt = 0; attempt < 50 && active.body.code !== 20000; attempt++) {
        await new Promise(resolve => setTimeout(resolve, 100))
        active = await callServer(stack.serverUrl, { action: 'active', id: signup.body.data.client.id, key: signup.body.data.key })
      }
      expect(active.body.code).toBe(20000)
      expect(active.body.data.state).toBe(1)

      const triggerUrl = stack.clientUrl.replace('__heartbeat_client_test', '__heartbeat_client_trigger')
      const trigger = await fetch(triggerUrl, { method: 'POST' })
      expect(trigger.status).toBe(200)
      expect(await trigger.json()).toMatchObject({ ok: true, code: 20000 })
      expect(stack.output()).toMatch(/heartbeat from [0-9a-f]+/)

      // Removing the line from client.env takes the key away again, which silences the client.
      writeFileSync(join(dataDir, 'client.env'), '')
      let outcome = { ok: true }
      for (let attempt = 0; attempt < 50 && outcome.ok; attempt++) {
        await new Promise(resolve => setTimeout(resolve, 100))
        outcome = await (await fetch(triggerUrl, { method: 'POST' })).json() as { ok: boolean }
      }
      expect(outcome).toMatchObject({ ok: false, message: expect.stringContaining('HEARTBEAT_SERVER_KEY is not set') })
      expect(stack.output()).not.toContain(signup.body.data.key)
    }
    finally {
      expect(await stopScript(stack)).toBe(0)
    }
  })

  it('keeps data across a restart', async () => {
    const stack = await startScript({})
    try {
      const info = await (await fetch(`${stack.serverUrl}?action=getInfo`)).json() as { data: { count: number } }
      expect(info.data.count).toBe(1)
    }
    finally {
      expect(await stopScript(stack)).toBe(0)
    }
  })

  it('runs triggers on a short interval', async () => {
    const fastDir = mkdtempSync(join(tmpdir(), 'heartbeat-start-fast-'))
    const stack = await startScript({
      LAF_LOCAL_DATA: fastDir,
      TRIGGER_INTERVAL_SECONDS: '1',
      HEARTBEAT_LATE_AFTER_SECONDS: '1',
      HEARTBEAT_SWEEP_INTERVAL_SECONDS: '1',
    })
    try {
      const signup = await callServer(stack.serverUrl, { action: 'signup', clientUrl: stack.clientUrl })
      const { client, key } = signup.body.data
      writeFileSync(join(fastDir, 'client.env'), `HEARTBEAT_SERVER_KEY=${key}\n`)
      let record = { state: 0 }
      for (let attempt = 0; attempt < 100 && record.state !== 2; attempt++) {
        await new Promise(resolve => setTimeout(resolve, 100))
        await callServer(stack.serverUrl, { action: 'active', id: client.id, key })
        record = (await callServer(stack.serverUrl, { action: 'fetch', clientUrl: stack.clientUrl, key })).body.data
      }
      // No heartbeat was sent by hand, so the client trigger's timer sent it.
      expect(record.state).toBe(2)
      expect(stack.output()).toMatch(/sweep \d+: checked \d+/)
    }
    finally {
      expect(await stopScript(stack)).toBe(0)
      rmSync(fastDir, { recursive: true, force: true })
    }
  })

  it('rejects an invalid trigger interval', async () => {
    await expect(startScript({ TRIGGER_INTERVAL_SECONDS: '0.5' })).rejects.toThrow('TRIGGER_INTERVAL_SECONDS must be an integer from 1 to 3600, got "0.5"')
  })

  it('rejects an invalid port by name', async () => {
    await expect(startScript({ SERVER_PORT: 'eighty' })).rejects.toThrow('SERVER_PORT must be an integer from 0 to 65535, got "eighty"')
  })
})
