/**
 * What the simulator observes at one instant: every rollout, every host record, the quarantines
 * and the gate decisions logged since the previous snapshot, read from the CP's storage.
 *
 * Invariant: read-only; a snapshot never changes the world.
 */
import { Clock, Effect } from "effect"
import { CpReducer, EventLogWriter } from "../cp/index.js"
import type { ChannelId, ClosureHash, HostId, HostRolloutState, HostState, RolloutRecord, RolloutState } from "../domain/index.js"
import { EventLog, Storage } from "../ports/index.js"

/** One gate deferral as the CP logged it. */
export interface Deferral {
  readonly host: HostId | null
  readonly gate: string
  readonly reason: string
}

/** The world at one instant. */
export interface Snapshot {
  /** Simulated time (epoch millis). */
  readonly at: number
  readonly rollouts: ReadonlyArray<RolloutRecord>
  readonly records: ReadonlyArray<HostRolloutState>
  readonly quarantines: ReadonlyArray<{ readonly channel: ChannelId; readonly closureHash: ClosureHash }>
  /** Gate deferrals logged after `afterSeq`. */
  readonly deferrals: ReadonlyArray<Deferral>
  /** The event log's last seq. */
  readonly logSeq: number
}

/** Waits until the CP has processed everything offered and flushed its log. */
export const quiesce = Effect.gen(function* () {
  yield* Effect.flatMap(CpReducer, (r) => r.barrier)
  yield* Effect.flatMap(EventLogWriter, (w) => w.flush)
})

/** Reads a snapshot; `afterSeq` bounds the deferrals read. */
export const takeSnapshot = (afterSeq: number) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const log = yield* EventLog
    const gates = yield* log.byKind("gate_decision", { afterSeq })
    const deferrals = gates.map((e): Deferral => {
      const payload = e.payload as { readonly gate?: unknown; readonly reason?: unknown }
      return { host: e.hostname, gate: String(payload.gate ?? "?"), reason: String(payload.reason ?? "") }
    })
    const snapshot: Snapshot = {
      at: yield* Clock.currentTimeMillis,
      rollouts: yield* storage.listRollouts(),
      records: yield* storage.allHostRecords,
      quarantines: (yield* storage.listQuarantines).map((q) => ({ channel: q.channel, closureHash: q.closureHash })),
      deferrals,
      logSeq: yield* log.lastSeq
    }
    return snapshot
  })

/** Host states counted per rollout. */
export const countStates = (records: ReadonlyArray<HostRolloutState>, rolloutId: string): Partial<Record<HostState, number>> => {
  const counts: Partial<Record<HostState, number>> = {}
  for (const r of records) if (r.rolloutId === rolloutId) counts[r.state] = (counts[r.state] ?? 0) + 1
  return counts
}

/** Rollout states a rollout stays in once reached (for the simulator's stop condition). */
export const FINISHED: ReadonlySet<RolloutState> = new Set(["Terminal", "Failed", "Reverted", "Superseded", "Pruned"])
