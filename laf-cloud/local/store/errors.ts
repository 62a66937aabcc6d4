/** Builds the error for a feature that MongoDB has and the embedded store does not. */
export function unsupported(feature: string): Error {
  return new Error(`${feature} is not supported by the local runtime`)
}

/**
 * Error of a write that breaks a unique index. The message starts like MongoDB's
 * (`E11000 duplicate key error`) and `code` is 11000, so code written for
 * MongoDB detects it the same way.
 */
export class DuplicateKeyError extends Error {
  readonly code = 11000
  constructor(
    readonly namespace: string,
    readonly index: string,
    readonly keyValue: Record<string, unknown> | null,
  ) {
    const key = keyValue ? ` dup key: ${JSON.stringify(keyValue)}` : ''
    super(`E11000 duplicate key error collection: ${namespace} index: ${index}${key}`)
    this.name = 'DuplicateKeyError'
  }
}

/** Error with a MongoDB server error code, for rules that MongoDB reports by code. */
export class StoreError extends Error {
  constructor(message: string, readonly code: number) {
    super(message)
    this.name = 'StoreError'
  }
}

const unknownOperator = /(?:unknown|unregistered)[^$]*(\$\w+)/i

/** Turns mingo's "unknown operator" errors into errors that name the operator as unsupported. */
export function translateMingoError(error: unknown, kind: string): unknown {
  if (!(error instanceof Error))
    return error
  const match = unknownOperator.exec(error.message)
  return match ? unsupported(`${kind} ${match[1]}`) : error
}
