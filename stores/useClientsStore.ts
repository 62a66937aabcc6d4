import type { ConsoleMemory, RememberedClient } from '../utils/clientMemory'
import { useStorage } from '@vueuse/core'
import { defineStore } from 'pinia'
import { computed } from 'vue'
import {
  createEmptyMemory,
  findClient,
  forgetClient,
  listClients,
  listServers,
  parseMemory,
  rememberClient,
  rememberServer,
  serializeMemory,
} from '../utils/clientMemory'

/** localStorage entry of the console; other tabs see changes through the storage event. */
export const memoryStorageKey = 'laf-heartbeat:console'

/** Servers, clients and client keys this browser remembers, so a returning owner lands on the settings. */
export const useClientsStore = defineStore('clients', () => {
  const memory = useStorage<ConsoleMemory>(memoryStorageKey, createEmptyMemory(), undefined, {
    serializer: { read: parseMemory, write: serializeMemory },
  })

  const lastServerUrl = computed(() => memory.value.lastServerUrl)
  const servers = computed(() => listServers(memory.value))

  function clientsOf(serverUrl: string): RememberedClient[] {
    return listClients(memory.value, serverUrl)
  }

  function find(serverUrl: string, clientUrl: string): RememberedClient | null {
    return findClient(memory.value, serverUrl, clientUrl)
  }

  /** Returns the client opened last on this server, when its key is still remembered. */
  function lastClientOf(serverUrl: string): RememberedClient | null {
    const clientUrl = memory.value.servers[serverUrl]?.lastClientUrl
    return clientUrl ? find(serverUrl, clientUrl) : null
  }

  function markServerUsed(serverUrl: string): void {
    memory.value = rememberServer(memory.value, serverUrl, Date.now())
  }

  function remember(client: Omit<RememberedClient, 'savedAt'>): void {
    memory.value = rememberClient(memory.value, client, Date.now())
  }

  function forget(serverUrl: string, clientUrl: string): void {
    memory.value = forgetClient(memory.value, serverUrl, clientUrl)
  }

  return { lastServerUrl, servers, clientsOf, find, lastClientOf, markServerUsed, remember, forget }
})
