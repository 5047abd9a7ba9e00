/**
 * Transition errors of the host reducer. They cross the wire (the CP answers 409 with them), so
 * they are `Schema.TaggedError`s with the reference's message templates.
 *
 * Invariant: a reducer returning one of these changed nothing; the caller keeps its old state.
 */
import { Schema } from "effect"
import { HostState } from "./hostState.js"
import { HostId, RolloutId } from "./ids.js"

/** `event.seq <= state.lastEventSeq`: a retransmit (equal) or an out-of-order event (smaller). */
export class SeqRegression extends Schema.TaggedError<SeqRegression>()("SeqRegression", {
  got: Schema.Number,
  last: Schema.Number,
  rolloutId: RolloutId,
  hostname: HostId
}) {
  /** The reference message template. */
  override get message(): string {
    return `event seq ${this.got} is not > last_event_seq ${this.last} (rollout ${this.rolloutId}, host ${this.hostname})`
  }
}

/** The event is not legal in the record's current state. */
export class IllegalForState extends Schema.TaggedError<IllegalForState>()("IllegalForState", {
  from: HostState,
  event: Schema.String,
  rolloutId: RolloutId,
  hostname: HostId
}) {
  /** The reference message template. */
  override get message(): string {
    return `event ${this.event} not legal from state ${this.from} (rollout ${this.rolloutId}, host ${this.hostname})`
  }
}

/** A Converged event failed re-verification (wrong closure, before soak, enforce probe not passing). */
export class Invariant extends Schema.TaggedError<Invariant>()("Invariant", {
  detail: Schema.String
}) {
  /** The reference message template. */
  override get message(): string {
    return `invariant violation: ${this.detail}`
  }
}

/** Reserved by the reference; the host reducer never returns it. */
export class Unimplemented extends Schema.TaggedError<Unimplemented>()("Unimplemented", {
  from: HostState,
  event: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `event ${this.event} from state ${this.from} is not implemented`
  }
}

/** Any error of the host reducer. */
export const TransitionError = Schema.Union(SeqRegression, IllegalForState, Invariant, Unimplemented)
/** Any error of the host reducer. */
export type TransitionError = typeof TransitionError.Type
