/**
 * The rollout reducer: `stepRollout(record, event, now)`, one transition of a rollout aggregate on
 * the CP (spec state-machines §7.6).
 *
 * Invariants: pure and total; the event's rollout ids are ignored (the applier picks the record);
 * at most one RecordRolloutTransition per step, with from/to equal to the real change;
 * `currentWave` never decreases and HostJoined never changes it; Pruned is absorbing.
 */
import { Either } from "effect"
import {
  type RolloutEffect,
  type RolloutEvent,
  RolloutIllegalForState,
  type RolloutRecord,
  type RolloutState,
  type RolloutTransitionError,
  RolloutUnimplemented
} from "../domain/rollout.js"
import type { Timestamp } from "../domain/time.js"

/** A successful rollout transition: the next record and its effects (empty for a no-op). */
export interface RolloutTransition {
  readonly record: RolloutRecord
  readonly effects: ReadonlyArray<RolloutEffect>
}

/** The result of one rollout step. */
export type RolloutStepResult = Either.Either<RolloutTransition, RolloutTransitionError>

const noop = (record: RolloutRecord): RolloutStepResult => Either.right({ record, effects: [] })

const illegal = (record: RolloutRecord, event: RolloutEvent): RolloutStepResult =>
  Either.left(new RolloutIllegalForState({ from: record.state, event: event._tag, rolloutId: record.rolloutId }))

/** Moves to `to`, applying `patch`, with the single RecordRolloutTransition effect first. */
const moveTo = (
  record: RolloutRecord,
  to: RolloutState,
  at: Timestamp,
  patch: Partial<RolloutRecord> = {},
  more: ReadonlyArray<RolloutEffect> = []
): RolloutStepResult =>
  Either.right({
    record: { ...record, ...patch, state: to },
    effects: [{ _tag: "RecordRolloutTransition", rolloutId: record.rolloutId, from: record.state, to, at }, ...more]
  })

/** Raises the wave cursor to `wave` if that is higher, with its UpdateCurrentWave effect. */
const raiseWave = (record: RolloutRecord, wave: number): { patch: Partial<RolloutRecord>; effects: ReadonlyArray<RolloutEffect> } =>
  wave > record.currentWave
    ? { patch: { currentWave: wave }, effects: [{ _tag: "UpdateCurrentWave", rolloutId: record.rolloutId, wave }] }
    : { patch: {}, effects: [] }

/** Active / Converging: a host's failure or reversion halts the rollout; anything else is a no-op. */
const onHostStateChanged = (record: RolloutRecord, event: Extract<RolloutEvent, { _tag: "HostStateChanged" }>): RolloutStepResult =>
  event.to === "Reverted" || event.to === "Failed" ? moveTo(record, event.to, event.at) : noop(record)

const fromInFlight = (record: RolloutRecord, event: RolloutEvent): RolloutStepResult => {
  switch (event._tag) {
    case "HostJoined":
      return noop(record)
    case "HostStateChanged":
      return onHostStateChanged(record, event)
    case "WaveAdvanced": {
      const raised = raiseWave(record, event.toWave)
      if (record.state === "Active") {
        // Spec §12.11 (reference behaviour): toWave <= fromWave moves Active to Converging.
        return event.toWave > event.fromWave
          ? Either.right({ record: { ...record, ...raised.patch }, effects: raised.effects })
          : moveTo(record, "Converging", event.at)
      }
      return event.toWave > event.fromWave ? moveTo(record, "Active", event.at, raised.patch, raised.effects) : noop(record)
    }
    case "RolloutTerminal":
      return moveTo(record, "Terminal", event.at, { terminalAt: event.at })
    case "SuccessorOpened":
      return moveTo(record, "Superseded", event.at, { supersededAt: event.at })
    default:
      return illegal(record, event)
  }
}

/** Terminal, Reverted, Failed: late events are ignored; supersession and retention still apply. */
const fromFinished = (record: RolloutRecord, event: RolloutEvent): RolloutStepResult => {
  switch (event._tag) {
    case "HostJoined":
    case "HostStateChanged":
    case "RolloutTerminal":
      return noop(record)
    case "WaveAdvanced":
      return record.state === "Terminal" ? illegal(record, event) : noop(record)
    case "SuccessorOpened":
      return moveTo(record, "Superseded", event.at, { supersededAt: event.at })
    case "RetentionExpired":
      return moveTo(record, "Pruned", event.at)
    case "OperatorClearance":
      // Spec §12.13: the reference recognises clearance here but does not implement it.
      return record.state === "Terminal"
        ? illegal(record, event)
        : Either.left(new RolloutUnimplemented({ from: record.state, event: event._tag }))
    case "RolloutOpened":
      return illegal(record, event)
  }
}

/**
 * Applies one event to a rollout record. Returns the next record with its effects (none for a
 * no-op), or an error (nothing changed). `now` is unused, as in the reference: times come from
 * the event.
 */
export const stepRollout = (record: RolloutRecord, event: RolloutEvent, _now: Timestamp): RolloutStepResult => {
  switch (record.state) {
    case "Opening":
      if (event._tag === "HostJoined") return moveTo(record, "Active", event.at)
      if (event._tag === "SuccessorOpened") return moveTo(record, "Superseded", event.at, { supersededAt: event.at })
      return illegal(record, event)
    case "Active":
    case "Converging":
      return fromInFlight(record, event)
    case "Terminal":
    case "Reverted":
    case "Failed":
      return fromFinished(record, event)
    case "Superseded":
      if (event._tag === "RetentionExpired") return moveTo(record, "Pruned", event.at)
      return event._tag === "RolloutOpened" || event._tag === "OperatorClearance" ? illegal(record, event) : noop(record)
    case "Pruned":
      return illegal(record, event)
  }
}
