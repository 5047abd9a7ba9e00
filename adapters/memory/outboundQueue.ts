/**
 * The memory OutboundQueue: the agent's outbound events in a Ref, for tests and the simulator.
 * It does not survive the process (use the SQLite adapter on a real agent).
 *
 * Invariants: one entry per (rolloutId, seq), the first enqueued wins; entries stay in enqueue
 * order; `ack` of a missing key changes nothing.
 */
import { Chunk, Effect, HashSet, Layer } from "effect"
import type { RolloutId } from "../../src/domain/ids.js"
import { OutboundQueue, type OutboundQueueService, type QueuedEvent } from "../../src/ports/outboundQueue.js"
import { makeMemoryDb, ok } from "./db.js"

interface QueueState {
  readonly entries: Chunk.Chunk<QueuedEvent>
  readonly keys: HashSet.HashSet<string>
}

const keyOf = (rolloutId: RolloutId, seq: number) => `${rolloutId}\u0000${seq}`

/** Builds a memory outbound queue (empty). */
export const makeMemoryOutboundQueue: Effect.Effect<OutboundQueueService> = Effect.gen(function* () {
  const db = yield* makeMemoryDb<QueueState>({ entries: Chunk.empty(), keys: HashSet.empty() })
  return {
    enqueue: (entry: QueuedEvent) =>
      db.write((s) => {
        const key = keyOf(entry.rolloutId, entry.event.seq)
        return HashSet.has(s.keys, key)
          ? ok(false, s)
          : ok(true, { entries: Chunk.append(s.entries, entry), keys: HashSet.add(s.keys, key) })
      }),
    peek: (limit: number) => db.read((s) => Chunk.toReadonlyArray(Chunk.take(s.entries, Math.max(0, limit)))),
    ack: (rolloutId: RolloutId, seq: number) =>
      db.write((s) =>
        ok(undefined, {
          entries: Chunk.filter(s.entries, (e) => e.rolloutId !== rolloutId || e.event.seq !== seq),
          keys: HashSet.remove(s.keys, keyOf(rolloutId, seq))
        })
      ),
    size: db.read((s) => Chunk.size(s.entries)),
    // A memory queue holds typed values only: nothing can be corrupt.
    discardCorrupt: Effect.succeed(0)
  }
})

/** The agent's outbound queue in memory. */
export const layerMemoryOutboundQueue: Layer.Layer<OutboundQueue> = Layer.effect(OutboundQueue, makeMemoryOutboundQueue)
