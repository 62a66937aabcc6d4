import type { TestClient } from '../helpers/clients'
import type { Sink } from '../helpers/sink'
import type { ServerApp, Stack } from '../helpers/stack'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { dueClientQueries } from '../../laf-cloud/functions/__heartbeat_server_test'
import { callAction, expectOk } from '../helpers/api'
import { fetchRecord, registerClient, sweep } from '../helpers/clients'
import { makeSweepFunctionsDir, openHookedDatabase, SWEEP_WITH_FUNCTION, sweepWith, updatesField } from '../helpers/direct-sweep'
import { startSink } from '../helpers/sink'
import { FAST_SERVER_ENV, LATE_MS, removeTempDirs, SERVER_TRIGGER, startStack, SWEEP_INTERVAL_MS, waitForNextSlot, waitForSlotAfter, waitUntilLate } from '../helpers/stack'

let sink: Sink

beforeAll(async () => {
  sink = await startSink()
})

afterAll(async () => {
  await sink.close()
  removeTempDirs()
})

/** Brings clients with errorMax 1 to the point where the next sweep sends their first notice. */
async function makeNoticeDue(server: ServerApp, clients: TestClient[]): Promise<void> {
  const beats = await Promise.all(clients.map(client => fetchRecord(server, client)))
  await waitUntilLate(Math.max(...beats.map(record => record.updatedAt!)))
  expect(await sweep(server)).toMatchObject({ counted: clients.length, notices: 0 })
  await waitForNextSlot()
}

