import { localeOptions } from './i18n/localeOptions'

export default defineNuxtConfig({
  ssr: false,
  compatibilityDate: '2025-07-01',
  modules: [
    '@pinia/nuxt',
    '@element-plus/nuxt',
    '@unocss/nuxt',
    '@nuxtjs/i18n',
    '@vueuse/nuxt',
  ],
  app: {
    head: {
      title: 'Laf x Heartbeat',
      htmlAttrs: { lang: 'zh-CN' },
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'description', content: 'Laf x Heartbeat console: register a Laf cloud function with a heartbeat server and get notified when it goes silent.' },
      ],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
    },
  },
  // The Tailwind-compatible reset leaves Element Plus's button backgrounds alone.
  css: ['@unocss/reset/tailwind-compat.css'],
  // The console is static and may be hosted anywhere, so nothing may call home.
  devtools: { enabled: false },
  telemetry: false,
  unocss: {
    // uno.config.ts lists the presets, so the module adds none of its own.
    wind3: false,
  },
  elementPlus: {
    importStyle: 'css',
  },
  i18n: {
    locales: localeOptions,
    defaultLocale: 'zh-CN',
    strategy: 'no_prefix',
    // Chinese is the default whatever the browser's language is, and the header switch stores the choice.
    detectBrowserLanguage: false,
    vueI18n: './i18n.config.ts',
    // The module's own notice recommends turning this optimization off (nuxt-modules/i18n#3238).
    bundle: { optimizeTranslationDirective: false },
    // Keeps the build machine's absolute locale paths out of the generated index.html.
    experimental: { generatedLocaleFilePathFormat: 'off' },
  },
  typescript: {
    tsConfig: {
      // These folders need Node or Laf globals and are typechecked on their own.
      exclude: ['../laf-cloud/**', '../scripts/**', '../tests/**', '../bench/**'],
    },
  },
})
