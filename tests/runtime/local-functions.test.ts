import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { copyFixtures, postJson, trackStartedApps } from './local-helpers'

const start = trackStartedApps()

describe('imports', () => {
  it('@/name loads a sibling', async () => {
    const { app } = await start()
    const response = await fetch(app.functionUrl('greeter'))
    expect(await response.text()).toBe('hello world')
  })

  it('circular import fails clearly', async () => {
    const { app, logs } = await start()
    const response = await fetch(app.functionUrl('cycle-a'))
    expect(response.status).toBe(500)
    const line = await logs.waitFor(/\[cycle-a\] \[[\w-]+\] request failed/)
    expect(line).toContain('circular import: cycle-a -> cycle-b -> cycle-a')
  })

  it('invoke calls another function', async () => {
    const { app } = await start()
    expect(await app.invoke('caller')).toBe('hello world')
  })

  it('invoke of unknown name rejects', async () => {
    const { app } = await start()
    await expect(app.invoke('missing')).rejects.toThrow(/^function missing not found: there is no missing\.ts in /)
  })
})

describe('only', () => {
  it('serves only the listed names', async () => {
    const { app } = await start({ only: ['hello'] })
    expect((await fetch(app.functionUrl('hello'))).status).toBe(200)
    const other = await fetch(app.functionUrl('number'))
    expect(other.status).toBe(404)
    expect(await other.text()).toBe('Function Not Found')
  })

  it('listed name without file fails start', async () => {
    await expect(start({ only: ['hello', 'ghost'] })).rejects.toThrow(/^only: function ghost has no file ghost\.ts in /)
  })
})

describe('reload', () => {
  it('changed file is served at once', async () => {
    const functionsDir = copyFixtures()
    const { app, logs } = await start({ functionsDir, watch: true })
    expect(await (await fetch(app.functionUrl('hello'))).json()).toEqual({ ok: 1 })
    writeFileSync(join(functionsDir, 'hello.ts'), 'export default () => ({ ok: 2 })\n')
    await logs.waitFor(/hello\.ts changed: reloaded hello$/)
    expect(await (await fetch(app.functionUrl('hello'))).json()).toEqual({ ok: 2 })
  })

  it('changed import reloads dependants', async () => {
    const functionsDir = copyFixtures()
    const { app, logs } = await start({ functionsDir, watch: true })
    expect(await (await fetch(app.functionUrl('greeter'))).text()).toBe('hello world')
    writeFileSync(join(functionsDir, 'greeting.ts'), 'export const greet = (name: string) => \'bye \' + name\n')
    await logs.waitFor(/greeting\.ts changed: reloaded .*greeter/)
    expect(await (await fetch(app.functionUrl('greeter'))).text()).toBe('bye world')
  })

  it('compile error serves 500 until fixed', async () => {
    const functionsDir = copyFixtures()
    const { app, logs } = await start({ functionsDir, watch: true })
    writeFileSync(join(functionsDir, 'hello.ts'), 'export default () => ({ ok: \n')
    const error = await logs.waitFor(/\[hello\] failed to load/)
    expect(error).toContain('hello.ts does not compile')
    expect(error).toMatch(/hello\.ts\(2,1\): error TS\d+/)
    expect((await fetch(app.functionUrl('hello'))).status).toBe(500)
    writeFileSync(join(functionsDir, 'hello.ts'), 'export default () => ({ ok: 3 })\n')
    await logs.waitFor(/hello\.ts changed: reloaded hello$/)
    expect(await (await fetch(app.functionUrl('hello'))).json()).toEqual({ ok: 3 })
  })

  it('deleted file becomes 404', async () => {
    const functionsDir = copyFixtures()
    const { app, logs } = await start({ functionsDir, watch: true })
    rmSync(join(functionsDir, 'number.ts'))
    await logs.waitFor(/number\.ts deleted/)
    expect((await fetch(app.functionUrl('number'))).status).toBe(404)
  })

  it('changed yaml updates methods', async () => {
    const functionsDir = copyFixtures()
    const { app, logs } = await start({ functionsDir, watch: true })
    expect((await fetch(app.functionUrl('post-only'))).status).toBe(405)
    writeFileSync(join(functionsDir, 'post-only.yaml'), 'name: post-only\nmethods: [GET, POST]\n')
    await logs.waitFor(/post-only\.yaml changed/)
    expect((await fetch(app.functionUrl('post-only'))).status).toBe(200)
  })
})

