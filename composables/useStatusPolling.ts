/**
 * Calls `refresh` every `intervalMs` while the page is visible, and once
 * more when it becomes visible again, so a background tab sends nothing.
 */
export function useStatusPolling(refresh: () => unknown, intervalMs = 10_000) {
  const visibility = useDocumentVisibility()
  const { pause, resume } = useIntervalFn(refresh, intervalMs, { immediate: visibility.value === 'visible' })

  watch(visibility, (state) => {
    if (state === 'visible') {
      refresh()
      resume()
    }
    else {
      pause()
    }
  })
}
