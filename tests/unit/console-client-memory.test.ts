import { describe, expect, it } from 'vitest'
import {
  clientMemoryKey,
  createEmptyMemory,
  findClient,
  forgetClient,
  listClients,
  listServers,
  parseMemory,
  rememberClient,
  rememberServer,
  serializeMemory,
} from '../../utils/clientMemory'

const serverA = 'http://127.0.0.1:8001/server-a'
const serverB = 'http://127.0.0.1:8001/server-b'
const client1 = 'http://127.0.0.1:8002/client-1'
const client2 = 'http://127.0.0.1:8002/client-2'

function clientOn(serverUrl: string, clientUrl: string, key = 'key-1') {
  return { serverUrl, clientUrl, id: 'id-1', key }
}

describe('parseMemory', () => {
  it('returns empty memory for null', () => {
    expect(parseMemory(null)).toEqual(createEmptyMemory())
  })

  it('returns empty memory for bad JSON', () => {
    expect(parseMemory('{not json')).toEqual(createEmptyMemory())
  })

  it('returns empty memory for other versions', () => {
    expect(parseMemory(JSON.stringify({ version: 2, lastServerUrl: serverA }))).toEqual(createEmptyMemory())
  })

  it('drops malformed entries only', () => {
    const text = JSON.stringify({
      version: 1,
      lastServerUrl: serverA,
      servers: { a: { url: serverA, lastClientUrl: client1, usedAt: 5 }, b: { url: 42 }, c: 'x' },
      clients: {
        good: { serverUrl: serverA, clientUrl: client1, id: 'id-1', key: 'k', savedAt: 7 },
        noKey: { serverUrl: serverA, clientUrl: client2, id: 'id-2', key: '' },
        notObject: [1, 2],
      },
    })
    const memory = parseMemory(text)
    expect(memory.lastServerUrl).toBe(serverA)
    expect(Object.keys(memory.servers)).toEqual([serverA])
    expect(Object.values(memory.clients)).toEqual([{ serverUrl: serverA, clientUrl: client1, id: 'id-1', key: 'k', savedAt: 7 }])
  })

  it('rekeys clients by server and client', () => {
    const text = JSON.stringify({ version: 1, clients: { wrong: { serverUrl: serverA, clientUrl: client1, key: 'k' } } })
    const memory = parseMemory(text)
    expect(Object.keys(memory.clients)).toEqual([clientMemoryKey(serverA, client1)])
    expect(memory.clients[clientMemoryKey(serverA, client1)].id).toBeNull()
  })

  it('reads back what it serialized', () => {
    let memory = rememberServer(createEmptyMemory(), serverA, 1)
    memory = rememberClient(memory, clientOn(serverA, client1), 2)
    expect(parseMemory(serializeMemory(memory))).toEqual(memory)
  })
})

describe('rememberServer', () => {
  it('sets last server and time', () => {
    const memory = rememberServer(createEmptyMemory(), serverA, 10)
    expect(memory.lastServerUrl).toBe(serverA)
    expect(memory.servers[serverA]).toEqual({ url: serverA, lastClientUrl: null, usedAt: 10 })
  })

  it('keeps the last client', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1), 1)
    memory = rememberServer(memory, serverA, 2)
    expect(memory.servers[serverA].lastClientUrl).toBe(client1)
  })

  it('does not change its input', () => {
    const before = createEmptyMemory()
    rememberServer(before, serverA, 1)
    expect(before).toEqual(createEmptyMemory())
  })
})

describe('rememberClient', () => {
  it('stores key and last client', () => {
    const memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1, 'secret'), 3)
    expect(findClient(memory, serverA, client1)).toEqual({ ...clientOn(serverA, client1, 'secret'), savedAt: 3 })
    expect(memory.servers[serverA].lastClientUrl).toBe(client1)
  })

  it('separates servers for one client', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1, 'key-a'), 1)
    memory = rememberClient(memory, clientOn(serverB, client1, 'key-b'), 2)
    expect(findClient(memory, serverA, client1)?.key).toBe('key-a')
    expect(findClient(memory, serverB, client1)?.key).toBe('key-b')
  })

  it('replaces the key of a client', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1, 'old'), 1)
    memory = rememberClient(memory, clientOn(serverA, client1, 'new'), 2)
    expect(findClient(memory, serverA, client1)?.key).toBe('new')
    expect(Object.keys(memory.clients)).toHaveLength(1)
  })
})

describe('forgetClient', () => {
  it('removes key and last client', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1), 1)
    memory = forgetClient(memory, serverA, client1)
    expect(findClient(memory, serverA, client1)).toBeNull()
    expect(memory.servers[serverA].lastClientUrl).toBeNull()
  })

  it('keeps the other clients', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1), 1)
    memory = rememberClient(memory, clientOn(serverA, client2), 2)
    memory = forgetClient(memory, serverA, client1)
    expect(findClient(memory, serverA, client2)).not.toBeNull()
    expect(memory.servers[serverA].lastClientUrl).toBe(client2)
  })
})

describe('listing', () => {
  it('lists clients newest first', () => {
    let memory = rememberClient(createEmptyMemory(), clientOn(serverA, client1), 1)
    memory = rememberClient(memory, clientOn(serverA, client2), 2)
    memory = rememberClient(memory, clientOn(serverB, client1), 3)
    expect(listClients(memory, serverA).map(client => client.clientUrl)).toEqual([client2, client1])
  })

  it('lists servers most recent first', () => {
    let memory = rememberServer(createEmptyMemory(), serverA, 1)
    memory = rememberServer(memory, serverB, 2)
    expect(listServers(memory).map(server => server.url)).toEqual([serverB, serverA])
  })
})