describe('sweep guarantees', () => {
  let stack: Stack

  beforeEach(async () => {
    stack = await startStack()
  })

  afterEach(async () => {
    await stack.close()
  })

  it('concurrent sweeps send once', async () => {
    const clients = ['a', 'b', 'c']
    // Activation switches the client app's key, so register one after another.
    const registered: TestClient[] = []
    for (const tag of clients)
      registered.push(await registerClient(stack, tag, { errorMax: 1, sendUrl: `${sink.url}/once-${tag}?s={status}` }))
    await makeNoticeDue(stack.server, registered)
    const triggerUrl = stack.server.app.functionUrl(SERVER_TRIGGER)
    const results = await Promise.all([
      sweep(stack.server),
      sweep(stack.server),
      fetch(triggerUrl, { method: 'POST' }).then(response => response.json()),
      fetch(triggerUrl, { method: 'POST' }).then(response => response.json()),
    ])
    const ran = results.filter(result => !('skipped' in result))
    expect(ran).toHaveLength(1)
    expect(ran[0]).toMatchObject({ notices: 3, failed: 0 })
    expect(results.filter(result => result.skipped === 'already swept this interval')).toHaveLength(3)
    for (const tag of clients)
      expect(sink.requestsTo(`/once-${tag}`)).toHaveLength(1)
    for (const client of registered)
      expect((await fetchRecord(stack.server, client)).noticeCount).toBe(1)
  })

  it('failed notice is retried', async () => {
    sink.behave('/flaky', { kind: 'reply', status: 500, body: 'broken' })
    const client = await registerClient(stack, 'flaky', { errorMax: 1, noticeMax: 2, sendUrl: `${sink.url}/flaky?token=secret-push-token` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 0, failed: 1 })
    expect(await fetchRecord(stack.server, client)).toMatchObject({ noticeCount: 0, noticeFailures: 1, lastNoticeError: 'push URL returned HTTP 500' })

    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ failed: 1 })
    expect(sink.requestsTo('/flaky')).toHaveLength(2)
    expect(await fetchRecord(stack.server, client)).toMatchObject({ noticeCount: 0, noticeFailures: 2 })

    sink.behave('/flaky', { kind: 'reply', status: 200, body: 'ok' })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ notices: 1, failed: 0 })
    expect(await fetchRecord(stack.server, client)).toMatchObject({ noticeCount: 1, noticeFailures: 0, lastNoticeError: null })
    expect(stack.server.logs.join('\n')).not.toContain('secret-push-token')
    expect(stack.server.logs.some(line => line.includes(`notice to ${client.id} failed: push URL returned HTTP 500 (via ${new URL(sink.url).host})`))).toBe(true)
  })

  it('hanging push delays no other', async () => {
    sink.behave('/hang', { kind: 'hang' })
    const stuck = await registerClient(stack, 'stuck', { errorMax: 1, sendUrl: `${sink.url}/hang` })
    const quick = await registerClient(stack, 'quick', { errorMax: 1, sendUrl: `${sink.url}/quick` })
    await makeNoticeDue(stack.server, [stuck, quick])
    let settled = false
    const running = sweep(stack.server).finally(() => {
      settled = true
    })
    await sink.waitFor('/quick', 1)
    await sink.waitFor('/hang', 1)
    expect(settled).toBe(false)
    sink.releaseHung(200)
    expect(await running).toMatchObject({ notices: 2, failed: 0 })
    expect((await fetchRecord(stack.server, quick)).noticeCount).toBe(1)
  })

  it('paused client gets no notice', async () => {
    const client = await registerClient(stack, 'paused', { errorMax: 1, sendUrl: `${sink.url}/paused` })
    await makeNoticeDue(stack.server, [client])
    await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true })
    expect(await sweep(stack.server)).toMatchObject({ checked: 0, notices: 0 })
    expect(sink.requestsTo('/paused')).toHaveLength(0)
  })

  it('resume keeps the recovery notice', async () => {
    const client = await registerClient(stack, 'resumed', { errorMax: 1, sendUrl: `${sink.url}/resumed?s={status}&n={noticeCount}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true })
    expect(await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: false })).toMatchObject({ paused: false, errorCount: 0, noticeCount: 0 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1, notices: 0 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 0, notices: 0 })
    expect(sink.requestsTo('/resumed').map(request => `${request.query.s} ${request.query.n}`)).toEqual(['down 1', 'up 1'])
  })

  it('recovery after a mid-delivery beat', async () => {
    const client = await registerClient(stack, 'middle', { errorMax: 1, noticeMax: 5, sendUrl: `${sink.url}/middle?s={status}&n={noticeCount}&m={silentMinutes}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await waitForNextSlot()
    sink.behave('/middle', { kind: 'hang' })
    const delivering = sweep(stack.server)
    await sink.waitFor('/middle', 2)
    await expectOk(stack.server, 'receive', { key: client.key })
    sink.behave('/middle', { kind: 'reply', status: 200, body: 'ok' })
    sink.releaseHung(200)
    expect(await delivering).toMatchObject({ notices: 1, failed: 0 })
    await waitForNextSlot()
    // The recovery notice waits for a fresh heartbeat, and the wait for the slot may outlast the first one.
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1 })
    const sent = sink.requestsTo('/middle').map(request => `${request.query.s} ${request.query.n} ${request.query.m}`)
    expect(sent).toEqual(['down 1 0', 'down 2 0', 'up 2 0'])
  })

  it('flap keeps the recovery notice', async () => {
    const client = await registerClient(stack, 'flap', { errorMax: 1, noticeMax: 1, sendUrl: `${sink.url}/flap?s={status}&n={noticeCount}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await expectOk(stack.server, 'receive', { key: client.key })
    const beat = await fetchRecord(stack.server, client)
    // No sweep runs while the one heartbeat is fresh, so the next sweep finds the client late again.
    await waitUntilLate(beat.updatedAt!)
    expect(await sweep(stack.server)).toMatchObject({ late: 1, counted: 1, recoveries: 0 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ late: 0, recoveries: 1, notices: 0 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 0, notices: 0 })
    expect(sink.requestsTo('/flap').map(request => `${request.query.s} ${request.query.n}`)).toEqual(['down 1', 'up 1'])
  })

  it('failed recovery survives a flap', async () => {
    const client = await registerClient(stack, 'flap-fail', { errorMax: 1, noticeMax: 1, sendUrl: `${sink.url}/flap-fail?s={status}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    sink.behave('/flap-fail', { kind: 'reply', status: 500, body: 'broken' })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    const beat = await fetchRecord(stack.server, client)
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 0, failed: 1 })
    sink.behave('/flap-fail', { kind: 'reply', status: 200, body: 'ok' })
    await waitUntilLate(beat.updatedAt!)
    expect(await sweep(stack.server)).toMatchObject({ late: 1, recoveries: 0, failed: 0 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1, failed: 0 })
    expect(sink.requestsTo('/flap-fail').map(request => request.query.s)).toEqual(['down', 'up', 'up'])
  })

  it('resume of dead client', async () => {
    const client = await registerClient(stack, 'dead', { errorMax: 1, noticeMax: 1, sendUrl: `${sink.url}/dead?s={status}&n={noticeCount}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true })
    await expectOk(stack.server, 'receive', { key: client.key })
    const beat = await fetchRecord(stack.server, client)
    await waitUntilLate(beat.updatedAt!)
    const resumed = await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: false })
    expect(resumed).toMatchObject({ paused: false, errorCount: 0, noticeCount: 0, noticeFailures: 0 })
    expect(await sweep(stack.server)).toMatchObject({ late: 0, recoveries: 0, notices: 0 })
    await waitUntilLate(resumed.watchedSince)
    expect(await sweep(stack.server)).toMatchObject({ counted: 1, recoveries: 0 })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ notices: 1, recoveries: 0 })
    expect(sink.requestsTo('/dead').map(request => `${request.query.s} ${request.query.n}`)).toEqual(['down 1', 'down 1'])
  })

  it('resume restarts used-up notices', async () => {
    const client = await registerClient(stack, 'used-up', { errorMax: 1, noticeMax: 1, sendUrl: `${sink.url}/used-up?s={status}&n={noticeCount}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ late: 1, notices: 0 })
    await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true })
    const resumed = await expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: false })
    await waitUntilLate(resumed.watchedSince)
    expect(await sweep(stack.server)).toMatchObject({ counted: 1, notices: 0 })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await waitForNextSlot()
    await expectOk(stack.server, 'receive', { key: client.key })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1 })
    expect(sink.requestsTo('/used-up').map(request => `${request.query.s} ${request.query.n}`)).toEqual(['down 1', 'down 1', 'up 2'])
  })

  it('restart loses no data', async () => {
    const client = await registerClient(stack, 'durable', { errorMax: 7, noticeMax: 5, sendUrl: `${sink.url}/durable` })
    const before = await fetchRecord(stack.server, client)
    await stack.restartServer()
    expect(await fetchRecord(stack.server, client)).toEqual(before)
    expect(await expectOk(stack.server, 'receive', { key: client.key })).toEqual({ state: 2, paused: false })
    const info = await expectOk(stack.server, 'getInfo', undefined, { method: 'GET' })
    expect(info).toMatchObject({ count: 1, active: 1 })
  })

  it('slot claim survives restart', async () => {
    await waitForNextSlot()
    expect(await sweep(stack.server)).not.toHaveProperty('skipped')
    await stack.restartServer()
    expect(await sweep(stack.server)).toHaveProperty('skipped', 'already swept this interval')
  })
})

