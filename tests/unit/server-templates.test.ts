import type { ClientDoc } from '../../laf-cloud/functions/__heartbeat_server_test'
import { describe, expect, it } from 'vitest'
import { buildNoticeValues, fillTemplate, maskSendUrl, newClientDoc } from '../../laf-cloud/functions/__heartbeat_server_test'

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0)

function doc(overrides: Partial<ClientDoc> = {}): ClientDoc {
  return { ...newClientDoc('https://fn.example.com/client?x=1', 'a'.repeat(64), NOW - 3_600_000), _id: 'id1', ...overrides }
}

describe('fillTemplate', () => {
  it('encodes values', () => {
    expect(fillTemplate('https://p.example.com/?t={title}&u={clientUrl}', { title: 'a b&c', clientUrl: 'https://x.example.com/f?a=1' }))
      .toBe('https://p.example.com/?t=a%20b%26c&u=https%3A%2F%2Fx.example.com%2Ff%3Fa%3D1')
  })

  it('encodes non-ASCII text', () => {
    expect(fillTemplate('{message}', { message: '心跳' })).toBe('%E5%BF%83%E8%B7%B3')
  })

  it('keeps unknown placeholders', () => {
    expect(fillTemplate('https://p.example.com/{token}/{status}', { status: 'down' })).toBe('https://p.example.com/{token}/down')
  })

  it('ignores inherited names', () => {
    expect(fillTemplate('{constructor}{toString}', {})).toBe('{constructor}{toString}')
  })

  it('fills repeated placeholders', () => {
    expect(fillTemplate('{status}-{status}', { status: 'up' })).toBe('up-up')
  })

  it('leaves plain URLs alone', () => {
    expect(fillTemplate('https://p.example.com/send', { status: 'up' })).toBe('https://p.example.com/send')
  })
})

describe('buildNoticeValues', () => {
  it('describes a down notice', () => {
    const values = buildNoticeValues(doc({ updatedAt: NOW - 5 * 60_000 - 1, errorCount: 3, noticeCount: 1 }), 'down', NOW)
    expect(values).toEqual({
      clientUrl: 'https://fn.example.com/client?x=1',
      status: 'down',
      silentMinutes: '5',
      noticeCount: '2',
      noticeMax: '3',
      errorCount: '3',
      lastHeartbeat: '2024-01-01T11:54:59.999Z',
      title: 'Heartbeat lost: fn.example.com',
      message: 'No heartbeat from https://fn.example.com/client?x=1 for 5 min (last: 2024-01-01T11:54:59.999Z). Notice 2 of 3. 心跳丢失：已 5 分钟没有心跳（第 2/3 次提醒）。',
    })
  })

  it('says never before a heartbeat', () => {
    const values = buildNoticeValues(doc({ state: 1, watchedSince: NOW - 10 * 60_000 }), 'down', NOW)
    expect(values.lastHeartbeat).toBe('never')
    expect(values.silentMinutes).toBe('10')
  })

  it('describes a recovery notice', () => {
    const values = buildNoticeValues(doc({ updatedAt: NOW, outageMs: 7 * 60_000, outageNotices: 2 }), 'up', NOW)
    expect(values).toEqual({
      clientUrl: 'https://fn.example.com/client?x=1',
      status: 'up',
      silentMinutes: '7',
      noticeCount: '2',
      noticeMax: '3',
      errorCount: '0',
      lastHeartbeat: '2024-01-01T12:00:00.000Z',
      title: 'Heartbeat back: fn.example.com',
      message: 'Heartbeats from https://fn.example.com/client?x=1 are back after 7 min of silence. 心跳已恢复，此前中断 7 分钟。',
    })
  })

  it('marks unknown outage length', () => {
    expect(buildNoticeValues(doc({ outageMs: null }), 'up', NOW).silentMinutes).toBe('unknown')
  })
})

describe('newClientDoc', () => {
  it('starts registered with defaults', () => {
    const created = newClientDoc('https://fn.example.com/c', 'b'.repeat(64), NOW)
    expect(created.state).toBe(0)
    expect(created.paused).toBe(false)
    expect(created.errorMax).toBe(3)
    expect(created.noticeMax).toBe(3)
    expect(created.sendUrl).toBe('')
    expect(created.updatedAt).toBeNull()
    expect(created.watchedSince).toBeNull()
    expect(created.keyHash).toMatch(/^[0-9a-f]{64}$/)
    expect(created.keyHash).not.toBe(created.key)
  })
})

describe('maskSendUrl', () => {
  it.each([
    ['', ''],
    ['https://sctapi.ftqq.com/SCT123.send?title={title}', 'https://sctapi.ftqq.com/…'],
    ['https://ntfy.sh/', 'https://ntfy.sh'],
    ['https://ntfy.sh', 'https://ntfy.sh'],
    ['http://127.0.0.1:9000/push?token=abc', 'http://127.0.0.1:9000/…'],
    ['not a url', '…'],
  ])('masks %s', (sendUrl, masked) => {
    expect(maskSendUrl(sendUrl)).toBe(masked)
  })
})
