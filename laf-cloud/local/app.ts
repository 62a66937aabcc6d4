import type { FSWatcher } from 'chokidar'
import type { Cron } from 'croner'
import type { Server } from 'node:http'
import type { LafApp, LafAppOptions } from './types'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { bindCloudModule } from './cloud-binding'
import { createHttpApp } from './http'
import { callFunction, inProcessContext } from './invoke'
import { describeError, Logger } from './logger'
import { resolveOptions } from './options'
import { FunctionNotFoundError, FunctionRegistry } from './registry'
import { createSdk } from './sdk'
import { loadSecret } from './secret'
import { closeServer, InFlight, listen } from './server'
import { LocalAccessor } from './store/accessor'
import { explainQuery } from './store/query'
import { DocumentStore } from './store/store'
import { scheduleTriggers } from './triggers'
import { watchFunctions } from './watcher'

/** How long close waits for requests and trigger runs in progress. */
const closeGraceMs = 5000

function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Starts one Laf app: its database, functions, HTTP server, watcher and cron triggers. */
export async function startApp(options: LafAppOptions): Promise<LafApp> {
  const config = resolveOptions(options)
  const logger = new Logger(config.log, [config.name])
  mkdirSync(config.dataDir, { recursive: true })
  const secret = config.secret ?? loadSecret(config.dataDir, logger)
  const store = new DocumentStore(join(config.dataDir, 'db.sqlite'), config.name)
  const inFlight = new InFlight()
  let server: Server | undefined
  let watcher: FSWatcher | undefined
  let jobs: Cron[] = []

  const registry: FunctionRegistry = new FunctionRegistry({
    dir: config.functionsDir,
    only: config.only,
    logger,
    cloudModule: bindCloudModule(createSdk({
      appid: config.name,
      env: config.env,
      secret,
      accessor: new LocalAccessor(store),
      invoke: (name, ctx) => invoke(name, ctx),
    })),
    env: config.env,
    projectRoot: config.projectRoot,
  })

  async function invoke(name: string, ctx?: Parameters<LafApp['invoke']>[1]): Promise<unknown> {
    if (!registry.exists(name))
      throw new FunctionNotFoundError(name, registry.dir)
    return inFlight.track(callFunction(registry, name, inProcessContext(name, ctx)))
  }

  async function runTrigger(target: string): Promise<unknown> {
    const ctx = inProcessContext(target)
    const triggerLogger = logger.child(target)
    try {
      const result = await invoke(target, ctx)
      if (config.accessLog === 'all')
        triggerLogger.write('INFO', 'trigger run finished', [ctx.requestId!])
      return result
    }
    catch (error) {
      triggerLogger.write('ERROR', `trigger run failed: ${describeError(error)}`, [ctx.requestId!])
      throw error
    }
  }

  let closing: Promise<void> | undefined
  const close = () => closing ??= (async () => {
    for (const job of jobs)
      job.stop()
    await watcher?.close()
    if (server)
      await closeServer(server, inFlight, closeGraceMs)
    await inFlight.settle(closeGraceMs)
    store.close()
    logger.info('stopped')
  })()

  try {
    const hosted = registry.hostedNames()
    const loaded = registry.loadEach(hosted)
    server = await listen(createHttpApp({ registry, logger, secret, inFlight, accessLog: config.accessLog }), config.host, config.port)
    if (config.watch)
      watcher = await watchFunctions(registry, logger)
    jobs = scheduleTriggers(config.triggers, runTrigger, logger)
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : config.port
    const url = formatUrl(config.host, port)
    logger.info(`listening on ${url}: ${loaded.length} of ${hosted.length} functions loaded, ${jobs.length} triggers, data in ${config.dataDir}`)
    return {
      name: config.name,
      port,
      url,
      functionUrl: name => `${url}/${encodeURIComponent(name)}`,
      invoke,
      runTrigger,
      close,
      databaseStats: () => ({ ...store.stats }),
      explainQuery: (collection, query) => explainQuery(store, collection, query),
    }
  }
  catch (error) {
    await close()
    throw error
  }
}
