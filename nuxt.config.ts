export default defineNuxtConfig({
  ssr: false,
  compatibilityDate: '2025-07-01',
})
