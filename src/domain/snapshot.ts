/**
 * The snapshot of a host rollout that the CP sends in heartbeat replies (`bootstrapRollouts`).
 *
 * Invariant: it carries exactly the fields the CP may overwrite on the agent; the agent-only
 * fields (probes, failure times, policy applied) are never in it and survive a merge.
 */
import { Schema } from "effect"
import { HostState, type HostRolloutState } from "./hostState.js"
import { ChannelId, ClosureHash, HostId, RolloutId } from "./ids.js"
import { nullableOmitted } from "./schema.js"
import { Seq, Timestamp } from "./time.js"

/** A host rollout as the CP sees it, camelCase JSON, null fields omitted. */
export const HostRolloutSnapshot = Schema.Struct({
  rolloutId: RolloutId,
  hostname: HostId,
  channel: ChannelId,
  state: HostState,
  targetClosure: ClosureHash,
  currentClosureAtDispatch: nullableOmitted(ClosureHash),
  currentClosure: nullableOmitted(ClosureHash),
  dispatchedAt: Timestamp,
  dispatchAckedAt: nullableOmitted(Timestamp),
  activationStartedAt: nullableOmitted(Timestamp),
  activationCompletedAt: nullableOmitted(Timestamp),
  soakDueAt: nullableOmitted(Timestamp),
  lastEventSeq: Seq
}).annotations({ identifier: "HostRolloutSnapshot" })
/** A host rollout as the CP sees it. */
export type HostRolloutSnapshot = typeof HostRolloutSnapshot.Type

/** Projects a record onto the snapshot the CP sends. */
export const toSnapshot = (s: HostRolloutState): HostRolloutSnapshot => ({
  rolloutId: s.rolloutId,
  hostname: s.hostname,
  channel: s.channel,
  state: s.state,
  targetClosure: s.targetClosure,
  currentClosureAtDispatch: s.currentClosureAtDispatch,
  currentClosure: s.currentClosure,
  dispatchedAt: s.dispatchedAt,
  dispatchAckedAt: s.dispatchAckedAt,
  activationStartedAt: s.activationStartedAt,
  activationCompletedAt: s.activationCompletedAt,
  soakDueAt: s.soakDueAt,
  lastEventSeq: s.lastEventSeq
})
