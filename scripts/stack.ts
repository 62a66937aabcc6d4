import type { Server } from 'node:http'
import type { LafApp } from '../laf-cloud/local/index'
import { existsSync, mkdirSync, readFileSync, watch } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseDotenv } from 'dotenv'
import express from 'express'
import { startApp } from '../laf-cloud/local/index'
import { consoleSink } from '../laf-cloud/local/logger'
import { buildConsole } from './console-build'

export const projectRoot = resolve(fileURLToPath(new URL('..', import.meta.url)))
export const serverFunction = '__heartbeat_server_test'
export const clientFunction = '__heartbeat_client_test'
const serverTrigger = '__heartbeat_server_trigger'
const clientTrigger = '__heartbeat_client_trigger'
const clientSettings = ['HEARTBEAT_SERVER_URL', 'HEARTBEAT_SERVER_KEY']

export interface StackOptions {
  serverPort?: number
  clientPort?: number
  consolePort?: number
  /** Folder for both apps' databases and secrets, and the client's env file. */
  dataDir?: string
  /** Variables to read `HEARTBEAT_*` settings from; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Cron of both triggers; `null` turns cron off, so tests run triggers by hand. */
  cron?: string | null
  /**
   * Runs both triggers every this many seconds instead of by cron, to try the
   * service without waiting minutes. Laf's own cron never fires more than once a minute.
   */
  triggerIntervalSeconds?: number
  /** Serve the console; when false, no build and no console server. */
  console?: boolean
  log?: (line: string) => void
}

export interface Stack {
  server: LafApp
  client: LafApp
  serverUrl: string
  clientUrl: string
  consoleUrl: string | null
  dataDir: string
  /** Sets a variable of the client app, as editing `.laf-local/client.env` does. */
  setClientEnv: (name: string, value: string) => void
  close: () => Promise<void>
}

/** Splits the environment: client settings go to the client app, the other HEARTBEAT_* to the server app. */
export function splitHeartbeatEnv(env: NodeJS.ProcessEnv): { server: Record<string, string>, client: Record<string, string> } {
  const server: Record<string, string> = {}
  const client: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('HEARTBEAT_') || value === undefined)
      continue
    if (clientSettings.includes(name))
      client[name] = value
    else
      server[name] = value
  }
  // Everything in the local stack is on loopback, which the server otherwise rejects.
  server.HEARTBEAT_ALLOW_PRIVATE_URLS = 'true'
  return { server, client }
}

function readClientEnvFile(path: string): Record<string, string> {
  if (!existsSync(path))
    return {}
  const values = parseDotenv(readFileSync(path))
  return Object.fromEntries(Object.entries(values).filter(([name]) => clientSettings.includes(name)))
}

function triggersFor(target: string, cron: string | null) {
  return cron === null ? [] : [{ desc: `${target} every minute`, cron, target }]
}

async function serveConsole(root: string, port: number, log: (line: string) => void): Promise<Server> {
  const outputDir = await buildConsole(root, log)
  const app = express()
  app.disable('x-powered-by')
  app.use(express.static(outputDir))
  const fallback = existsSync(join(outputDir, '200.html')) ? '200.html' : 'index.html'
  app.use((_request, response) => response.sendFile(join(outputDir, fallback)))
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server))
    server.once('error', reject)
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise(resolve => server.close(() => resolve()))
}

/** Returns the cron of both triggers, or null when a timer runs them or the caller turned cron off. */
function triggerCron(options: StackOptions): string | null {
  if (options.triggerIntervalSeconds !== undefined)
    return null
  if (options.cron === undefined)
    return '* * * * *'
  return options.cron
}

interface FunctionAppOptions {
  name: 'server' | 'client'
  functions: string[]
  trigger: string
  port: number
  dataDir: string
  env: Record<string, string>
  cron: string | null
  log: (line: string) => void
}

/** Starts one app of the stack: two functions of laf-cloud/functions, its trigger, errors-only access log. */
function startFunctionApp(options: FunctionAppOptions): Promise<LafApp> {
  return startApp({
    name: options.name,
    functionsDir: join(projectRoot, 'laf-cloud', 'functions'),
    only: options.functions,
    port: options.port,
    dataDir: join(options.dataDir, options.name),
    env: options.env,
    triggers: triggersFor(options.trigger, options.cron),
    accessLog: 'errors',
    log: options.log,
  })
}

/** Starts the server app, the client app and the console, all on 127.0.0.1. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? consoleSink
  const dataDir = resolve(options.dataDir ?? join(projectRoot, '.laf-local'))
  const interval = options.triggerIntervalSeconds
  const cron = triggerCron(options)
  mkdirSync(dataDir, { recursive: true })
  const { server: serverEnv, client: clientEnvFromProcess } = splitHeartbeatEnv(options.env ?? process.env)

  const server = await startFunctionApp({
    name: 'server',
    functions: [serverFunction, serverTrigger],
    trigger: serverTrigger,
    port: options.serverPort ?? 8001,
    dataDir,
    env: serverEnv,
    cron,
    log,
  })
  const serverUrl = server.functionUrl(serverFunction)

  const clientEnvFile = join(dataDir, 'client.env')
  const clientEnvDefaults: Record<string, string> = { HEARTBEAT_SERVER_URL: serverUrl, ...clientEnvFromProcess }
  const clientEnv: Record<string, string> = { ...clientEnvDefaults, ...readClientEnvFile(clientEnvFile) }
  const client = await startFunctionApp({
    name: 'client',
    functions: [clientFunction, clientTrigger],
    trigger: clientTrigger,
    port: options.clientPort ?? 8002,
    dataDir,
    env: clientEnv,
    cron,
    log,
  })

  // Editing the env file takes effect at the next call, as a changed variable does on Laf after a
  // restart. A line removed from the file falls back to the value the stack started with.
  const envWatcher = watch(dataDir, (_event, file) => {
    if (file !== 'client.env')
      return
    const fromFile = readClientEnvFile(clientEnvFile)
    for (const name of clientSettings) {
      const value = fromFile[name] ?? clientEnvDefaults[name]
      if (value === undefined)
        delete clientEnv[name]
      else
        clientEnv[name] = value
    }
    log(`INFO [client] read ${clientEnvFile}`)
  })

  // Errors are logged by runTrigger itself; the catch only keeps the timer alive.
  const timers = interval === undefined
    ? []
    : [
        setInterval(() => client.runTrigger(clientTrigger).catch(() => {}), interval * 1000),
        setInterval(() => server.runTrigger(serverTrigger).catch(() => {}), interval * 1000),
      ]

  let consoleServer: Server | null = null
  let consoleUrl: string | null = null
  if (options.console !== false) {
    consoleServer = await serveConsole(projectRoot, options.consolePort ?? 3000, log)
    const address = consoleServer.address()
    const port = typeof address === 'object' && address ? address.port : options.consolePort
    consoleUrl = `http://127.0.0.1:${port}/?server=${encodeURIComponent(serverUrl)}`
  }

  return {
    server,
    client,
    serverUrl,
    clientUrl: client.functionUrl(clientFunction),
    consoleUrl,
    dataDir,
    setClientEnv: (name, value) => {
      clientEnv[name] = value
    },
    close: async () => {
      timers.forEach(timer => clearInterval(timer))
      envWatcher.close()
      if (consoleServer)
        await closeServer(consoleServer)
      await client.close()
      await server.close()
    },
  }
}
