import type { Cloud, CloudSdkInterface } from '@lafjs/cloud'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cloudPackage = require('@lafjs/cloud') as typeof import('@lafjs/cloud')

declare global {
  // Read once by @lafjs/cloud's Cloud class; see bindCloudModule.
  // eslint-disable-next-line vars-on-top
  var createCloudSdk: (() => CloudSdkInterface) | undefined
}

let sdkBeingBound: CloudSdkInterface | undefined

// NOTE: this is where the SDK is injected. @lafjs/cloud 1.0.0 exports a single
// Cloud instance, and a Cloud instance copies the static `Cloud.create` from
// `globalThis.createCloudSdk` on first use, calls it once and caches the SDK
// in `_cloud`. Several apps run in one process, so each app gets its own
// `new Cloud()`: `createCloudSdk` returns the SDK of the app being bound, and
// touching the instance's private `cloud` getter at that moment caches that
// SDK in the instance for good. A function that imports '@lafjs/cloud' gets a
// copy of the package whose default export is its app's instance.
globalThis.createCloudSdk = () => {
  if (!sdkBeingBound)
    throw new Error('@lafjs/cloud was used outside an app of the local runtime: import it from a hosted cloud function')
  return sdkBeingBound
}

/** Creates the `@lafjs/cloud` module that one app's functions import. */
export function bindCloudModule(sdk: CloudSdkInterface): typeof import('@lafjs/cloud') {
  const instance = new cloudPackage.Cloud()
  sdkBeingBound = sdk
  let bound: unknown
  try {
    bound = (instance as unknown as { cloud: CloudSdkInterface }).cloud
  }
  finally {
    sdkBeingBound = undefined
  }
  if (bound !== sdk)
    throw new Error('@lafjs/cloud is bound to another SDK (Cloud.create was set before the local runtime loaded)')
  // Cloud's constructor makes its own storage client, which needs Laf's OSS variables.
  Object.defineProperty(instance, 'storage', { get: () => sdk.storage })
  return Object.freeze({ ...cloudPackage, __esModule: true, default: instance as Cloud })
}
