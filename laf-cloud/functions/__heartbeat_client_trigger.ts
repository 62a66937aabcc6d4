// Cron trigger target for the heartbeat client: sends one heartbeat per run.
// Point a Laf trigger at this function with a period of at most one minute,
// or POST to it by hand to send a heartbeat now.
import { heartBeat } from '@/__heartbeat_client_test'

export default async function (_ctx: FunctionContext) {
  return heartBeat()
}
