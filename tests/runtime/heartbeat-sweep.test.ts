import type { TestClient } from '../helpers/clients'
import type { Sink } from '../helpers/sink'
import type { ServerApp, Stack } from '../helpers/stack'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { dueClientQueries } from '../../laf-cloud/functions/__heartbeat_server_test'
import { callAction, expectOk } from '../helpers/api'
import { fetchRecord, registerClient, sweep } from '../helpers/clients'
import { startSink } from '../helpers/sink'
import { FAST_SERVER_ENV, removeTempDirs, SERVER_TRIGGER, startStack, waitForNextSlot, waitForSlotAfter, waitUntilLate } from '../helpers/stack'

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
