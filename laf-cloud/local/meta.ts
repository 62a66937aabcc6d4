import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'

export const httpMethods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'] as const

/** Fields the runtime reads from a function's laf-cli yaml (`<name>.yaml` beside the .ts). */
export interface FunctionMeta {
  methods: string[]
  desc?: string
}

/**
 * Reads `<name>.yaml`; a missing file allows every method. Only `methods` is
 * checked. The description is `desc` or laf-cli's `description`, and other
 * fields (name, tags, websocket) are laf-cli's and are ignored here.
 */
export function readFunctionMeta(file: string): FunctionMeta {
  if (!existsSync(file))
    return { methods: [...httpMethods] }
  const raw = parse(readFileSync(file, 'utf8')) ?? {}
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${file}: expected a mapping with name, desc, tags and methods`)
  const { methods = [...httpMethods], desc, description } = raw as Record<string, unknown>
  const allowed: readonly string[] = httpMethods
  if (!Array.isArray(methods) || methods.some(method => typeof method !== 'string' || !allowed.includes(method.toUpperCase())))
    throw new Error(`${file}: methods must be a list of ${httpMethods.join(', ')}, got ${JSON.stringify(methods)}`)
  const text = desc ?? description
  return {
    methods: methods.map((method: string) => method.toUpperCase()),
    desc: typeof text === 'string' ? text : undefined,
  }
}
