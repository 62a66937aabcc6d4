import type { ClientRecord } from '../types/api'

/** Status the console shows for a client, from the record's state, pause flag and missed beats. */
export type ClientStatus = 'registered' | 'waiting' | 'live' | 'paused' | 'silent'

/** Element Plus tag type for each status. */
export const clientStatusTagType: Record<ClientStatus, 'info' | 'warning' | 'success' | 'danger' | 'primary'> = {
  registered: 'info',
  waiting: 'primary',
  live: 'success',
  paused: 'warning',
  silent: 'danger',
}

/** Returns the status of a client; a paused client shows as paused whatever its counters are. */
export function describeClientStatus(record: Pick<ClientRecord, 'state' | 'paused' | 'errorCount'>): ClientStatus {
  if (record.paused)
    return 'paused'
  if (record.state === 0)
    return 'registered'
  if (record.errorCount > 0)
    return 'silent'
  return record.state === 1 ? 'waiting' : 'live'
}
