import type { Logger } from './logger'
import type { FunctionMeta } from './meta'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { compileFunction } from './compile'
import { createFunctionConsole, describeError } from './logger'
import { readFunctionMeta } from './meta'
import { currentRequestId } from './request-scope'
import { createProcessView, evaluateModule } from './sandbox'

export interface RegistryOptions {
  dir: string
  /** Names served over HTTP; undefined serves every function in `dir`. */
  only?: string[]
  logger: Logger
  /** The `@lafjs/cloud` module bound to this app. */
  cloudModule: object
  env: Record<string, string>
  /** Folder from whose node_modules the functions' other imports are resolved. */
  projectRoot: string
}

const namePattern = /^[\w-]+$/

/** Error for a function name with no `<name>.ts` in the functions folder. */
export class FunctionNotFoundError extends Error {
  constructor(readonly functionName: string, dir: string) {
    super(`function ${functionName} not found: there is no ${functionName}.ts in ${dir}`)
    this.name = 'FunctionNotFoundError'
  }
}

/**
 * The functions of one app: compiles and evaluates each on first use, resolves
 * `@/name` imports to sibling functions, and remembers who imports whom so
 * that a changed file also drops the functions that import it.
 */
export class FunctionRegistry {
  private readonly modules = new Map<string, Record<string, unknown>>()
  private readonly failures = new Map<string, unknown>()
  private readonly metas = new Map<string, FunctionMeta>()
  private readonly dependants = new Map<string, Set<string>>()
  private readonly loading: string[] = []
  private readonly process: NodeJS.Process
  private readonly projectRequire: NodeJS.Require

  constructor(private readonly options: RegistryOptions) {
    this.process = createProcessView(options.env)
    this.projectRequire = createRequire(join(options.projectRoot, 'package.json'))
  }

  get dir(): string {
    return this.options.dir
  }

  /** Tells whether `<name>.ts` exists in the functions folder. */
  exists(name: string): boolean {
    return namePattern.test(name) && existsSync(this.fileOf(name))
  }

  /** Tells whether the function is served over HTTP. */
  isHosted(name: string): boolean {
    return this.exists(name) && (this.options.only?.includes(name) ?? true)
  }

  /** Names served over HTTP that have a file now. */
  hostedNames(): string[] {
    const names = this.options.only ?? readdirSync(this.dir)
      .filter(file => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map(file => file.slice(0, -3))
    return names.filter(name => this.exists(name)).sort()
  }

  fileOf(name: string): string {
    return join(this.dir, `${name}.ts`)
  }

  meta(name: string): FunctionMeta {
    let meta = this.metas.get(name)
    if (!meta) {
      meta = readFunctionMeta(join(this.dir, `${name}.yaml`))
      this.metas.set(name, meta)
    }
    return meta
  }

  /** Returns the function's exports, compiling and evaluating it on first use. A failure is kept until the file changes. */
  load(name: string): Record<string, unknown> {
    const loaded = this.modules.get(name)
    if (loaded)
      return loaded
    if (this.failures.has(name))
      throw this.failures.get(name)
    if (this.loading.includes(name))
      throw new Error(`circular import: ${[...this.loading, name].join(' -> ')}`)
    if (!this.exists(name))
      throw new FunctionNotFoundError(name, this.dir)
    this.loading.push(name)
    try {
      const exports = this.evaluate(name)
      this.modules.set(name, exports)
      return exports
    }
    catch (error) {
      this.failures.set(name, error)
      throw error
    }
    finally {
      this.loading.pop()
    }
  }

  private evaluate(name: string): Record<string, unknown> {
    const file = this.fileOf(name)
    const code = compileFunction(readFileSync(file, 'utf8'), file)
    return evaluateModule(code, {
      file,
      require: specifier => this.require(specifier, name),
      process: this.process,
      console: createFunctionConsole(this.options.logger.child(name), currentRequestId),
    })
  }

  private require(specifier: string, from: string): unknown {
    if (specifier === '@lafjs/cloud' || specifier === '@/cloud-sdk')
      return this.options.cloudModule
    if (specifier.startsWith('@/')) {
      const dependency = specifier.slice(2)
      const set = this.dependants.get(dependency) ?? new Set()
      set.add(from)
      this.dependants.set(dependency, set)
      return this.load(dependency)
    }
    if (specifier.startsWith('.'))
      throw new Error(`${from}: relative import "${specifier}" is not supported in a cloud function; import a sibling function as @/name`)
    return this.projectRequire(specifier)
  }

  /** Forgets the function and, transitively, the functions that import it; returns their names. */
  invalidate(name: string): string[] {
    const dropped = new Set<string>()
    const queue = [name]
    while (queue.length > 0) {
      const next = queue.pop()!
      if (dropped.has(next))
        continue
      dropped.add(next)
      this.modules.delete(next)
      this.failures.delete(next)
      this.metas.delete(next)
      queue.push(...(this.dependants.get(next) ?? []))
    }
    // The dropped functions record their imports again when they load.
    for (const set of this.dependants.values()) {
      for (const dropping of dropped)
        set.delete(dropping)
    }
    return [...dropped]
  }

  /** Loads the given functions now and logs each failure; returns the names that loaded. */
  loadEach(names: string[]): string[] {
    return names.filter((name) => {
      try {
        this.load(name)
        this.meta(name)
        return true
      }
      catch (error) {
        this.options.logger.child(name).error(`failed to load: ${describeError(error)}`)
        return false
      }
    })
  }
}
