/**
 * The host reducer: `step(state, event, now, policy)`, one transition of one host through one
 * rollout, shared by the agent and the CP mirror (spec state-machines §5).
 *
 * Invariants: pure and total (never throws, never reads a clock, `now` is unused as in the
 * reference); on error nothing changes and the caller keeps its state; the seq check runs before
 * the legality check; every success sets `lastEventSeq = event.seq`; a `RecordTransition` is
 * emitted exactly when `state` changes; Local and Remote twins give the same next state and
 * differ only in effects (emit-to-CP versus append-to-log).
 */
import { Either } from "effect"
import type { HostEffect } from "../domain/effects.js"
import { IllegalForState, Invariant, SeqRegression, type TransitionError } from "../domain/errors.js"
import { type HostEvent, isLocalEvent, toOutbound } from "../domain/events.js"
import type { HostRolloutState, HostState } from "../domain/hostState.js"
import type { OnHealthFailure, RolloutPolicy } from "../domain/policy.js"
import type { Timestamp } from "../domain/time.js"
import { updateProbe, verifyConverged } from "./probes.js"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A fresh copy of a record, written field by field: V8 keeps one object shape for every record
 * this way, where `{ ...state, x }` degrades to a slow path after a few generations (measured
 * ~50x slower in bench/). The copy is new, so setting its fields keeps `step()` pure.
 */
const clone = (s: HostRolloutState): Mutable<HostRolloutState> => ({
  rolloutId: s.rolloutId,
  hostname: s.hostname,
  channel: s.channel,
  state: s.state,
  targetClosure: s.targetClosure,
  currentClosureAtDispatch: s.currentClosureAtDispatch,
  currentClosure: s.currentClosure,
  revertedTo: s.revertedTo,
  dispatchedAt: s.dispatchedAt,
  dispatchAckedAt: s.dispatchAckedAt,
  activationStartedAt: s.activationStartedAt,
  activationCompletedAt: s.activationCompletedAt,
  activationFailedAt: s.activationFailedAt,
  probeObservedFirstAt: s.probeObservedFirstAt,
  probeFailureFirstAt: s.probeFailureFirstAt,
  soakDueAt: s.soakDueAt,
  convergedAt: s.convergedAt,
  failedAt: s.failedAt,
  policyApplied: s.policyApplied,
  revertedAt: s.revertedAt,
  probes: s.probes,
  lastEventSeq: s.lastEventSeq
})

/** The next record: a fresh clone with `state` and `lastEventSeq` set, for the caller to fill in. */
const advance = (s: HostRolloutState, to: HostState, seq: number): Mutable<HostRolloutState> => {
  const next = clone(s)
  next.state = to
  next.lastEventSeq = seq
  return next
}

/** A successful transition: the next state and the ordered effects to carry out. */
export interface Transition {
  readonly state: HostRolloutState
  readonly effects: ReadonlyArray<HostEffect>
}

/** The only policy field the host reducer reads. */
export type StepPolicy = Pick<RolloutPolicy, "onHealthFailure">

/** The result of one host step. */
export type StepResult = Either.Either<Transition, TransitionError>

/** Local events go to the CP (`LocalEmitEvent`); Remote ones to the audit log. */
const report = (state: HostRolloutState, event: HostEvent, durable: boolean): HostEffect =>
  isLocalEvent(event)
    ? { _tag: "LocalEmitEvent", rolloutId: state.rolloutId, payload: toOutbound(event), durable }
    : { _tag: "RemoteAppendEventLog", host: state.hostname, rolloutId: state.rolloutId, payload: toOutbound(event) }

const transition = (state: HostRolloutState, to: HostState, at: Timestamp): HostEffect => ({
  _tag: "RecordTransition",
  host: state.hostname,
  rolloutId: state.rolloutId,
  from: state.state,
  to,
  at
})

const ok = (state: HostRolloutState, effects: ReadonlyArray<HostEffect>): StepResult => Either.right({ state, effects })

const illegal = (state: HostRolloutState, event: HostEvent): StepResult =>
  Either.left(new IllegalForState({ from: state.state, event: event._tag, rolloutId: state.rolloutId, hostname: state.hostname }))

