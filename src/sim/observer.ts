/**
 * A Storage wrapper that records the fleet state at every dispatch decision, so the "no dispatch
 * while a gate blocks" invariant can judge each one against what the CP knew at that moment:
 * - `queue`: the CP queued a dispatch (`enqueueDispatch`, inside the plan tick's transaction);
 * - `ack`: a Pending, unacked record became Activating (a DispatchAck applied: the agent's, or
 *   one synthesised by heartbeat recovery).
 * Each observation holds the records, rollouts, quarantines and probe-failure counts read inside
 * the same transaction, before the write.
 *
 * Invariant: the wrapper only reads and records; every call reaches the wrapped storage
 * unchanged, in the same transaction (reads inside it see the transaction's own state).
 */
import { Chunk, Clock, Effect, Option, Ref } from "effect"
import type { HostRolloutState } from "../domain/hostState.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import type { RolloutRecord } from "../domain/rollout.js"
import type { ProbeFailureRow } from "../planner/fleetState.js"
import type { QuarantineRecord, StorageService } from "../ports/storage.js"

/** The fleet state as the CP stored it when it decided a dispatch. */
export interface DispatchObservation {
  readonly kind: "queue" | "ack"
  /** The CP's time of the decision (epoch millis). */
  readonly at: number
  readonly host: HostId
  readonly rolloutId: RolloutId
  /** For `ack`: the record after the ack (its `currentClosureAtDispatch` tells a synthesised ack). */
  readonly acked: HostRolloutState | null
  readonly records: ReadonlyArray<HostRolloutState>
  readonly rollouts: ReadonlyArray<RolloutRecord>
  readonly quarantines: ReadonlyArray<QuarantineRecord>
  readonly probeFailures: ReadonlyArray<ProbeFailureRow>
}

/** Wraps `storage` so that every dispatch decision is appended to `into`. */
export const observeDispatches = (storage: StorageService, into: Ref.Ref<Chunk.Chunk<DispatchObservation>>): StorageService => {
  const observe = (kind: DispatchObservation["kind"], at: number, host: HostId, rolloutId: RolloutId, acked: HostRolloutState | null) =>
    Effect.gen(function* () {
      const counts = yield* storage.probeFailureCounts.pipe(Effect.orElseSucceed(() => new Map()))
      const probeFailures: Array<ProbeFailureRow> = []
      for (const [rid, perHost] of counts) for (const [hostname, count] of perHost) probeFailures.push({ rolloutId: rid, hostname, count })
      const observation: DispatchObservation = {
        kind,
        at,
        host,
        rolloutId,
        acked,
        records: yield* storage.allHostRecords,
        rollouts: yield* storage.listRollouts(),
        quarantines: yield* storage.listQuarantines,
        probeFailures
      }
      yield* Ref.update(into, Chunk.append(observation))
    })
  const observeAck = (record: HostRolloutState) =>
    Effect.gen(function* () {
      if (record.state !== "Activating") return
      const before = yield* storage.loadHostRecord(record.rolloutId, record.hostname)
      if (Option.isSome(before) && before.value.state === "Pending" && before.value.dispatchAckedAt === null) {
        yield* observe("ack", yield* Clock.currentTimeMillis, record.hostname, record.rolloutId, record)
      }
    })
  return {
    ...storage,
    enqueueDispatch: (entry) =>
      Effect.zipRight(observe("queue", entry.enqueuedAt, entry.hostname, entry.rolloutId, null), storage.enqueueDispatch(entry)),
    upsertHostRecord: (record) => Effect.zipRight(observeAck(record), storage.upsertHostRecord(record)),
    upsertHostRecords: (records) => Effect.zipRight(Effect.forEach(records, observeAck, { discard: true }), storage.upsertHostRecords(records))
  }
}
