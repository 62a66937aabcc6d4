import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import en from '../../i18n/locales/en.json'
import zh from '../../i18n/locales/zh-CN.json'
import { formatRelativeTime } from '../../utils/timeAgoMessages'

const now = Date.UTC(2025, 0, 1, 12, 0, 0)

function translator(locale: 'zh-CN' | 'en') {
  const i18n = createI18n({ legacy: false, locale, messages: { 'zh-CN': zh, en } })
  return (key: string, named: Record<string, unknown>, plural: number) => i18n.global.t(key, named, plural)
}

describe('formatRelativeTime', () => {
  const enT = translator('en')
  const zhT = translator('zh-CN')

  it.each([
    [0, 'just now', '刚刚'],
    [4_000, 'just now', '刚刚'],
    [12_000, '12 seconds ago', '12 秒前'],
    [60_000, '1 minute ago', '1 分钟前'],
    [5 * 60_000, '5 minutes ago', '5 分钟前'],
    [3 * 3_600_000, '3 hours ago', '3 小时前'],
    [2 * 86_400_000, '2 days ago', '2 天前'],
  ])('formats an age of %i ms', (age, english, chinese) => {
    expect(formatRelativeTime(now - age, now, enT)).toBe(english)
    expect(formatRelativeTime(now - age, now, zhT)).toBe(chinese)
  })

  it('treats future times as now', () => {
    expect(formatRelativeTime(now + 30_000, now, enT)).toBe('just now')
  })
})
