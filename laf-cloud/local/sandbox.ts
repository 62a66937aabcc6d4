import { dirname } from 'node:path'
import { runInThisContext } from 'node:vm'

export type RequireFunction = (specifier: string) => unknown

/**
 * Creates a `process` whose `env` is the app's environment and is otherwise the
 * real process, so two apps in one process never see each other's variables.
 */
export function createProcessView(env: Record<string, string>): NodeJS.Process {
  return new Proxy(process, {
    get: (target, key) => key === 'env' ? env : Reflect.get(target, key, target),
    set: (target, key, value) => key !== 'env' && Reflect.set(target, key, value, target),
  })
}

export interface ModuleScope {
  file: string
  require: RequireFunction
  process: NodeJS.Process
  console: Console
}

/**
 * Runs compiled CommonJS in this realm, so values such as Date and Error are
 * the runtime's own. The code is wrapped on its first line, which keeps line
 * numbers in stack traces.
 */
export function evaluateModule(code: string, scope: ModuleScope): Record<string, unknown> {
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname, process, console) {${code}\n})`, { filename: scope.file })
  const module = { exports: {} as Record<string, unknown> }
  wrapper.call(module.exports, module.exports, scope.require, module, scope.file, dirname(scope.file), scope.process, scope.console)
  return module.exports
}
