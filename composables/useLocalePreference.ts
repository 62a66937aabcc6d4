import { useStorage } from '@vueuse/core'

/** localStorage entry of the chosen language; the console opens in Chinese until one is chosen. */
const localeStorageKey = 'laf-heartbeat:locale'

/** Reads and sets the console language, which this browser stores. */
export function useLocalePreference() {
  const { locale, locales, setLocale } = useI18n()
  const stored = useStorage<string | null>(localeStorageKey, null)

  const options = computed(() => locales.value.map(option => ({ code: option.code, name: option.name ?? option.code })))

  async function choose(code: string): Promise<void> {
    if (!options.value.some(option => option.code === code))
      return
    stored.value = code
    if (locale.value !== code)
      await setLocale(code as typeof locale.value)
  }

  async function restore(): Promise<void> {
    if (stored.value && stored.value !== locale.value)
      await choose(stored.value)
  }

  return { locale, options, choose, restore }
}