/** A rollback is fired only under rollback-and-halt and only when the prior closure is known. */
const rollbackTo = (state: HostRolloutState, policy: OnHealthFailure): ReadonlyArray<HostEffect> =>
  policy === "rollback-and-halt" && state.currentClosureAtDispatch !== null
    ? [{ _tag: "LocalFireRollbackTo", rolloutId: state.rolloutId, closure: state.currentClosureAtDispatch }]
    : []

const fromPending = (state: HostRolloutState, event: HostEvent): StepResult => {
  if (event._tag !== "LocalActivate" && event._tag !== "RemoteDispatchAck") return illegal(state, event)
  const next = advance(state, "Activating", event.seq)
  next.currentClosureAtDispatch = event.currentClosureAtDispatch
  next.dispatchAckedAt = event.receivedAt
  const rt = transition(state, "Activating", event.receivedAt)
  return event._tag === "LocalActivate"
    ? ok(next, [rt, report(state, event, true), { _tag: "LocalFireSwitch", rolloutId: state.rolloutId, target: state.targetClosure }])
    : ok(next, [report(state, event, true), rt])
}

/** ActivationCompleted, legal from Activating and Deferred: clears probes, enters Soaking. */
const completeActivation = (
  state: HostRolloutState,
  event: Extract<HostEvent, { readonly _tag: "LocalActivationCompleted" | "RemoteActivationCompleted" }>
): StepResult => {
  const next = advance(state, "Soaking", event.seq)
  next.activationCompletedAt = event.completedAt
  next.currentClosure = event.observedCurrentClosure
  next.probes = {}
  const rt = transition(state, "Soaking", event.completedAt)
  return event._tag === "LocalActivationCompleted"
    ? ok(next, [{ _tag: "LocalResetProbeCache", rolloutId: state.rolloutId }, report(state, event, true), rt])
    : ok(next, [report(state, event, true), rt])
}

/** Activation failure: stamps both failure times; `policyApplied` only when given (not from Deferred). */
const failActivation = (
  state: HostRolloutState,
  event: Extract<HostEvent, { readonly _tag: "LocalActivationFailed" | "RemoteActivationFailed" }>,
  policyApplied: OnHealthFailure | null
): Mutable<HostRolloutState> => {
  const next = advance(state, "Failed", event.seq)
  next.activationFailedAt = event.failedAt
  next.failedAt = event.failedAt
  if (policyApplied !== null) next.policyApplied = policyApplied
  return next
}

const fromActivating = (state: HostRolloutState, event: HostEvent, policy: StepPolicy): StepResult => {
  switch (event._tag) {
    case "LocalActivationStarted":
    case "RemoteActivationStarted": {
      const next = advance(state, "Activating", event.seq)
      next.activationStartedAt = event.startedAt
      return ok(next, [report(state, event, true)])
    }
    case "LocalActivationCompleted":
    case "RemoteActivationCompleted":
      return completeActivation(state, event)
    case "LocalActivationDeferred":
    case "RemoteActivationDeferred":
      // Spec §12.3: the deferral time is not stored on the record, only in the event and the RT.
      return ok(advance(state, "Deferred", event.seq), [report(state, event, true), transition(state, "Deferred", event.deferredAt)])
    case "LocalActivationFailed":
    case "RemoteActivationFailed": {
      const next = failActivation(state, event, policy.onHealthFailure)
      const effects = [report(state, event, true), transition(state, "Failed", event.failedAt)]
      return ok(next, event._tag === "LocalActivationFailed" ? [...effects, ...rollbackTo(state, policy.onHealthFailure)] : effects)
    }
    default:
      return illegal(state, event)
  }
}

const fromDeferred = (state: HostRolloutState, event: HostEvent): StepResult => {
  switch (event._tag) {
    case "LocalActivationCompleted":
    case "RemoteActivationCompleted":
      return completeActivation(state, event)
    case "LocalActivationFailed":
    case "RemoteActivationFailed":
      // Spec §12.2 (reference behaviour, a v0.3 question there): failure from Deferred sets no
      // policyApplied and fires no rollback, even under rollback-and-halt.
      return ok(failActivation(state, event, null), [report(state, event, true), transition(state, "Failed", event.failedAt)])
    default:
      return illegal(state, event)
  }
}

