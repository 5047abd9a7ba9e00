/**
 * The per-(rollout, host) record that both the agent and the CP mirror keep, and its state enum.
 *
 * Invariant: a record is created only by {@link newPending}; afterwards only the host `step()`
 * changes it, and `lastEventSeq` only grows.
 */
import { Schema } from "effect"
import { ChannelId, ClosureHash, HostId, RolloutId } from "./ids.js"
import { OnHealthFailure } from "./policy.js"
import { ProbeMap } from "./probe.js"
import { Seq, Timestamp } from "./time.js"

/** The seven host states; the strings are the PascalCase names, in storage and on the wire. */
export const HostState = Schema.Literal(
  "Pending",
  "Activating",
  "Deferred",
  "Soaking",
  "Converged",
  "Failed",
  "Reverted"
).annotations({ identifier: "HostState" })
/** One of the seven host states. */
export type HostState = typeof HostState.Type

/** Every host state, in lifecycle order. */
export const HOST_STATES: ReadonlyArray<HostState> = HostState.literals

/** Converged or Deferred: counts as done for host edges and wave promotion. */
export const isTerminalForOrdering = (s: HostState): boolean => s === "Converged" || s === "Deferred"

/** Pending, Activating or Soaking. */
export const isInFlight = (s: HostState): boolean => s === "Pending" || s === "Activating" || s === "Soaking"

/** Failed or Reverted. */
export const isFailed = (s: HostState): boolean => s === "Failed" || s === "Reverted"

/** Converged or Reverted: the states that accept no further event. */
export const isAbsorbing = (s: HostState): boolean => s === "Converged" || s === "Reverted"

const nullableTs = Schema.NullOr(Timestamp)
const nullableClosure = Schema.NullOr(ClosureHash)

/** One host's progress through one rollout. */
export const HostRolloutState = Schema.Struct({
  rolloutId: RolloutId,
  /** The agent's own records use `"self"`. */
  hostname: HostId,
  channel: ChannelId,
  state: HostState,
  /** The closure being dispatched; never changed by `step()`. */
  targetClosure: ClosureHash,
  /** The closure running when the dispatch was acked: the rollback target. */
  currentClosureAtDispatch: nullableClosure,
  /** The last closure observed running. */
  currentClosure: nullableClosure,
  revertedTo: nullableClosure,
  /** When the CP issued the dispatch (the only CP-clock timestamp). */
  dispatchedAt: Timestamp,
  dispatchAckedAt: nullableTs,
  activationStartedAt: nullableTs,
  activationCompletedAt: nullableTs,
  activationFailedAt: nullableTs,
  probeObservedFirstAt: nullableTs,
  probeFailureFirstAt: nullableTs,
  soakDueAt: nullableTs,
  convergedAt: nullableTs,
  failedAt: nullableTs,
  policyApplied: Schema.NullOr(OnHealthFailure),
  revertedAt: nullableTs,
  probes: ProbeMap,
  lastEventSeq: Seq
}).annotations({ identifier: "HostRolloutState" })
/** One host's progress through one rollout. */
export type HostRolloutState = typeof HostRolloutState.Type

/** The arguments of {@link newPending}. */
export interface NewPending {
  readonly rolloutId: RolloutId
  readonly hostname: HostId
  readonly channel: ChannelId
  readonly targetClosure: ClosureHash
  readonly dispatchedAt: Timestamp
  readonly soakDueAt: Timestamp
}

/** Creates the Pending record of a freshly dispatched host: the only proper constructor. */
export const newPending = (args: NewPending): HostRolloutState => ({
  rolloutId: args.rolloutId,
  hostname: args.hostname,
  channel: args.channel,
  state: "Pending",
  targetClosure: args.targetClosure,
  currentClosureAtDispatch: null,
  currentClosure: null,
  revertedTo: null,
  dispatchedAt: args.dispatchedAt,
  dispatchAckedAt: null,
  activationStartedAt: null,
  activationCompletedAt: null,
  activationFailedAt: null,
  probeObservedFirstAt: null,
  probeFailureFirstAt: null,
  soakDueAt: args.soakDueAt,
  convergedAt: null,
  failedAt: null,
  policyApplied: null,
  revertedAt: null,
  probes: {},
  lastEventSeq: 0
})
