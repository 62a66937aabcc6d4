import type { Sink } from '../helpers/sink'
import type { Stack } from '../helpers/stack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callAction, expectOk } from '../helpers/api'
import { sweep } from '../helpers/clients'
import { startSink } from '../helpers/sink'
import { CLIENT_TRIGGER, removeTempDirs, startStack, waitForNextSlot, waitUntilLate } from '../helpers/stack'

const TEMPLATE = '/push?status={status}&url={clientUrl}&n={noticeCount}&max={noticeMax}&e={errorCount}&m={silentMinutes}&last={lastHeartbeat}&t={title}&msg={message}&x={unknown}'

describe.sequential('client life', () => {
  let stack: Stack
  let sink: Sink
  let id: string
  let key: string
  let lastBeat: number

  const fetchOwn = () => expectOk(stack.server, 'fetch', { clientUrl: stack.clientUrl, key })

  async function beat(): Promise<void> {
    const outcome = await stack.client.runTrigger(CLIENT_TRIGGER)
    expect(outcome).toEqual({ ok: true, status: 200, code: 20000, message: 'accepted (state 2)' })
    lastBeat = (await fetchOwn()).updatedAt
  }

  beforeAll(async () => {
    stack = await startStack()
    sink = await startSink()
  })

  afterAll(async () => {
    await stack?.close()
    await sink?.close()
    removeTempDirs()
  })

  it('signup returns the key once', async () => {
    const reply = await callAction(stack.server, 'signup', { clientUrl: stack.clientUrl })
    expect(reply.status).toBe(200)
    expect(reply.body.code).toBe(20000)
    expect(reply.body.data.key).toMatch(/^[0-9a-f]{64}$/)
    expect(reply.body.data.client).toMatchObject({ clientUrl: stack.clientUrl, state: 0, paused: false, errorMax: 3, noticeMax: 3, sendUrl: '', updatedAt: null })
    id = reply.body.data.client.id
    key = reply.body.data.key
  })

  it('fetch hides the record without key', async () => {
    expect(await expectOk(stack.server, 'fetch', { clientUrl: stack.clientUrl })).toEqual({ registered: true, state: 0 })
    expect(await expectOk(stack.server, 'fetch', { clientUrl: `${stack.clientUrl}/other` })).toEqual({ registered: false, state: null })
    expect((await fetchOwn()).id).toBe(id)
  })

  it('receive rejects before activation', async () => {
    const reply = await callAction(stack.server, 'receive', { key })
    expect(reply.status).toBe(403)
    expect(reply.body).toEqual({ code: 40300, message: 'client is not activated: activate it in the console first' })
  })

  it('activation fails without client key', async () => {
    const reply = await callAction(stack.server, 'active', { id, key })
    expect(reply.status).toBe(502)
    expect(reply.body).toEqual({
      code: 50200,
      message: 'the client function rejected the check (code 40300): HEARTBEAT_SERVER_KEY is not set: set it (or heartBeatConfig.serverKey) to the key the console showed',
    })
  })

  it('activation fails with wrong key', async () => {
    stack.clientEnv.HEARTBEAT_SERVER_KEY = 'f'.repeat(64)
    const reply = await callAction(stack.server, 'active', { id, key })
    expect(reply.status).toBe(502)
    expect(reply.body.message).toBe('the client function did not return a valid signature: check that HEARTBEAT_SERVER_KEY in the client function is this client\'s key')
    expect((await fetchOwn()).state).toBe(0)
  })

  it('activates through the client function', async () => {
    stack.clientEnv.HEARTBEAT_SERVER_KEY = key
    const record = await expectOk(stack.server, 'active', { id, key })
    expect(record.state).toBe(1)
    expect(typeof record.watchedSince).toBe('number')
    expect(stack.clientLogs.some(line => /GET \/__heartbeat_client_test\b.* 200 /.test(line))).toBe(true)
  })

  it('activation is idempotent', async () => {
    const record = await expectOk(stack.server, 'active', { id, key })
    expect(record.state).toBe(1)
  })

  it('heartbeat makes the client live', async () => {
    await beat()
    const record = await fetchOwn()
    expect(record.state).toBe(2)
    expect(record.updatedAt).toBe(record.watchedSince)
    expect(stack.server.logs.some(line => line.includes(`heartbeat from ${id} (${new URL(stack.clientUrl).host})`))).toBe(true)
  })

  it('update sets notice settings', async () => {
    const record = await expectOk(stack.server, 'update', { id, key, payload: { errorMax: 2, noticeMax: 2, sendUrl: sink.url + TEMPLATE } })
    expect(record).toMatchObject({ errorMax: 2, noticeMax: 2, sendUrl: sink.url + TEMPLATE, paused: false })
  })

  it('fresh client is not counted', async () => {
    await waitForNextSlot()
    await beat()
    const summary = await sweep(stack.server)
    expect(summary).toMatchObject({ counted: 0, notices: 0 })
    expect((await fetchOwn()).errorCount).toBe(0)
  })

  it('counts once per interval', async () => {
    await waitUntilLate(lastBeat)
    const first = await sweep(stack.server)
    const second = await sweep(stack.server)
    const third = await sweep(stack.server)
    expect(first).toMatchObject({ checked: 1, late: 1, counted: 1, notices: 0 })
    expect(second).toEqual({ slot: first.slot, skipped: 'already swept this interval' })
    expect(third).toEqual({ slot: first.slot, skipped: 'already swept this interval' })
    expect((await fetchOwn()).errorCount).toBe(1)
  })

  it('counts again next interval', async () => {
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ counted: 1, notices: 0 })
    expect((await fetchOwn()).errorCount).toBe(2)
  })

  it('sends a filled notice', async () => {
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ counted: 0, notices: 1, failed: 0 })
    const [notice] = await sink.waitFor('/push', 1)
    expect(notice.method).toBe('GET')
    expect(notice.query).toMatchObject({
      status: 'down',
      url: stack.clientUrl,
      n: '1',
      max: '2',
      e: '2',
      m: '0',
      last: new Date(lastBeat).toISOString(),
      t: `Heartbeat lost: ${new URL(stack.clientUrl).host}`,
      x: '{unknown}',
    })
    expect(notice.query.msg).toContain('心跳丢失')
    const record = await fetchOwn()
    expect(record.noticeCount).toBe(1)
    expect(record.lastNoticeError).toBeNull()
    expect(typeof record.lastNoticeAt).toBe('number')
  })

  it('stops at noticeMax', async () => {
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ notices: 1 })
    await waitForNextSlot()
    expect(await sweep(stack.server)).toMatchObject({ notices: 0, late: 1 })
    expect(sink.requestsTo('/push').map(request => request.query.n)).toEqual(['1', '2'])
    expect((await fetchOwn()).noticeCount).toBe(2)
  })

  it('sends one recovery notice', async () => {
    await waitForNextSlot()
    await beat()
    const afterBeat = await fetchOwn()
    expect(afterBeat).toMatchObject({ state: 2, errorCount: 0, noticeCount: 0 })
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 1, notices: 0 })
    const recovery = sink.requestsTo('/push')[2]
    expect(recovery.query).toMatchObject({ status: 'up', url: stack.clientUrl, n: '2', t: `Heartbeat back: ${new URL(stack.clientUrl).host}` })
    await waitForNextSlot()
    await beat()
    expect(await sweep(stack.server)).toMatchObject({ recoveries: 0 })
    expect(sink.requestsTo('/push')).toHaveLength(3)
  })

  it('pause stops counting', async () => {
    const paused = await expectOk(stack.server, 'toggle', { id, key })
    expect(paused.paused).toBe(true)
    await waitUntilLate(lastBeat)
    expect(await sweep(stack.server)).toMatchObject({ checked: 0, counted: 0 })
    expect((await fetchOwn()).errorCount).toBe(0)
  })

  it('heartbeat keeps the pause', async () => {
    const reply = await callAction(stack.server, 'receive', { key })
    expect(reply.body).toEqual({ code: 20000, data: { state: 2, paused: true } })
    expect((await fetchOwn()).paused).toBe(true)
  })

  it('update keeps the pause', async () => {
    const record = await expectOk(stack.server, 'update', { id, key, payload: { errorMax: 1 } })
    expect(record).toMatchObject({ paused: true, errorMax: 1 })
  })

  it('resume measures from now', async () => {
    await waitUntilLate(Date.now())
    const resumed = await expectOk(stack.server, 'toggle', { id, key })
    expect(resumed.paused).toBe(false)
    expect(resumed.watchedSince).toBeGreaterThan(resumed.updatedAt)
    expect(await sweep(stack.server)).toMatchObject({ checked: 0, counted: 0 })
    await waitUntilLate(resumed.watchedSince)
    expect(await sweep(stack.server)).toMatchObject({ checked: 1, counted: 1 })
  })

  it('toggle with paused is idempotent', async () => {
    const first = await expectOk(stack.server, 'toggle', { id, key, paused: true })
    const second = await expectOk(stack.server, 'toggle', { id, key, paused: true })
    expect(first.paused).toBe(true)
    expect(second.paused).toBe(true)
  })

  it('remove deletes the client', async () => {
    const reply = await callAction(stack.server, 'remove', { id, key })
    expect(reply.body).toEqual({ code: 20000 })
    expect(await expectOk(stack.server, 'fetch', { clientUrl: stack.clientUrl, key })).toEqual({ registered: false, state: null })
    const outcome = await stack.client.runTrigger(CLIENT_TRIGGER)
    expect(outcome).toEqual({
      ok: false,
      status: 401,
      code: 40100,
      message: 'the server rejected the heartbeat (HTTP 401, code 40100): unknown key: check HEARTBEAT_SERVER_KEY in the client function',
    })
  })
})
