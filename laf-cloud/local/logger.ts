import { format } from 'node:util'

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

/** Receives one line per event. */
export type LogSink = (line: string) => void

/** Default sink: stdout, with an ISO timestamp in front. */
export function consoleSink(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`)
}

/**
 * Logger of one app. A line reads `LEVEL [app] [function] [request id] message`;
 * the labels after the app are present when known.
 */
export class Logger {
  constructor(private readonly sink: LogSink, private readonly labels: string[]) {}

  /** Returns a logger with one more label, such as a function name or a request id. */
  child(label: string): Logger {
    return new Logger(this.sink, [...this.labels, label])
  }

  write(level: LogLevel, message: string, labels: string[] = []): void {
    const prefix = [...this.labels, ...labels].map(label => `[${label}]`).join(' ')
    this.sink(`${level} ${prefix} ${message}`)
  }

  debug(message: string): void {
    this.write('DEBUG', message)
  }

  info(message: string): void {
    this.write('INFO', message)
  }

  warn(message: string): void {
    this.write('WARN', message)
  }

  error(message: string): void {
    this.write('ERROR', message)
  }
}

/** Formats an error for the log: its stack when it has one, else its text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : format(error)
}

/**
 * Builds the `console` of a cloud function: each call writes one line with the
 * app, the function and the request id that `requestId()` returns at that moment.
 */
export function createFunctionConsole(logger: Logger, requestId: () => string | undefined): Console {
  const write = (level: LogLevel) => (...args: unknown[]) => {
    logger.write(level, format(...args), [requestId() ?? '-'])
  }
  return {
    ...console,
    debug: write('DEBUG'),
    log: write('INFO'),
    info: write('INFO'),
    warn: write('WARN'),
    error: write('ERROR'),
    trace: write('DEBUG'),
  }
}
