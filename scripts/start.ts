import process from 'node:process'
import { startStack } from './stack'

const usage = `Usage: npm start

Starts the local stack on 127.0.0.1: the heartbeat server app, a client app
and the console, with both triggers running every minute.

Environment variables:
  SERVER_PORT      port of the server app (default 8001)
  CLIENT_PORT      port of the client app (default 8002)
  CONSOLE_PORT     port of the console (default 3000)
  LAF_LOCAL_DATA   folder for the apps' data (default .laf-local)
  TRIGGER_INTERVAL_SECONDS
                   run both triggers every this many seconds instead of
                   every minute by cron, to try the service quickly
  HEARTBEAT_*      server settings, passed to the server app
  HEARTBEAT_SERVER_URL, HEARTBEAT_SERVER_KEY
                   client settings, passed to the client app; they can also
                   be written to <LAF_LOCAL_DATA>/client.env while it runs
`

/** Reads an integer variable in a range; exits with a message naming it when the value is invalid. */
function readInteger(name: string, min: number, max: number): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '')
    return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
    process.exit(2)
  }
  return value
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage)
    return
  }
  const stack = await startStack({
    serverPort: readInteger('SERVER_PORT', 0, 65535) ?? 8001,
    clientPort: readInteger('CLIENT_PORT', 0, 65535) ?? 8002,
    consolePort: readInteger('CONSOLE_PORT', 0, 65535) ?? 3000,
    dataDir: process.env.LAF_LOCAL_DATA || undefined,
    triggerIntervalSeconds: readInteger('TRIGGER_INTERVAL_SECONDS', 1, 3600),
  })
  console.log('')
  console.log(`server function  ${stack.serverUrl}`)
  console.log(`client function  ${stack.clientUrl}`)
  console.log(`console          ${stack.consoleUrl}`)
  console.log(`data             ${stack.dataDir}`)
  console.log(`client settings  ${stack.dataDir}/client.env (HEARTBEAT_SERVER_KEY=...)`)
  console.log('Press Ctrl-C to stop.')

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping)
      return
    stopping = true
    console.log(`received ${signal}, stopping`)
    await stack.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

main().catch((error) => {
  console.error(`the local stack failed to start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
