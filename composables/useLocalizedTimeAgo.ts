import type { MaybeRefOrGetter } from 'vue'

/**
 * Formats a past time in milliseconds as "12 seconds ago" in the console's
 * language, updated every `intervalMs`. It calls formatTimeAgo, the formatter
 * behind useTimeAgo, inside a computed, because useTimeAgo reads its messages
 * once and would not follow the language switch. Seconds are shown since
 * heartbeats come every minute.
 */
export function useLocalizedTimeAgo(time: MaybeRefOrGetter<number | null>, intervalMs = 1000) {
  const { t, locale } = useI18n()
  const now = useNow({ interval: intervalMs })

  const relative = computed(() => {
    const value = toValue(time)
    if (value === null)
      return null
    return formatRelativeTime(value, now.value.getTime(), t)
  })
  const absolute = computed(() => {
    const value = toValue(time)
    return value === null ? null : new Date(value).toLocaleString(locale.value)
  })

  return { relative, absolute }
}
