import type { Logger } from './logger'
import { readFileSync } from 'node:fs'
import { Cron } from 'croner'
import { parse } from 'yaml'
import { describeError } from './logger'

/** A cron trigger in Laf's shape. */
export interface LafTrigger {
  desc?: string
  /** Five-field cron pattern (minute hour day month weekday); default every minute. */
  cron?: string
  /** Name of the function to call. */
  target: string
}

/** Laf's smallest trigger period is one minute, so that is the default. */
export const defaultCron = '* * * * *'

const triggerFields = new Set(['desc', 'cron', 'target'])

/** Checks one trigger and fills in the default cron; `where` names it in errors. */
export function normalizeTrigger(raw: unknown, where: string): Required<Pick<LafTrigger, 'cron' | 'target'>> & LafTrigger {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${where}: a trigger must be a mapping with desc, cron and target`)
  const trigger = raw as Record<string, unknown>
  const unknown = Object.keys(trigger).find(key => !triggerFields.has(key))
  if (unknown)
    throw new Error(`${where}: unknown field "${unknown}" (allowed: desc, cron, target)`)
  const { desc, cron = defaultCron, target } = trigger
  if (typeof target !== 'string' || target === '')
    throw new Error(`${where}.target: must be a function name`)
  if (desc !== undefined && typeof desc !== 'string')
    throw new Error(`${where}.desc: must be a string`)
  if (typeof cron !== 'string' || cron.trim().split(/\s+/).length !== 5)
    throw new Error(`${where}.cron: must be a cron pattern of 5 fields (minute hour day month weekday), got ${JSON.stringify(cron)}`)
  try {
    new Cron(cron, { paused: true }).stop()
  }
  catch (error) {
    throw new Error(`${where}.cron: invalid cron pattern "${cron}": ${(error as Error).message}`)
  }
  return { desc, cron, target }
}

/** Parses a triggers YAML file's text: `triggers:` with a list of `{ desc, cron, target }`. */
export function parseTriggers(text: string, source: string): LafTrigger[] {
  const document = parse(text) ?? {}
  if (typeof document !== 'object' || Array.isArray(document))
    throw new Error(`${source}: expected a mapping with a "triggers" list`)
  const unknown = Object.keys(document).find(key => key !== 'triggers')
  if (unknown)
    throw new Error(`${source}: unknown field "${unknown}" (allowed: triggers)`)
  const { triggers = [] } = document as { triggers?: unknown }
  if (!Array.isArray(triggers))
    throw new Error(`${source}: triggers must be a list`)
  return triggers.map((trigger, position) => normalizeTrigger(trigger, `${source}: triggers[${position}]`))
}

export function readTriggersFile(file: string): LafTrigger[] {
  return parseTriggers(readFileSync(file, 'utf8'), file)
}

/**
 * Schedules each trigger with croner. Runs of one trigger may overlap, as on
 * Laf; `run` logs its own errors and the catch only guards croner's loop.
 */
export function scheduleTriggers(triggers: LafTrigger[], run: (target: string) => Promise<unknown>, logger: Logger): Cron[] {
  return triggers.map(trigger => new Cron(trigger.cron ?? defaultCron, {
    catch: (error: unknown) => logger.error(`trigger ${trigger.desc ?? trigger.target} failed: ${describeError(error)}`),
  }, async () => {
    // run has logged the failure with the request id.
    await run(trigger.target).catch(() => {})
  }))
}
