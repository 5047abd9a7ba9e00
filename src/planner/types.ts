/**
 * The planner's inputs: the verified manifest set, the fleet state read from storage before each
 * tick, the quarantine set and the per-tick budget accumulator.
 *
 * Invariant: these are plain immutable values; the planner never mutates them and never needs
 * anything else (no clock, no I/O), so `planNext` is a function of exactly these values.
 */
import type { FleetResolved } from "../domain/fleet.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "../domain/ids.js"
import type { RolloutBudget, RolloutManifest } from "../domain/manifest.js"
import type { Timestamp } from "../domain/time.js"
import type { ManifestIndex } from "./manifestIndex.js"

/**
 * The verified inputs of a tick: the fleet and, per channel, its current rollout manifest. A
 * channel whose manifest failed verification, or that has no host with a closure, is absent.
 *
 * Only values that passed signature verification may be passed here: the CP unwraps the
 * `Verified<T>` values produced by `src/trust` (the spec's `SignedManifestSet`) into this shape,
 * so the planner stays independent of the trust module.
 */
export interface ManifestSet {
  readonly fleet: FleetResolved
  readonly rollouts: ReadonlyMap<ChannelId, RolloutManifest>
  /** Optional precomputed indexes (see `prepareManifestSet`); ignored unless built for these objects. */
  readonly index?: ManifestIndex
}

/** What the planner knows of one rollout row (it reads `currentWave`; the applier writes it). */
export interface RolloutSummary {
  readonly rolloutId: RolloutId
  readonly channel: ChannelId
  readonly targetRef: ChannelRef
  readonly openedAt: Timestamp
  /** Set only when every host converged (RolloutTerminal); Failed / Reverted rollouts keep null (spec A7). */
  readonly terminalAt: Timestamp | null
  readonly currentWave: number
  /** The manifest's frozen `disruptionBudgets`. */
  readonly budgets: ReadonlyArray<RolloutBudget>
}

/** Host records per rollout, then per hostname: the spec's map keyed by `(rolloutId, hostname)`. */
export type HostStates = ReadonlyMap<RolloutId, ReadonlyMap<HostId, HostRolloutState>>

/** Outstanding failing enforce-mode probes per rollout, then per host; a missing entry means 0. */
export type ProbeFailureCounts = ReadonlyMap<RolloutId, ReadonlyMap<HostId, number>>

/** Everything the planner knows about the fleet's progress at the start of a tick. */
export interface FleetState {
  readonly hostStates: HostStates
  readonly rollouts: ReadonlyMap<RolloutId, RolloutSummary>
  readonly outstandingFailingEnforceProbes: ProbeFailureCounts
}

/** Quarantined closures per channel (append-only): dispatching them is blocked by the first gate. */
export type QuarantineSet = ReadonlyMap<ChannelId, ReadonlySet<ClosureHash>>

/**
 * Hosts queued so far in this tick, per budget identity (`selectorKey` of the budget's selector).
 * Threaded through the gates so one tick cannot over-commit a budget.
 */
export type TickDispatched = ReadonlyMap<string, number>

/** One host record the dispatch phase is about to gate. */
export interface DispatchCandidate {
  readonly rolloutId: RolloutId
  readonly host: HostId
  readonly targetClosure: ClosureHash
  /** The rollout's channel (from its summary). */
  readonly channel: ChannelId
}

/** An empty fleet state: no rollouts, no host records, no probe failures. */
export const emptyFleetState: FleetState = {
  hostStates: new Map(),
  rollouts: new Map(),
  outstandingFailingEnforceProbes: new Map()
}
