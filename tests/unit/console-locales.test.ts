import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../../i18n/locales/en.json'
import zh from '../../i18n/locales/zh-CN.json'
import { sendUrlPlaceholders } from '../../utils/sendUrlTemplates'

const root = join(import.meta.dirname, '..', '..')

function flattenKeys(messages: object, prefix = ''): string[] {
  return Object.entries(messages).flatMap(([name, value]) =>
    typeof value === 'object' && value !== null ? flattenKeys(value, `${prefix}${name}.`) : [`${prefix}${name}`])
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter(file => /\.(?:vue|ts)$/.test(file))
    .map(file => join(folder, file))
}

/** Locale keys written literally in components, pages and stores, as `t('a.b')` or `$t('a.b')`. */
function literalKeys(): string[] {
  const files = ['app.vue', ...sourceFiles('components'), ...sourceFiles('pages'), ...sourceFiles('stores')]
  const keys = new Set<string>()
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(/\bt\('([\w.]+)'/g))
      keys.add(match[1])
  }
  return [...keys]
}

describe('locale files', () => {
  it('share the same keys', () => {
    expect(flattenKeys(en).sort()).toEqual(flattenKeys(zh).sort())
  })

  it('contain every literal key', () => {
    const known = new Set(flattenKeys(zh))
    const missing = literalKeys().filter(key => !known.has(key))
    expect(missing).toEqual([])
  })

  it('describe every placeholder', () => {
    expect(Object.keys(zh.settings.placeholders).sort()).toEqual([...sendUrlPlaceholders].sort())
  })

  it('compile without warnings', () => {
    const warnings: string[] = []
    const i18n = createI18n({
      legacy: false,
      locale: 'zh-CN',
      messages: { 'zh-CN': zh, en },
      warnHtmlMessage: true,
      missingWarn: false,
      fallbackWarn: false,
    })
    const originalWarn = console.warn
    const originalError = console.error
    // vue-i18n reports HTML in messages with console.warn and syntax errors with console.error.
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '))
    console.error = (...args: unknown[]) => warnings.push(args.join(' '))
    try {
      for (const locale of ['zh-CN', 'en'] as const) {
        for (const key of flattenKeys(zh))
          i18n.global.t(key, { message: 'm', requestId: 'r', status: 500, url: 'u', max: 1, min: 0, n: 2, time: 't', ms: 1, seconds: 1, active: 1, count: 1 }, { locale })
      }
    }
    finally {
      console.warn = originalWarn
      console.error = originalError
    }
    expect(warnings).toEqual([])
  })

  it('use plural bars only in timeAgo', () => {
    const flat = (messages: object) => flattenKeys(messages).filter(key => !key.startsWith('timeAgo.'))
    const read = (messages: object, key: string) => key.split('.').reduce<any>((node, name) => node[name], messages)
    const barred = [...flat(zh).map(key => read(zh, key)), ...flat(en).map(key => read(en, key))].filter(text => String(text).includes('|'))
    expect(barred).toEqual([])
  })
})
