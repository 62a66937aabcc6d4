// Cron trigger target for the heartbeat server: runs one sweep per run and
// returns its summary. Point a Laf trigger at this function every minute.
// A POST by hand is safe too, because a second sweep in the same interval
// does nothing.
import { schedule } from '@/__heartbeat_server_test'

export default async function (_ctx: FunctionContext) {
  return schedule()
}