describe('overlapping sweeps', () => {
  let stack: Stack

  beforeEach(async () => {
    stack = await startStack(FAST_SERVER_ENV, makeSweepFunctionsDir(), [SWEEP_WITH_FUNCTION])
  })

  afterEach(async () => {
    await stack.close()
  })

  /**
   * Runs an outer sweep at `now` and, right before its first update that
   * sets `field`, a whole inner sweep one interval later: the gap in which an
   * overlapping sweep from the next interval runs.
   */
  async function overlapAt(field: string, now: number, env: Record<string, string> = FAST_SERVER_ENV) {
    let inner: Promise<any> | undefined
    const hooked = openHookedDatabase(stack.server, async (params) => {
      if (inner === undefined && updatesField(params, field)) {
        inner = sweepWith(stack.server, { now: now + SWEEP_INTERVAL_MS, env })
        await inner
      }
    })
    try {
      const outer = await sweepWith(stack.server, { db: hooked.db, now, env })
      return { outer, inner: await inner }
    }
    finally {
      hooked.close()
    }
  }

  /** A slot boundary five intervals ahead; 1 s slots start at x.500 s. */
  const slotBoundaryAhead = () => (Math.floor(Date.now() / SWEEP_INTERVAL_MS) + 5) * SWEEP_INTERVAL_MS + SWEEP_INTERVAL_MS / 2

  it('boundary sweeps count once', async () => {
    const client = await registerClient(stack, 'boundary', { errorMax: 5 })
    const boundary = slotBoundaryAhead()
    const before = await sweepWith(stack.server, { now: boundary - 1 })
    const after = await sweepWith(stack.server, { now: boundary + 1 })
    expect(before).toMatchObject({ late: 1, counted: 1 })
    expect(after).toMatchObject({ slot: before.slot + 1, late: 1, counted: 0 })
    expect((await fetchRecord(stack.server, client)).errorCount).toBe(1)
    expect(await sweepWith(stack.server, { now: boundary + SWEEP_INTERVAL_MS })).toMatchObject({ counted: 1 })
    // A sweep whose clock is behind the last judgement by more than an interval still counts.
    expect(await sweepWith(stack.server, { now: Date.now() + LATE_MS })).toMatchObject({ counted: 1 })
    expect((await fetchRecord(stack.server, client)).errorCount).toBe(3)
  })

  it('clock step back skips no sweep', async () => {
    const client = await registerClient(stack, 'step-back', { errorMax: 10 })
    const base = slotBoundaryAhead() + SWEEP_INTERVAL_MS / 2
    const ahead = base + 20 * SWEEP_INTERVAL_MS
    for (const now of [ahead, ahead + SWEEP_INTERVAL_MS])
      expect(await sweepWith(stack.server, { now })).toMatchObject({ counted: 1 })
    // The clock steps back 20 intervals, and the sweeps that follow reach the slots claimed before.
    expect(await sweepWith(stack.server, { now: base })).toMatchObject({ counted: 1 })
    for (const now of [ahead, ahead + SWEEP_INTERVAL_MS])
      expect(await sweepWith(stack.server, { now })).toMatchObject({ counted: 1 })
    expect(await sweepWith(stack.server, { now: ahead + SWEEP_INTERVAL_MS })).toEqual({ slot: expect.any(Number), skipped: 'already swept this interval' })
    expect((await fetchRecord(stack.server, client)).errorCount).toBe(5)
  })

  it('failing push backs off', async () => {
    sink.behave('/backoff', { kind: 'reply', status: 500, body: 'broken' })
    const sendUrl = `${sink.url}/backoff`
    const client = await registerClient(stack, 'backoff', { errorMax: 1, noticeMax: 1, sendUrl })
    const base = slotBoundaryAhead() + SWEEP_INTERVAL_MS / 2
    const attempts: number[] = []
    for (let index = 0; index <= 12; index++) {
      await sweepWith(stack.server, { now: base + index * SWEEP_INTERVAL_MS })
      attempts.push(sink.requestsTo('/backoff').length)
    }
    // Sweep 0 counts, 1 to 6 deliver (the 6th after a 1 interval wait), then waits of 2 and 4 intervals.
    expect(attempts).toEqual([0, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 7, 8])
    expect(await fetchRecord(stack.server, client)).toMatchObject({ noticeCount: 0, noticeFailures: 8, lastNoticeError: 'push URL returned HTTP 500 (8 failures in a row, next retry in 8 sweep intervals)' })

    sink.behave('/backoff', { kind: 'reply', status: 200, body: 'ok' })
    expect(await expectOk(stack.server, 'update', { id: client.id, key: client.key, payload: { sendUrl } })).toMatchObject({ noticeFailures: 0, lastNoticeError: null })
    expect(await sweepWith(stack.server, { now: base + 13 * SWEEP_INTERVAL_MS })).toMatchObject({ notices: 1, failed: 0 })
    expect((await fetchRecord(stack.server, client)).noticeCount).toBe(1)
  })

  it('boundary sweep sends no early notice', async () => {
    const client = await registerClient(stack, 'boundary-notice', { errorMax: 1, sendUrl: `${sink.url}/boundary-notice` })
    const boundary = slotBoundaryAhead()
    expect(await sweepWith(stack.server, { now: boundary - 1 })).toMatchObject({ counted: 1, notices: 0 })
    expect(await sweepWith(stack.server, { now: boundary + 1 })).toMatchObject({ counted: 0, notices: 0 })
    expect(sink.requestsTo('/boundary-notice')).toHaveLength(0)
    expect(await sweepWith(stack.server, { now: boundary + SWEEP_INTERVAL_MS })).toMatchObject({ notices: 1 })
    expect((await fetchRecord(stack.server, client)).noticeCount).toBe(1)
  })

  it('repeats no down notice', async () => {
    const client = await registerClient(stack, 'lease-down', { errorMax: 1, noticeMax: 5, sendUrl: `${sink.url}/lease-down?n={noticeCount}` })
    await makeNoticeDue(stack.server, [client])
    const { outer, inner } = await overlapAt('noticeCount', Date.now())
    expect(outer).toMatchObject({ notices: 1, failed: 0 })
    expect(inner).toMatchObject({ notices: 0, failed: 0 })
    expect(sink.requestsTo('/lease-down').map(request => request.query.n)).toEqual(['1'])
    expect((await fetchRecord(stack.server, client)).noticeCount).toBe(1)
  })

  it('repeats no recovery notice', async () => {
    const client = await registerClient(stack, 'lease-up', { errorMax: 1, sendUrl: `${sink.url}/lease-up?s={status}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await expectOk(stack.server, 'receive', { key: client.key })
    // No client is late for a day, so both sweeps only owe the recovery notice.
    const env = { ...FAST_SERVER_ENV, HEARTBEAT_LATE_AFTER_SECONDS: '86400' }
    const { outer, inner } = await overlapAt('recoveryPending', Date.now() + 10 * SWEEP_INTERVAL_MS, env)
    expect(outer).toMatchObject({ recoveries: 1, failed: 0 })
    expect(inner).toMatchObject({ recoveries: 0, failed: 0 })
    expect(sink.requestsTo('/lease-up').map(request => request.query.s)).toEqual(['down', 'up'])
  })
})

describe('sweep database work', () => {
  /** Database requests that one sweep makes, from the runtime's store counters. */
  async function sweepExecutes(server: ServerApp): Promise<{ executes: number, summary: any }> {
    const before = server.app.databaseStats!().executes
    const summary = await sweep(server)
    return { executes: server.app.databaseStats!().executes - before, summary }
  }

  async function measure(count: number): Promise<{ counting: number, notice: number, quiet: number }> {
    const stack = await startStack()
    try {
      const clients: TestClient[] = []
      for (let index = 0; index < count; index++)
        clients.push(await registerClient(stack, `n${index}`, { errorMax: 1, sendUrl: `${sink.url}/work-${count}` }))
      // Fresh beats right before the quiet sweep, so registering many clients cannot make the first one late.
      await waitForNextSlot()
      await Promise.all(clients.map(client => expectOk(stack.server, 'receive', { key: client.key })))
      const beats = await Promise.all(clients.map(client => fetchRecord(stack.server, client)))
      const quiet = await sweepExecutes(stack.server)
      expect(quiet.summary).toMatchObject({ checked: 0 })
      await waitUntilLate(Math.max(...beats.map(record => record.updatedAt!)))
      const counting = await sweepExecutes(stack.server)
      expect(counting.summary).toMatchObject({ counted: count })
      await waitForNextSlot()
      const notice = await sweepExecutes(stack.server)
      expect(notice.summary).toMatchObject({ notices: count })
      return { counting: counting.executes, notice: notice.executes, quiet: quiet.executes }
    }
    finally {
      await stack.close()
    }
  }

  it('round trips do not grow', async () => {
    const one = await measure(1)
    const many = await measure(6)
    expect(many).toEqual(one)
    expect(one.notice).toBeLessThanOrEqual(18)
  })

  it('due queries use indexes', async () => {
    const stack = await startStack()
    try {
      await registerClient(stack, 'indexed')
      for (const query of dueClientQueries(Date.now())) {
        const plan = stack.server.app.explainQuery!('heartbeat_clients', query).join('\n')
        expect(plan).toMatch(/USING INDEX/)
      }
    }
    finally {
      await stack.close()
    }
  })
})

describe('concurrent requests', () => {
  let stack: Stack

  beforeAll(async () => {
    stack = await startStack()
  })

  afterAll(async () => {
    await stack.close()
  })

  it('same signup twice wins once', async () => {
    const clientUrl = `${stack.clientUrl}?c=race`
    const replies = await Promise.all([
      callAction(stack.server, 'signup', { clientUrl }),
      callAction(stack.server, 'signup', { clientUrl }),
    ])
    expect(replies.map(reply => reply.body.code).sort()).toEqual([20000, 40900])
    const conflict = replies.find(reply => reply.body.code === 40900)!
    expect(conflict.status).toBe(409)
    expect(conflict.body.message).toBe('clientUrl is already registered')
  })

  it('concurrent activations log once', async () => {
    const { client, key } = await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=activate-race` })
    stack.clientEnv.HEARTBEAT_SERVER_KEY = key
    const records = await Promise.all(Array.from({ length: 3 }, () => expectOk(stack.server, 'active', { id: client.id, key })))
    expect(records.map(record => record.state)).toEqual([1, 1, 1])
    expect(stack.server.logs.filter(line => line.includes(`client ${client.id} activated`))).toHaveLength(1)
    // Removed so that later sweeps in this stack do not count it.
    await expectOk(stack.server, 'remove', { id: client.id, key })
  })

  it('concurrent pauses stay paused', async () => {
    const client = await registerClient(stack, 'toggle')
    const replies = await Promise.all([
      expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true }),
      expectOk(stack.server, 'toggle', { id: client.id, key: client.key, paused: true }),
    ])
    expect(replies.map(record => record.paused)).toEqual([true, true])
    expect((await fetchRecord(stack.server, client)).paused).toBe(true)
  })

  it('concurrent heartbeats recover once', async () => {
    const client = await registerClient(stack, 'beats', { errorMax: 1, sendUrl: `${sink.url}/beats?s={status}` })
    await makeNoticeDue(stack.server, [client])
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await waitForNextSlot()
    await Promise.all(Array.from({ length: 5 }, () => expectOk(stack.server, 'receive', { key: client.key })))
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1 })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 0 })
    expect(sink.requestsTo('/beats').map(request => request.query.s)).toEqual(['down', 'up'])
  })
})

describe('registration expiry', () => {
  let stack: Stack

  beforeEach(async () => {
    stack = await startStack({ ...FAST_SERVER_ENV, HEARTBEAT_UNACTIVATED_TTL_SECONDS: '1' })
  })

  afterEach(async () => {
    await stack.close()
  })

  it('removes unactivated registrations after the ttl', async () => {
    const live = await registerClient(stack, 'live')
    const stale = await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=stale` })
    await waitForSlotAfter(stale.client.createdAt + 1001)
    expect(await sweep(stack.server)).toMatchObject({ expired: 1 })
    expect(await expectOk(stack.server, 'fetch', { clientUrl: `${stack.clientUrl}?c=stale` })).toEqual({ registered: false, state: null })
    expect((await fetchRecord(stack.server, live)).state).toBe(2)
    expect((await expectOk(stack.server, 'signup', { clientUrl: `${stack.clientUrl}?c=stale` })).client.state).toBe(0)
  })
})
