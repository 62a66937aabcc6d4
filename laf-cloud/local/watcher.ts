import type { FSWatcher } from 'chokidar'
import type { Logger } from './logger'
import type { FunctionRegistry } from './registry'
import { basename, extname } from 'node:path'
import { watch } from 'chokidar'

/**
 * Watches the functions folder. A changed, added or deleted `<name>.ts` or
 * `<name>.yaml` drops the function and the functions that import it, then
 * loads again those that are served, so a compile error shows in the log at once.
 */
export async function watchFunctions(registry: FunctionRegistry, logger: Logger): Promise<FSWatcher> {
  const watcher = watch(registry.dir, {
    ignoreInitial: true,
    depth: 0,
    // Editors write in several steps; wait until the file stops changing.
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 },
  })
  const events: Record<string, string> = { add: 'added', change: 'changed', unlink: 'deleted' }
  watcher.on('all', (event, path) => {
    const verb = events[event]
    if (!verb || typeof path !== 'string')
      return
    const extension = extname(path)
    if (extension !== '.ts' && extension !== '.yaml')
      return
    const name = basename(path, extension)
    const dropped = registry.invalidate(name)
    // loadEach logs each function that fails to load.
    const loaded = registry.loadEach(dropped.filter(dropping => registry.isHosted(dropping)))
    logger.info(`${basename(path)} ${verb}: ${loaded.length ? `reloaded ${loaded.join(', ')}` : 'no function reloaded'}`)
  })
  watcher.on('error', error => logger.error(`watching ${registry.dir} failed: ${String(error)}`))
  await new Promise<void>(resolve => watcher.once('ready', () => resolve()))
  return watcher
}
