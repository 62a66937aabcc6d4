export { startApp } from './app'
export { parseTriggers } from './triggers'
export type { LafApp, LafAppOptions, LafTrigger } from './types'
