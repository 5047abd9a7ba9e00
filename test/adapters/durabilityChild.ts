/**
 * Child process of the durability tests: writes to an SQLite store as fast as it can and prints
 * one line per committed write, until the parent kills it with SIGKILL.
 *
 * Usage: `node --import tsx durabilityChild.ts cp <file>` or `… outbound <file> <rolloutId>`.
 * - cp: each round is one transaction appending 1–7 agent events and upserting the host record
 *   with `lastEventSeq` = the last event's seq; prints `ack <seq>` after the commit.
 * - outbound: enqueues events 1, 2, … (prints `ack <seq>` after each enqueue returns) and acks
 *   (deletes) every third one's predecessor (prints `del <seq>` after the delete returns).
 *
 * Invariant: a line is printed only after the write it reports has returned.
 */
import { Effect, Option } from "effect"
import { layerSqlite, layerSqliteOutboundQueue } from "../../adapters/sqlite/index.js"
import type { ChannelId, ChannelRef, RolloutId } from "../../src/domain/index.js"
import { EventLog } from "../../src/ports/eventLog.js"
import { OutboundQueue } from "../../src/ports/outboundQueue.js"
import { Storage } from "../../src/ports/storage.js"
import { agentEntry, DURABLE_HOST, DURABLE_ROLLOUT, pending, queued, T0 } from "../ports/fixtures.js"

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const cp = (filename: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const log = yield* EventLog
    yield* storage.openRollout({ rolloutId: DURABLE_ROLLOUT, channel: "durable" as ChannelId, targetRef: "r1" as ChannelRef, openedAt: T0 })
    const existing = yield* storage.loadHostRecord(DURABLE_ROLLOUT, DURABLE_HOST)
    const record = Option.getOrElse(existing, () => pending(DURABLE_ROLLOUT, DURABLE_HOST))
    let seq = record.lastEventSeq
    yield* say("ready")
    for (;;) {
      const n = 1 + (seq % 7)
      const entries = Array.from({ length: n }, (_, i) => agentEntry(DURABLE_HOST, DURABLE_ROLLOUT, seq + i + 1))
      yield* storage.transaction(Effect.zip(log.appendBatch(entries), storage.upsertHostRecord({ ...record, lastEventSeq: seq + n })))
      seq += n
      yield* say(`ack ${seq}`)
    }
  }).pipe(Effect.provide(layerSqlite({ filename })))

const outbound = (filename: string, rolloutId: RolloutId) =>
  Effect.gen(function* () {
    const queue = yield* OutboundQueue
    yield* say("ready")
    for (let seq = 1; ; seq++) {
      yield* queue.enqueue(queued(rolloutId, seq, DURABLE_HOST))
      yield* say(`ack ${seq}`)
      if (seq % 3 === 0) {
        yield* queue.ack(rolloutId, seq - 1)
        yield* say(`del ${seq - 1}`)
      }
    }
  }).pipe(Effect.provide(layerSqliteOutboundQueue({ filename })))

const [mode, filename, rolloutId] = process.argv.slice(2)
if (filename !== undefined && (mode === "cp" || (mode === "outbound" && rolloutId !== undefined))) {
  const program = mode === "cp" ? cp(filename) : outbound(filename, rolloutId as RolloutId)
  Effect.runPromise(program).catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(2)
  })
}
