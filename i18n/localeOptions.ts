/** Languages of the console; the first is the default. */
export const localeOptions = [
  { code: 'zh-CN', language: 'zh-CN', name: '简体中文', file: 'zh-CN.json' },
  { code: 'en', language: 'en-US', name: 'English', file: 'en.json' },
]
