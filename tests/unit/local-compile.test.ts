import { describe, expect, it } from 'vitest'
import { CompileError, compileFunction } from '../../laf-cloud/local/compile'

describe('compileFunction', () => {
  it('emits CommonJS', () => {
    const code = compileFunction('import cloud from \'@lafjs/cloud\'\nexport default async function (ctx: FunctionContext) { return cloud }\n', 'f.ts')
    expect(code).toContain('require("@lafjs/cloud")')
    expect(code).toContain('exports.default = default_1')
    expect(code).not.toContain('FunctionContext')
  })

  it('ignores type errors', () => {
    expect(() => compileFunction('const n: number = \'text\'\nexport default () => n\n', 'f.ts')).not.toThrow()
  })

  it('reports syntax errors with position', () => {
    const error = (() => {
      try {
        compileFunction('export default () => {\n  return (\n}\n', '/functions/f.ts')
      }
      catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(CompileError)
    expect((error as CompileError).message).toMatch(/^\/functions\/f\.ts does not compile:\n\/functions\/f\.ts\(3,1\): error TS1109: Expression expected\./)
  })
})
