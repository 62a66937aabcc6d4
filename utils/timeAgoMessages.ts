import type { UseTimeAgoMessages } from '@vueuse/core'
import { formatTimeAgo } from '@vueuse/core'

/** vue-i18n's `t(key, named, plural)`, as much of it as the messages need. */
export type Translate = (key: string, named: Record<string, unknown>, plural: number) => string

const units = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const

/** Builds useTimeAgo's messages from the locale files, so relative times follow the language switch. */
export function createTimeAgoMessages(t: Translate): UseTimeAgoMessages {
  const messages: Record<string, UseTimeAgoMessages[keyof UseTimeAgoMessages]> = {
    justNow: t('timeAgo.justNow', {}, 1),
    invalid: t('timeAgo.invalid', {}, 1),
    past: (time: string) => t('timeAgo.past', { time }, 1),
    future: (time: string) => t('timeAgo.future', { time }, 1),
  }
  for (const unit of units)
    messages[unit] = (count: number) => t(`timeAgo.${unit}`, { n: count }, count)
  return messages as UseTimeAgoMessages
}

/** Below this age a time reads "just now" rather than "3 seconds ago". */
export const justNowMs = 5000

/**
 * Formats a past server time relative to `now` with useTimeAgo's formatter.
 * A time ahead of `now` (the browser clock lags the server's) reads as just
 * now instead of "in 3 seconds".
 */
export function formatRelativeTime(time: number, now: number, t: Translate): string {
  const age = now - time
  if (age < justNowMs)
    return t('timeAgo.justNow', {}, 1)
  return formatTimeAgo(new Date(time), { messages: createTimeAgoMessages(t), showSecond: true }, now)
}
