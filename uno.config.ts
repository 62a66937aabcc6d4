import { defineConfig, presetWind3 } from 'unocss'

// No web-font or icon presets: they fetch from CDNs, and the console must call no host but the server.
export default defineConfig({
  presets: [presetWind3()],
})
