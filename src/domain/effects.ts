/**
 * Host effects: what `step()` asks the shell to do. A description, never an action.
 *
 * Invariant: `Local*` effects are carried out only by the agent, `Remote*` only by the CP, and
 * `RecordTransition` / `EmitMetric` / `EmitLog` by both; an applier drops (and logs) the rest.
 */
import { Schema } from "effect"
import { OutboundAgentEvent } from "./agentEvent.js"
import { HostState } from "./hostState.js"
import { ChannelId, ClosureHash, HostId, RolloutId } from "./ids.js"
import { Timestamp } from "./time.js"

/** Agent: run the switch to the rollout's target closure. */
export const LocalFireSwitch = Schema.TaggedStruct("LocalFireSwitch", { rolloutId: RolloutId, target: ClosureHash })
/** Agent: roll back to the closure that ran before the dispatch. */
export const LocalFireRollbackTo = Schema.TaggedStruct("LocalFireRollbackTo", { rolloutId: RolloutId, closure: ClosureHash })
/** Agent: drop cached probe tickers of stale rollouts and reload the probe declarations. */
export const LocalResetProbeCache = Schema.TaggedStruct("LocalResetProbeCache", { rolloutId: RolloutId })
/** Agent: report an event to the CP; `durable` asks for the on-disk queue before the POST. */
export const LocalEmitEvent = Schema.TaggedStruct("LocalEmitEvent", {
  rolloutId: RolloutId,
  payload: OutboundAgentEvent,
  durable: Schema.Boolean
})
/** CP: queue a dispatch (reserved for the planner; `step()` never emits it). */
export const RemoteQueueDispatch = Schema.TaggedStruct("RemoteQueueDispatch", {
  host: HostId,
  rolloutId: RolloutId,
  targetClosure: ClosureHash,
  soakDueAt: Timestamp
})
/** CP: quarantine a closure on a channel (append-only). */
export const RemoteInsertQuarantine = Schema.TaggedStruct("RemoteInsertQuarantine", { channel: ChannelId, closure: ClosureHash })
/** CP: open a rollout record (never emitted by `step()`). */
export const RemoteOpenRolloutRecord = Schema.TaggedStruct("RemoteOpenRolloutRecord", {
  rolloutId: RolloutId,
  channel: ChannelId,
  host: HostId
})
/** CP: append an agent event to the audit log. */
export const RemoteAppendEventLog = Schema.TaggedStruct("RemoteAppendEventLog", {
  host: HostId,
  rolloutId: RolloutId,
  payload: OutboundAgentEvent
})
/** Both: the host's state changed (emitted on every change, and only then). */
export const RecordTransition = Schema.TaggedStruct("RecordTransition", {
  host: HostId,
  rolloutId: RolloutId,
  from: HostState,
  to: HostState,
  at: Timestamp
})
/** Both: record a metric sample. */
export const EmitMetric = Schema.TaggedStruct("EmitMetric", {
  name: Schema.String,
  labels: Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
  value: Schema.Number
})
/** Log levels of {@link EmitLog}. */
export const LogLevel = Schema.Literal("Trace", "Debug", "Info", "Warn", "Error")
/** Both: write a log line. */
export const EmitLog = Schema.TaggedStruct("EmitLog", {
  level: LogLevel,
  target: Schema.String,
  message: Schema.String,
  fields: Schema.Array(Schema.Tuple(Schema.String, Schema.String))
})

/** Any effect the host `step()` may describe. */
export const HostEffect = Schema.Union(
  LocalFireSwitch,
  LocalFireRollbackTo,
  LocalResetProbeCache,
  LocalEmitEvent,
  RemoteQueueDispatch,
  RemoteInsertQuarantine,
  RemoteOpenRolloutRecord,
  RemoteAppendEventLog,
  RecordTransition,
  EmitMetric,
  EmitLog
).annotations({ identifier: "HostEffect" })
/** Any effect the host `step()` may describe. */
export type HostEffect = typeof HostEffect.Type

/** Which side executes an effect. */
export type EffectSide = "agent" | "cp" | "both"

/** The side that carries out an effect; the other side's applier logs and drops it. */
export const effectSide = (effect: HostEffect): EffectSide => {
  switch (effect._tag) {
    case "LocalFireSwitch":
    case "LocalFireRollbackTo":
    case "LocalResetProbeCache":
    case "LocalEmitEvent":
      return "agent"
    case "RemoteQueueDispatch":
    case "RemoteInsertQuarantine":
    case "RemoteOpenRolloutRecord":
    case "RemoteAppendEventLog":
      return "cp"
    case "RecordTransition":
    case "EmitMetric":
    case "EmitLog":
      return "both"
  }
}
