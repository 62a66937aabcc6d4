import { Cron } from 'croner'
import { describe, expect, it } from 'vitest'
import { parseTriggers } from '../../laf-cloud/local/triggers'

describe('parseTriggers', () => {
  it('reads Laf trigger shape', () => {
    const triggers = parseTriggers('triggers:\n  - desc: sweep\n    cron: "*/5 * * * *"\n    target: sweeper\n', 'triggers.yaml')
    expect(triggers).toEqual([{ desc: 'sweep', cron: '*/5 * * * *', target: 'sweeper' }])
  })

  it('defaults cron to every minute', () => {
    const [trigger] = parseTriggers('triggers:\n  - target: sweeper\n', 'triggers.yaml')
    expect(trigger.cron).toBe('* * * * *')
    const next = new Cron(trigger.cron!, { paused: true }).nextRun(new Date('2024-01-01T00:00:30.000Z'))
    expect(next?.toISOString()).toBe('2024-01-01T00:01:00.000Z')
  })

  it('empty file has no triggers', () => {
    expect(parseTriggers('', 'triggers.yaml')).toEqual([])
  })

  it('rejects unknown fields', () => {
    expect(() => parseTriggers('triggers:\n  - target: a\n    every: 5\n', 'triggers.yaml'))
      .toThrow('triggers.yaml: triggers[0]: unknown field "every" (allowed: desc, cron, target)')
    expect(() => parseTriggers('jobs: []\n', 'triggers.yaml'))
      .toThrow('triggers.yaml: unknown field "jobs" (allowed: triggers)')
  })

  it('rejects missing target', () => {
    expect(() => parseTriggers('triggers:\n  - desc: x\n', 'triggers.yaml'))
      .toThrow('triggers.yaml: triggers[0].target: must be a function name')
  })

  it('rejects a seconds field', () => {
    expect(() => parseTriggers('triggers:\n  - target: a\n    cron: "*/10 * * * * *"\n', 'triggers.yaml'))
      .toThrow('triggers.yaml: triggers[0].cron: must be a cron pattern of 5 fields (minute hour day month weekday), got "*/10 * * * * *"')
  })

  it('rejects an invalid pattern', () => {
    expect(() => parseTriggers('triggers:\n  - target: a\n    cron: "* 25 * * *"\n', 'triggers.yaml'))
      .toThrow(/^triggers\.yaml: triggers\[0\]\.cron: invalid cron pattern "\* 25 \* \* \*"/)
  })
})
