/**
 * The reducer's inputs and the replies it sends back.
 *
 * Invariant: producers (HTTP handlers, workers) only ever offer these values to the reducer's
 * queue; anything that needs an answer carries a Deferred the reducer completes after its
 * transaction committed (or failed).
 */
import { Data, type Deferred } from "effect"
import type { RemoteEvent } from "../domain/events.js"
import type { HostState } from "../domain/hostState.js"
import type { ClosureHash, HostId, RolloutId } from "../domain/ids.js"
import type { HostRolloutSnapshot } from "../domain/snapshot.js"
import type { Timestamp } from "../domain/time.js"
import type { TransitionError } from "../domain/errors.js"
import type { VerifiedManifests } from "./manifests.js"

/** How the reducer disposed of a host event. */
export type HostEventOutcome = Data.TaggedEnum<{
  /** Stepped, persisted and logged. */
  Applied: { readonly state: HostState }
  /** Already applied earlier (seq not above the record's): nothing changed. */
  Duplicate: { readonly lastEventSeq: number }
  /** No record for (rollout, host): the CP never dispatched it (or its database was wiped). */
  UnknownRecord: {}
  /** The CP cannot decide yet (no verified manifests, no policy for the channel). */
  NotReady: { readonly reason: string }
  /** `step()` refused the event. */
  Rejected: { readonly error: TransitionError }
  /** The transaction failed; nothing was persisted. */
  Failed: { readonly reason: string }
}>
/** Constructors of {@link HostEventOutcome}. */
export const HostEventOutcome = Data.taggedEnum<HostEventOutcome>()

/** The reply to a heartbeat. */
export interface HeartbeatReply {
  readonly receivedAt: Timestamp
  /** Set when the CP's view of the rollout's closure differs from the agent's: resend after this seq. */
  readonly replayFrom: number | null
  /** The host's active records (only when the heartbeat named no rollout): the boot handshake. */
  readonly bootstrapRollouts: ReadonlyArray<HostRolloutSnapshot>
}

/** What the reducer consumes. */
export type ReducerInput = Data.TaggedEnum<{
  HostEvent: {
    readonly host: HostId
    readonly rolloutId: RolloutId
    readonly event: RemoteEvent
    readonly reply: Deferred.Deferred<HostEventOutcome> | null
  }
  HeartbeatReceived: {
    readonly host: HostId
    readonly rolloutId: RolloutId | null
    readonly currentClosure: ClosureHash | null
    readonly at: Timestamp
    readonly reply: Deferred.Deferred<HeartbeatReply, string>
  }
  ManifestSetUpdated: { readonly manifests: VerifiedManifests }
  PlanTick: {}
  /** Completes `reply` once every input offered before it has been processed (tests, shutdown). */
  Barrier: { readonly reply: Deferred.Deferred<void> }
}>
/** Constructors of {@link ReducerInput}. */
export const ReducerInput = Data.taggedEnum<ReducerInput>()
