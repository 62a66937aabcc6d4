import type { FunctionContext } from '@lafjs/cloud'
import type { StoreStats } from './store/store'
import type { LafTrigger } from './triggers'

export type { LafTrigger } from './triggers'

export interface LafAppOptions {
  /** App id, used in logs and as `cloud.appid`. */
  name: string
  /** Folder of `*.ts` functions. */
  functionsDir: string
  /** Function names to serve over HTTP; default all in the folder. */
  only?: string[]
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 8000; 0 picks a free port. */
  port?: number
  /** Folder of the database and the secret; created if missing. */
  dataDir: string
  /**
   * The app's environment (`process.env` and `cloud.env` of its functions).
   * The object is used as is, not copied, so later changes to it reach the
   * functions at their next read. The OS environment is not inherited.
   */
  env?: Record<string, string>
  /** JWT secret; default read from or created in `<dataDir>/secret`. */
  secret?: string
  triggers?: LafTrigger[]
  /** YAML file of triggers (`triggers: [{ desc, cron, target }]`); merged with `triggers`. */
  triggersFile?: string
  /** Reload a function when its file changes; default true. */
  watch?: boolean
  /** Receives one line per event; default console.log with timestamps. */
  log?: (line: string) => void
  /**
   * Requests that get an access line: 'all' (the default) or 'errors', status 400
   * and up. 'errors' also drops the line a successful trigger run writes.
   */
  accessLog?: 'all' | 'errors'
  /** Folder whose node_modules serve the functions' imports; default the nearest folder above functionsDir with a package.json. */
  projectRoot?: string
}

export interface LafApp {
  name: string
  port: number
  /** For example http://127.0.0.1:8001 */
  url: string
  functionUrl: (name: string) => string
  /**
   * Calls a function of the folder in-process, served or not, as `cloud.invoke`
   * does. The context is a POST with empty query, body and headers unless `ctx` sets them.
   */
  invoke: (name: string, ctx?: Partial<FunctionContext>) => Promise<unknown>
  /** Calls a trigger's target as cron does; logs a failure and rejects with the function's error. */
  runTrigger: (target: string) => Promise<unknown>
  /** Stops cron, the watcher and the server, then closes the database. */
  close: () => Promise<void>
  /** Work done by the database so far (requests, rows read), for tests and benchmarks. */
  databaseStats?: () => StoreStats
  /** SQLite's query plan for the candidate rows of a query, to check that an index is used. */
  explainQuery?: (collection: string, query: Record<string, unknown>) => string[]
}
