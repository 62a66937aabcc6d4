import type { ClientRecord, UpdatePayload } from '../../types/api'
import type { ServerApp, Stack } from './stack'
import { expectOk } from './api'
import { noteSweepEnded, SERVER_TRIGGER } from './stack'

export interface TestClient {
  id: string
  key: string
  clientUrl: string
}

/**
 * Registers, activates (through the real client function, whose key is
 * switched to this client's first) and sends a first heartbeat. The tag
 * makes each clientUrl distinct while one client app serves them all.
 */
export async function registerClient(stack: Stack, tag: string, payload?: UpdatePayload): Promise<TestClient> {
  const clientUrl = `${stack.clientUrl}?c=${encodeURIComponent(tag)}`
  const { client, key } = await expectOk(stack.server, 'signup', { clientUrl })
  stack.clientEnv.HEARTBEAT_SERVER_KEY = key
  await expectOk(stack.server, 'active', { id: client.id, key })
  if (payload)
    await expectOk(stack.server, 'update', { id: client.id, key, payload })
  await expectOk(stack.server, 'receive', { key })
  return { id: client.id, key, clientUrl }
}

export async function fetchRecord(server: ServerApp, client: TestClient): Promise<ClientRecord> {
  const record = await expectOk(server, 'fetch', { clientUrl: client.clientUrl, key: client.key })
  if (record?.id !== client.id)
    throw new Error(`fetch did not return the record of ${client.id}: ${JSON.stringify(record)}`)
  return record
}

/** Runs one sweep through the server's trigger function, as Laf's cron does. */
export async function sweep(server: ServerApp): Promise<any> {
  try {
    return await server.app.runTrigger(SERVER_TRIGGER)
  }
  finally {
    noteSweepEnded()
  }
}
