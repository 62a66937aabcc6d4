import type { CloudSdkInterface, FunctionContext } from '@lafjs/cloud'
import type { AxiosStatic } from 'axios'
import type { AccessorInterface } from 'database-proxy'
import { createRequire } from 'node:module'
import { getDb } from 'database-proxy'
import { signToken, verifyToken } from './secret'

const require = createRequire(import.meta.url)
// axios is a dependency of @lafjs/cloud, not of this project: use the copy it uses.
const axios = createRequire(require.resolve('@lafjs/cloud'))('axios') as AxiosStatic

export interface SdkOptions {
  appid: string
  env: Record<string, string>
  secret: string
  accessor: AccessorInterface
  invoke: (name: string, ctx?: FunctionContext) => Promise<unknown>
}

function notSupported(feature: string): never {
  throw new Error(`${feature} is not supported by the local runtime`)
}

/** Builds the SDK object that @lafjs/cloud's Cloud instance of one app delegates to. */
export function createSdk(options: SdkOptions): CloudSdkInterface {
  const shared = new Map<string, any>()
  return {
    appid: options.appid,
    env: options.env,
    shared,
    fetch: axios,
    database: () => getDb(options.accessor),
    invoke: (name, ctx) => options.invoke(name, ctx),
    getToken: (payload, secret) => signToken(payload, secret ?? options.secret),
    parseToken: (token, secret) => verifyToken(token, secret ?? options.secret),
    get mongo(): never {
      return notSupported('cloud.mongo (the MongoDB driver; use cloud.database())')
    },
    get sockets(): never {
      return notSupported('cloud.sockets (WebSocket connections)')
    },
    get storage(): never {
      return notSupported('cloud.storage (object storage)')
    },
  }
}
