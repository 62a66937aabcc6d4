import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTempDir, trackStartedApps } from './local-helpers'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const start = trackStartedApps()

describe('runTrigger', () => {
  it('passes the trigger context', async () => {
    const { app } = await start()
    const result = await app.runTrigger('sweep') as Record<string, unknown>
    expect(result).toEqual({
      runs: 1,
      method: 'POST',
      body: {},
      query: {},
      headers: {},
      user: null,
      requestId: expect.stringMatching(uuid),
      functionName: 'sweep',
    })
  })

  it('trigger imports its target', async () => {
    const { app } = await start()
    expect(await app.runTrigger('ticker-trigger')).toEqual({ ticks: 1 })
    expect(await app.invoke('ticker')).toEqual({ ticks: 2 })
  })

  it('failure rejects and is logged', async () => {
    const { app, logs } = await start()
    await expect(app.runTrigger('boom')).rejects.toThrow('database password is hunter2')
    const line = await logs.waitFor(/\[boom\] \[[\w-]+\] trigger run failed/)
    expect(line).toMatch(/^ERROR \[test\] \[boom\] \[[0-9a-f-]{36}\] trigger run failed: Error: database password is hunter2/)
  })

  it('overlapping runs both finish', async () => {
    const { app } = await start()
    const results = await Promise.all([app.runTrigger('ticker'), app.runTrigger('ticker')]) as { ticks: number }[]
    expect(results.map(result => result.ticks).sort()).toEqual([1, 2])
  })
})

describe('trigger config', () => {
  it('schedules file and option triggers', async () => {
    const file = join(makeTempDir('triggers'), 'triggers.yaml')
    writeFileSync(file, 'triggers:\n  - desc: sweep every minute\n    cron: "* * * * *"\n    target: sweep\n')
    const { logs } = await start({ triggersFile: file, triggers: [{ target: 'ticker' }] })
    const line = await logs.waitFor(/listening on/)
    expect(line).toContain(', 2 triggers,')
  })

  it('unknown target fails start', async () => {
    await expect(start({ triggers: [{ desc: 'nightly', target: 'ghost' }] }))
      .rejects
      .toThrow(/^trigger nightly: target ghost has no file ghost\.ts in /)
  })

  it('invalid cron fails start', async () => {
    await expect(start({ triggers: [{ cron: '61 * * * *', target: 'sweep' }] }))
      .rejects
      .toThrow(/^triggers\[0\]\.cron: invalid cron pattern "61 \* \* \* \*"/)
  })

  it('missing file fails start', async () => {
    await expect(start({ triggersFile: '/no/such/triggers.yaml' }))
      .rejects
      .toThrow('triggersFile: /no/such/triggers.yaml does not exist')
  })
})
