/**
 * What the planner asks the applier to do: open a rollout, queue a host's dispatch, or record
 * why a host's dispatch is deferred.
 *
 * Invariant: actions are plain data the applier can log as-is; the planner emits no terminal,
 * supersede, promote-wave, halt or quarantine action (those belong to the applier and the rollout
 * reducer). The reference's `RecordHaltLifted` is never emitted (spec A15), so it is left out.
 */
import { Schema } from "effect"
import { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "../domain/ids.js"
import { Timestamp } from "../domain/time.js"
import { GateBlock, GateDiscriminator } from "./gateBlock.js"

/** Phase A: the channel's current manifest has no rollout row yet. */
export const OpenRollout = Schema.TaggedStruct("OpenRollout", {
  rolloutId: RolloutId,
  channel: ChannelId,
  targetRef: ChannelRef
})
/** Phase A: open a rollout. */
export type OpenRollout = typeof OpenRollout.Type

/** Phase B: every gate passed; re-emitted each tick until the agent acks (the applier upserts). */
export const QueueDispatch = Schema.TaggedStruct("QueueDispatch", {
  host: HostId,
  rollout: RolloutId,
  targetClosure: ClosureHash,
  /** The record's `soakDueAt`, or the tick's `now` when it has none. */
  soakDueAt: Timestamp
})
/** Phase B: queue a dispatch. */
export type QueueDispatch = typeof QueueDispatch.Type

/** Phase B: a gate blocked; repeated every tick, no debouncing (spec A15). */
export const DeferDispatch = Schema.TaggedStruct("DeferDispatch", {
  host: HostId,
  rollout: RolloutId,
  gate: GateDiscriminator,
  reason: Schema.String,
  /** The structured block, so the gate decision can be explained from the event log. */
  block: GateBlock
})
/** Phase B: a deferred dispatch. */
export type DeferDispatch = typeof DeferDispatch.Type

/** Any planner action. */
export const PlanAction = Schema.Union(OpenRollout, QueueDispatch, DeferDispatch).annotations({ identifier: "PlanAction" })
/** Any planner action. */
export type PlanAction = typeof PlanAction.Type
