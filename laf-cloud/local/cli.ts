import type { LafAppOptions } from './types'
import { existsSync, readFileSync, statSync } from 'node:fs'
import process from 'node:process'
import { Command, InvalidArgumentError } from 'commander'
import { parse as parseDotenv } from 'dotenv'

function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65535)
    throw new InvalidArgumentError('It must be an integer from 0 to 65535.')
  return port
}

function parseNames(value: string): string[] {
  const names = value.split(',').map(name => name.trim()).filter(Boolean)
  if (names.length === 0)
    throw new InvalidArgumentError('It must list at least one function name, separated by commas.')
  return names
}

interface CliOptions {
  functions: string
  only?: string[]
  host: string
  port: number
  data: string
  envFile?: string
  triggers?: string
  name: string
  watch: boolean
}

function createProgram(): Command {
  return new Command()
    .name('laf-local')
    .description('Host a folder of Laf cloud functions on this machine, as one Laf app.')
    .option('--functions <dir>', 'folder of *.ts cloud functions', './laf-cloud/functions')
    .option('--only <names>', 'comma-separated names of the functions to serve (default: all in the folder)', parseNames)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 for a free port', parsePort, 8000)
    .option('--data <dir>', 'folder of the app\'s database and JWT secret, created if missing', './.laf-local/app')
    // NOTE: under tsx, Node 20 also reads --env-file from this command line, after
    // the script name too. It loads the file into the runtime's own process.env
    // (functions still see only the app environment) and exits with code 9 and
    // "node: <file>: not found" before this check when the file is missing.
    .option('--env-file <file>', 'dotenv file with the app\'s environment variables (default: none)')
    .option('--triggers <file>', 'YAML file of cron triggers: triggers: [{ desc, cron, target }] (default: none)')
    .option('--name <name>', 'app id, shown in logs and as cloud.appid', 'local')
    .option('--no-watch', 'do not reload a function when its file changes (default: reload)')
}

/** Checks the paths of the options; each message names the option. */
function checkPaths(program: Command, options: CliOptions): void {
  if (!existsSync(options.functions) || !statSync(options.functions).isDirectory())
    program.error(`error: option '--functions <dir>': folder ${options.functions} does not exist`)
  if (options.envFile !== undefined && !existsSync(options.envFile))
    program.error(`error: option '--env-file <file>': file ${options.envFile} does not exist`)
  if (options.triggers !== undefined && !existsSync(options.triggers))
    program.error(`error: option '--triggers <file>': file ${options.triggers} does not exist`)
}

function toAppOptions(options: CliOptions): LafAppOptions {
  return {
    name: options.name,
    functionsDir: options.functions,
    only: options.only,
    host: options.host,
    port: options.port,
    dataDir: options.data,
    env: options.envFile ? parseDotenv(readFileSync(options.envFile)) : {},
    triggersFile: options.triggers,
    watch: options.watch,
  }
}

async function main(): Promise<void> {
  const program = createProgram()
  program.parse()
  const options = program.opts<CliOptions>()
  checkPaths(program, options)
  // Loaded after parsing, so --help and option errors do not wait for the database packages.
  const { startApp } = await import('./app')
  const app = await startApp(toAppOptions(options))
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`received ${signal} again, exiting without a clean close`)
      process.exit(1)
    }
    stopping = true
    console.log(`received ${signal}, closing ${app.name}`)
    app.close().then(() => process.exit(0), (error) => {
      console.error(`closing failed: ${error instanceof Error ? error.message : String(error)}`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((error) => {
  console.error(`laf-local failed to start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
