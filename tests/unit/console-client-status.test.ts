import { describe, expect, it } from 'vitest'
import { describeClientStatus } from '../../utils/clientStatus'

describe('describeClientStatus', () => {
  it.each([
    [{ state: 0, paused: false, errorCount: 0 }, 'registered'],
    [{ state: 1, paused: false, errorCount: 0 }, 'waiting'],
    [{ state: 1, paused: false, errorCount: 1 }, 'silent'],
    [{ state: 2, paused: false, errorCount: 0 }, 'live'],
    [{ state: 2, paused: false, errorCount: 2 }, 'silent'],
    [{ state: 2, paused: true, errorCount: 2 }, 'paused'],
    [{ state: 1, paused: true, errorCount: 0 }, 'paused'],
  ] as const)('describes %j as %s', (record, status) => {
    expect(describeClientStatus(record)).toBe(status)
  })
})
