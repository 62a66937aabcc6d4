import type { LafTrigger } from './triggers'
import type { LafAppOptions } from './types'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { consoleSink } from './logger'
import { normalizeTrigger, readTriggersFile } from './triggers'

/** Options after checks, with defaults filled in and paths made absolute. */
export interface ResolvedOptions {
  name: string
  functionsDir: string
  only?: string[]
  host: string
  port: number
  dataDir: string
  env: Record<string, string>
  secret?: string
  triggers: LafTrigger[]
  watch: boolean
  log: (line: string) => void
  accessLog: 'all' | 'errors'
  projectRoot: string
}

const functionName = /^[\w-]+$/

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory()
}

/** Finds the nearest folder at or above `start` with a package.json, else the working directory. */
export function findProjectRoot(start: string): string {
  for (let folder = start; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'package.json')))
      return folder
    if (dirname(folder) === folder)
      return process.cwd()
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name))
    throw new Error(`name must be 1 to 64 letters, digits, _, - or ., got ${JSON.stringify(name)}`)
  return name
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`port must be an integer from 0 to 65535, got ${JSON.stringify(port)}`)
  return port
}

function checkEnv(env: unknown): Record<string, string> {
  if (env === undefined)
    return {}
  if (typeof env !== 'object' || env === null || Array.isArray(env))
    throw new Error('env must be an object of strings')
  const wrong = Object.entries(env).find(([, value]) => typeof value !== 'string')
  if (wrong)
    throw new Error(`env.${wrong[0]} must be a string, got ${typeof wrong[1]}`)
  return env as Record<string, string>
}

function checkOnly(only: unknown, functionsDir: string): string[] | undefined {
  if (only === undefined)
    return undefined
  if (!Array.isArray(only))
    throw new Error('only must be a list of function names')
  for (const name of only) {
    if (typeof name !== 'string' || !functionName.test(name))
      throw new Error(`only: ${JSON.stringify(name)} is not a function name (letters, digits, _ and -)`)
    if (!existsSync(join(functionsDir, `${name}.ts`)))
      throw new Error(`only: function ${name} has no file ${name}.ts in ${functionsDir}`)
  }
  return only
}

function collectTriggers(options: LafAppOptions, functionsDir: string): LafTrigger[] {
  if (options.triggers !== undefined && !Array.isArray(options.triggers))
    throw new Error('triggers must be a list')
  const triggers: LafTrigger[] = (options.triggers ?? []).map((trigger, position) => normalizeTrigger(trigger, `triggers[${position}]`))
  if (options.triggersFile !== undefined) {
    if (!existsSync(options.triggersFile))
      throw new Error(`triggersFile: ${options.triggersFile} does not exist`)
    triggers.push(...readTriggersFile(options.triggersFile))
  }
  for (const trigger of triggers) {
    if (!functionName.test(trigger.target) || !existsSync(join(functionsDir, `${trigger.target}.ts`)))
      throw new Error(`trigger ${trigger.desc ?? trigger.target}: target ${trigger.target} has no file ${trigger.target}.ts in ${functionsDir}`)
  }
  return triggers
}

/** Checks the options of startApp; each error names the option and the rule. */
export function resolveOptions(options: LafAppOptions): ResolvedOptions {
  const name = checkName(options.name)
  if (typeof options.functionsDir !== 'string' || !isDirectory(resolve(options.functionsDir)))
    throw new Error(`functionsDir: folder ${String(options.functionsDir)} does not exist`)
  const functionsDir = resolve(options.functionsDir)
  if (typeof options.dataDir !== 'string' || options.dataDir === '')
    throw new Error('dataDir must be a folder path')
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === ''))
    throw new Error('host must be a host name or an IP address')
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret === ''))
    throw new Error('secret must be a non-empty string')
  if (options.log !== undefined && typeof options.log !== 'function')
    throw new Error('log must be a function that takes a line')
  if (options.accessLog !== undefined && options.accessLog !== 'all' && options.accessLog !== 'errors')
    throw new Error(`accessLog must be 'all' or 'errors', got ${JSON.stringify(options.accessLog)}`)
  return {
    name,
    functionsDir,
    only: checkOnly(options.only, functionsDir),
    host: options.host ?? '127.0.0.1',
    port: checkPort(options.port ?? 8000),
    dataDir: resolve(options.dataDir),
    env: checkEnv(options.env),
    secret: options.secret,
    triggers: collectTriggers(options, functionsDir),
    watch: options.watch ?? true,
    log: options.log ?? consoleSink,
    accessLog: options.accessLog ?? 'all',
    projectRoot: resolve(options.projectRoot ?? findProjectRoot(functionsDir)),
  }
}
