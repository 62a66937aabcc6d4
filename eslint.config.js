import antfu from '@antfu/eslint-config'

export default antfu({
  vue: true,
  typescript: true,
  unocss: false,
  formatters: false,
  ignores: ['.nuxt/**', '.output/**', '.laf-local/**', 'node_modules/**', 'tests/fixtures/**/broken*'],
}, {
  rules: {
    'no-console': 'off',
    'node/prefer-global/process': 'off',
  },
})
