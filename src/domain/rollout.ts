/**
 * The rollout aggregate (CP only): one record per rollout, its eight states, the events that
 * drive it, the effects it describes and its errors.
 *
 * Invariant: `currentWave` never decreases; Terminal implies `terminalAt`, Superseded implies
 * `supersededAt`; Pruned accepts nothing.
 */
import { Schema } from "effect"
import { HostState } from "./hostState.js"
import { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "./ids.js"
import { Timestamp } from "./time.js"

/** The eight rollout states (PascalCase strings in storage). */
export const RolloutState = Schema.Literal(
  "Opening",
  "Active",
  "Converging",
  "Terminal",
  "Reverted",
  "Failed",
  "Superseded",
  "Pruned"
).annotations({ identifier: "RolloutState" })
/** One of the eight rollout states. */
export type RolloutState = typeof RolloutState.Type

/** Every rollout state. */
export const ROLLOUT_STATES: ReadonlyArray<RolloutState> = RolloutState.literals

/** Terminal or Superseded: channel edges release on either. */
export const isRolloutTerminalForOrdering = (s: RolloutState): boolean => s === "Terminal" || s === "Superseded"

/** A wave index (u32). */
export const WaveIndex = Schema.Number.pipe(Schema.int(), Schema.between(0, 4294967295))

/** One rollout, mirroring the `rollouts` table. */
export const RolloutRecord = Schema.Struct({
  rolloutId: RolloutId,
  channel: ChannelId,
  targetRef: ChannelRef,
  state: RolloutState,
  /** Dispatches are allowed up to this wave. Starts at 0, never decreases. */
  currentWave: WaveIndex,
  openedEventLogSeq: Schema.NullOr(Schema.Int),
  lastTransitionEventLogSeq: Schema.NullOr(Schema.Int),
  openedAt: Timestamp,
  terminalAt: Schema.NullOr(Timestamp),
  supersededAt: Schema.NullOr(Timestamp)
}).annotations({ identifier: "RolloutRecord" })
/** One rollout. */
export type RolloutRecord = typeof RolloutRecord.Type

/** Creates the `Opening` record the applier writes when it opens a rollout. */
export const newRolloutRecord = (args: {
  readonly rolloutId: RolloutId
  readonly channel: ChannelId
  readonly targetRef: ChannelRef
  readonly openedAt: Timestamp
}): RolloutRecord => ({
  ...args,
  state: "Opening",
  currentWave: 0,
  openedEventLogSeq: null,
  lastTransitionEventLogSeq: null,
  terminalAt: null,
  supersededAt: null
})

/** The rollout was opened (illegal as a `step()` input: the applier writes the record). */
export const RolloutOpened = Schema.TaggedStruct("RolloutOpened", {
  rolloutId: RolloutId,
  channel: ChannelId,
  targetRef: ChannelRef,
  at: Timestamp
})
/** A host was dispatched in a wave. */
export const HostJoined = Schema.TaggedStruct("HostJoined", { rolloutId: RolloutId, hostId: HostId, wave: WaveIndex, at: Timestamp })
/** A host of the rollout changed state. */
export const HostStateChanged = Schema.TaggedStruct("HostStateChanged", {
  rolloutId: RolloutId,
  hostId: HostId,
  from: HostState,
  to: HostState,
  at: Timestamp
})
/** The wave cursor moved. */
export const WaveAdvanced = Schema.TaggedStruct("WaveAdvanced", {
  rolloutId: RolloutId,
  fromWave: WaveIndex,
  toWave: WaveIndex,
  at: Timestamp
})
/** Every host converged (checked by the applier before it sends this). */
export const RolloutTerminal = Schema.TaggedStruct("RolloutTerminal", { rolloutId: RolloutId, at: Timestamp })
/** A newer rollout opened on the channel; the record stepped is the superseded one. */
export const SuccessorOpened = Schema.TaggedStruct("SuccessorOpened", {
  supersededRolloutId: RolloutId,
  successorRolloutId: RolloutId,
  at: Timestamp
})
/** Retention expired. */
export const RetentionExpired = Schema.TaggedStruct("RetentionExpired", { rolloutId: RolloutId, at: Timestamp })
/** An operator cleared a halted rollout. */
export const OperatorClearance = Schema.TaggedStruct("OperatorClearance", {
  rolloutId: RolloutId,
  operator: Schema.String,
  reason: Schema.String,
  at: Timestamp
})

/** Any input of the rollout `step()`. */
export const RolloutEvent = Schema.Union(
  RolloutOpened,
  HostJoined,
  HostStateChanged,
  WaveAdvanced,
  RolloutTerminal,
  SuccessorOpened,
  RetentionExpired,
  OperatorClearance
).annotations({ identifier: "RolloutEvent" })
/** Any input of the rollout `step()`. */
export type RolloutEvent = typeof RolloutEvent.Type

/** The rollout's state changed (at most one per step). */
export const RecordRolloutTransition = Schema.TaggedStruct("RecordRolloutTransition", {
  rolloutId: RolloutId,
  from: RolloutState,
  to: RolloutState,
  at: Timestamp
})
/** Persist the new wave cursor. */
export const UpdateCurrentWave = Schema.TaggedStruct("UpdateCurrentWave", { rolloutId: RolloutId, wave: WaveIndex })
/** Reserved: quarantine from the rollout level (never emitted). */
export const InsertQuarantineFromRollout = Schema.TaggedStruct("InsertQuarantineFromRollout", {
  channel: ChannelId,
  closureHash: ClosureHash
})
/** Reserved: schedule pruning (never emitted). */
export const SchedulePruning = Schema.TaggedStruct("SchedulePruning", { rolloutId: RolloutId, delaySeconds: Schema.Number })

/** Any effect the rollout `step()` may describe. */
export const RolloutEffect = Schema.Union(RecordRolloutTransition, UpdateCurrentWave, InsertQuarantineFromRollout, SchedulePruning)
/** Any effect the rollout `step()` may describe. */
export type RolloutEffect = typeof RolloutEffect.Type

/** The event is not legal in the rollout's state. */
export class RolloutIllegalForState extends Schema.TaggedError<RolloutIllegalForState>()("RolloutIllegalForState", {
  from: RolloutState,
  event: Schema.String,
  rolloutId: RolloutId
}) {
  /** The reference message template. */
  override get message(): string {
    return `rollout event ${this.event} not legal from state ${this.from} (rollout ${this.rolloutId})`
  }
}

/** A rollout opened while its channel still had an active one (the applier supersedes first). */
export class SupersessionExpected extends Schema.TaggedError<SupersessionExpected>()("SupersessionExpected", {
  rolloutId: RolloutId,
  channel: ChannelId
}) {
  /** The message of this error. */
  override get message(): string {
    return `rollout ${this.rolloutId} opened while channel ${this.channel} has an active rollout`
  }
}

/** A rollout invariant was violated. */
export class RolloutInvariant extends Schema.TaggedError<RolloutInvariant>()("RolloutInvariant", { detail: Schema.String }) {
  /** The message of this error. */
  override get message(): string {
    return `rollout invariant violation: ${this.detail}`
  }
}

/** OperatorClearance in Reverted or Failed: recognised but not implemented (as the reference). */
export class RolloutUnimplemented extends Schema.TaggedError<RolloutUnimplemented>()("RolloutUnimplemented", {
  from: RolloutState,
  event: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `rollout event ${this.event} from state ${this.from} is not implemented`
  }
}

/** Any error of the rollout reducer. */
export const RolloutTransitionError = Schema.Union(RolloutIllegalForState, SupersessionExpected, RolloutInvariant, RolloutUnimplemented)
/** Any error of the rollout reducer. */
export type RolloutTransitionError = typeof RolloutTransitionError.Type