const fromSoaking = (state: HostRolloutState, event: HostEvent): StepResult => {
  switch (event._tag) {
    case "LocalProbeTopologyDeclared":
    case "RemoteProbeTopologyDeclared":
      return ok(advance(state, "Soaking", event.seq), [report(state, event, true)])
    case "LocalProbeObservedFirst":
    case "RemoteProbeObservedFirst": {
      const next = advance(state, "Soaking", event.seq)
      next.probeObservedFirstAt = state.probeObservedFirstAt ?? event.observedAt
      return ok(next, [report(state, event, false)])
    }
    case "LocalProbeResult":
    case "RemoteProbeResult": {
      const next = advance(state, "Soaking", event.seq)
      next.probes = updateProbe(state.probes, event.probeName, event.mode, event.status, event.observedAt, event.failureReason)
      return ok(next, [report(state, event, false)])
    }
    case "LocalProbeFailureFirst":
    case "RemoteProbeFailureFirst": {
      const next = advance(state, "Soaking", event.seq)
      next.probeFailureFirstAt = state.probeFailureFirstAt ?? event.firstFailedAt
      return ok(next, [report(state, event, false)])
    }
    case "LocalSustainedFailureCrossed":
    case "RemoteFailed": {
      // policyApplied comes from the event here, not from `policy` (spec §12.5).
      const next = advance(state, "Failed", event.seq)
      next.failedAt = event.failedAt
      next.policyApplied = event.policyApplied
      const effects = [report(state, event, true), transition(state, "Failed", event.failedAt)]
      return ok(next, event._tag === "LocalSustainedFailureCrossed" ? [...effects, ...rollbackTo(state, event.policyApplied)] : effects)
    }
    case "LocalConvergedReached":
    case "RemoteConverged": {
      const violation = verifyConverged(state, event.currentClosure, event.convergedAt)
      if (violation !== undefined) return Either.left(new Invariant({ detail: violation }))
      const next = advance(state, "Converged", event.seq)
      next.convergedAt = event.convergedAt
      next.currentClosure = event.currentClosure
      return ok(next, [report(state, event, true), transition(state, "Converged", event.convergedAt)])
    }
    default:
      return illegal(state, event)
  }
}

const fromFailed = (state: HostRolloutState, event: HostEvent): StepResult => {
  if (event._tag !== "LocalRollbackCompleted" && event._tag !== "RemoteRollbackComplete") return illegal(state, event)
  const next = advance(state, "Reverted", event.seq)
  next.revertedAt = event.completedAt
  next.revertedTo = event.revertedToClosure
  next.currentClosure = event.revertedToClosure
  const rt = transition(state, "Reverted", event.completedAt)
  return event._tag === "LocalRollbackCompleted"
    ? ok(next, [report(state, event, true), rt])
    : ok(next, [report(state, event, true), { _tag: "RemoteInsertQuarantine", channel: state.channel, closure: state.targetClosure }, rt])
}

/**
 * Applies one event to one host rollout record. Returns the next record with its ordered effects,
 * or a {@link TransitionError} (in which case nothing changed). `now` is accepted for parity with
 * the reference signature and deliberately unused: every timestamp comes from the event. `policy`
 * matters only for an ActivationFailed arriving in Activating.
 */
export const step = (state: HostRolloutState, event: HostEvent, _now: Timestamp, policy: StepPolicy): StepResult => {
  if (event.seq <= state.lastEventSeq) {
    return Either.left(new SeqRegression({ got: event.seq, last: state.lastEventSeq, rolloutId: state.rolloutId, hostname: state.hostname }))
  }
  switch (state.state) {
    case "Pending":
      return fromPending(state, event)
    case "Activating":
      return fromActivating(state, event, policy)
    case "Deferred":
      return fromDeferred(state, event)
    case "Soaking":
      return fromSoaking(state, event)
    case "Failed":
      return fromFailed(state, event)
    case "Converged":
    case "Reverted":
      return illegal(state, event)
  }
}
