/** A client whose key this browser holds. */
export interface RememberedClient {
  serverUrl: string
  clientUrl: string
  /** Record id, known once the server returned the record. */
  id: string | null
  key: string
  savedAt: number
}

/** A server this browser has connected to. */
export interface RememberedServer {
  url: string
  lastClientUrl: string | null
  usedAt: number
}

/** Everything the console keeps in localStorage. */
export interface ConsoleMemory {
  version: 1
  lastServerUrl: string | null
  servers: Record<string, RememberedServer>
  clients: Record<string, RememberedClient>
}

export function createEmptyMemory(): ConsoleMemory {
  return { version: 1, lastServerUrl: null, servers: {}, clients: {} }
}

/** Key of a client in `ConsoleMemory.clients`: the same client URL may be registered on several servers. */
export function clientMemoryKey(serverUrl: string, clientUrl: string): string {
  return JSON.stringify([serverUrl, clientUrl])
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

function readServer(value: unknown): RememberedServer | null {
  if (!isRecord(value) || !isText(value.url))
    return null
  return {
    url: value.url,
    lastClientUrl: isText(value.lastClientUrl) ? value.lastClientUrl : null,
    usedAt: typeof value.usedAt === 'number' ? value.usedAt : 0,
  }
}

function readClient(value: unknown): RememberedClient | null {
  if (!isRecord(value) || !isText(value.serverUrl) || !isText(value.clientUrl) || !isText(value.key))
    return null
  return {
    serverUrl: value.serverUrl,
    clientUrl: value.clientUrl,
    id: isText(value.id) ? value.id : null,
    key: value.key,
    savedAt: typeof value.savedAt === 'number' ? value.savedAt : 0,
  }
}

/**
 * Parses what localStorage holds. Another tab, an older console or a hand
 * edit may have written it, so invalid JSON gives an empty memory and
 * malformed entries are dropped one by one.
 */
export function parseMemory(text: string | null): ConsoleMemory {
  const memory = createEmptyMemory()
  let raw: unknown
  try {
    raw = text === null ? null : JSON.parse(text)
  }
  catch {
    return memory
  }
  if (!isRecord(raw) || raw.version !== 1)
    return memory
  memory.lastServerUrl = isText(raw.lastServerUrl) ? raw.lastServerUrl : null
  for (const value of Object.values(isRecord(raw.servers) ? raw.servers : {})) {
    const server = readServer(value)
    if (server)
      memory.servers[server.url] = server
  }
  for (const value of Object.values(isRecord(raw.clients) ? raw.clients : {})) {
    const client = readClient(value)
    if (client)
      memory.clients[clientMemoryKey(client.serverUrl, client.clientUrl)] = client
  }
  return memory
}

export function serializeMemory(memory: ConsoleMemory): string {
  return JSON.stringify(memory)
}

/** Records a server as the last one used. */
export function rememberServer(memory: ConsoleMemory, url: string, now: number): ConsoleMemory {
  const previous = memory.servers[url]
  const server: RememberedServer = { url, lastClientUrl: previous?.lastClientUrl ?? null, usedAt: now }
  return { ...memory, lastServerUrl: url, servers: { ...memory.servers, [url]: server } }
}

/** Stores a client's key and makes it the server's last client, so the next visit opens it. */
export function rememberClient(memory: ConsoleMemory, client: Omit<RememberedClient, 'savedAt'>, now: number): ConsoleMemory {
  const key = clientMemoryKey(client.serverUrl, client.clientUrl)
  const server = memory.servers[client.serverUrl] ?? { url: client.serverUrl, lastClientUrl: null, usedAt: now }
  return {
    ...memory,
    servers: { ...memory.servers, [client.serverUrl]: { ...server, lastClientUrl: client.clientUrl } },
    clients: { ...memory.clients, [key]: { ...client, savedAt: now } },
  }
}

/** Removes a client's key, and the server's pointer to it. */
export function forgetClient(memory: ConsoleMemory, serverUrl: string, clientUrl: string): ConsoleMemory {
  const clients = { ...memory.clients }
  delete clients[clientMemoryKey(serverUrl, clientUrl)]
  const servers = { ...memory.servers }
  const server = servers[serverUrl]
  if (server?.lastClientUrl === clientUrl)
    servers[serverUrl] = { ...server, lastClientUrl: null }
  return { ...memory, servers, clients }
}

export function findClient(memory: ConsoleMemory, serverUrl: string, clientUrl: string): RememberedClient | null {
  return memory.clients[clientMemoryKey(serverUrl, clientUrl)] ?? null
}

/** Lists the clients remembered for a server, newest first. */
export function listClients(memory: ConsoleMemory, serverUrl: string): RememberedClient[] {
  return Object.values(memory.clients)
    .filter(client => client.serverUrl === serverUrl)
    .sort((a, b) => b.savedAt - a.savedAt)
}

/** Lists the servers used before, most recent first. */
export function listServers(memory: ConsoleMemory): RememberedServer[] {
  return Object.values(memory.servers).sort((a, b) => b.usedAt - a.usedAt)
}