describe('app isolation', () => {
  it('each app sees its own env', async () => {
    const first = await start({ name: 'first', env: { GREETING: 'one' } })
    const second = await start({ name: 'second', env: { GREETING: 'two' } })
    const [one, two] = await Promise.all([
      fetch(first.app.functionUrl('env')).then(response => response.json()),
      fetch(second.app.functionUrl('env')).then(response => response.json()),
    ])
    expect(one).toEqual({ greeting: 'one', cloudGreeting: 'one', sameObject: true, path: null, appid: 'first' })
    expect(two).toEqual({ greeting: 'two', cloudGreeting: 'two', sameObject: true, path: null, appid: 'second' })
  })

  it('env object stays live', async () => {
    const env: Record<string, string> = { GREETING: 'before' }
    const { app } = await start({ env })
    env.GREETING = 'after'
    const data = await (await fetch(app.functionUrl('env'))).json()
    expect(data.greeting).toBe('after')
  })

  it('each app has its own shared map', async () => {
    const first = await start({ name: 'first' })
    const second = await start({ name: 'second' })
    await first.app.runTrigger('sweep')
    const again = await first.app.runTrigger('sweep') as { runs: number }
    const other = await second.app.runTrigger('sweep') as { runs: number }
    expect(again.runs).toBe(2)
    expect(other.runs).toBe(1)
  })

  it('each app has its own database', async () => {
    const first = await start({ name: 'first' })
    const second = await start({ name: 'second' })
    const firstDb = await first.app.invoke('database') as any
    const secondDb = await second.app.invoke('database') as any
    await firstDb.collection('items').add({ owner: 'first' })
    expect((await firstDb.collection('items').count()).total).toBe(1)
    expect((await secondDb.collection('items').count()).total).toBe(0)
  })
})

describe('unsupported sdk parts', () => {
  for (const [feature, message] of [
    ['storage', 'cloud.storage (object storage) is not supported by the local runtime'],
    ['mongo', 'cloud.mongo (the MongoDB driver; use cloud.database()) is not supported by the local runtime'],
    ['sockets', 'cloud.sockets (WebSocket connections) is not supported by the local runtime'],
  ]) {
    it(`${feature} throws clearly`, async () => {
      const { app } = await start()
      await expect(app.invoke('unsupported', { body: { feature } })).rejects.toThrow(message)
    })
  }

  it('unsupported use is a 500', async () => {
    const { app, logs } = await start()
    const response = await postJson(app.functionUrl('unsupported'), { feature: 'storage' })
    expect(response.status).toBe(500)
    const line = await logs.waitFor(/\[unsupported\] \[[\w-]+\] request failed/)
    expect(line).toContain('cloud.storage (object storage) is not supported by the local runtime')
  })
})

describe('secret', () => {
  it('tokens survive a restart', async () => {
    const first = await start()
    const { token } = await first.app.invoke('token', { body: { sub: 'kept' } }) as { token: string }
    await first.app.close()
    const second = await start({ dataDir: first.dataDir })
    const response = await postJson(second.app.functionUrl('echo'), {}, { authorization: `Bearer ${token}` })
    expect((await response.json()).user.sub).toBe('kept')
  })

  it('given secret signs tokens', async () => {
    const first = await start({ secret: 'shared-secret' })
    const second = await start({ secret: 'shared-secret' })
    const { token } = await first.app.invoke('token', { body: { sub: 'both' } }) as { token: string }
    const response = await postJson(second.app.functionUrl('echo'), {}, { authorization: `Bearer ${token}` })
    expect((await response.json()).user.sub).toBe('both')
  })
})

describe('options', () => {
  it('rejects port out of range', async () => {
    await expect(start({ port: 70000 })).rejects.toThrow('port must be an integer from 0 to 65535, got 70000')
  })

  it('rejects missing functions folder', async () => {
    await expect(start({ functionsDir: '/no/such/folder' })).rejects.toThrow('functionsDir: folder /no/such/folder does not exist')
  })

  it('rejects non-string env value', async () => {
    await expect(start({ env: { PORT: 8000 as unknown as string } })).rejects.toThrow('env.PORT must be a string, got number')
  })

  it('busy port fails start', async () => {
    const first = await start()
    await expect(start({ port: first.app.port })).rejects.toThrow(`port ${first.app.port} on 127.0.0.1 is already in use`)
  })
})
