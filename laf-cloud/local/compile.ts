import ts from 'typescript'

/** Syntax errors of a function file, with file, line and column for each. */
export class CompileError extends Error {
  constructor(readonly file: string, readonly diagnostics: string[]) {
    super(`${file} does not compile:\n${diagnostics.join('\n')}`)
    this.name = 'CompileError'
    // The compiler's own stack is of no use to the function's author.
    this.stack = `${this.name}: ${this.message}`
  }
}

function describeDiagnostic(diagnostic: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
  if (!diagnostic.file || diagnostic.start === undefined)
    return `error TS${diagnostic.code}: ${text}`
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  return `${diagnostic.file.fileName}(${line + 1},${character + 1}): error TS${diagnostic.code}: ${text}`
}

/**
 * Compiles a cloud function from TypeScript to CommonJS, as Laf does: a
 * transpile without type checking, so only syntax errors fail.
 */
export function compileFunction(source: string, file: string): string {
  const output = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      removeComments: true,
    },
  })
  const errors = (output.diagnostics ?? []).filter(diagnostic => diagnostic.category === ts.DiagnosticCategory.Error)
  if (errors.length > 0)
    throw new CompileError(file, errors.map(describeDiagnostic))
  return output.outputText
}
