/**
 * What the agent's workers hand to its reducer, and what the reducer hands to the activation
 * worker.
 *
 * Invariant: workers only ever offer these values to the reducer's one queue (the reducer is the
 * only caller of `step()`); a worker never assigns a seq (it sends 0, the reducer rewrites it).
 */
import { Data, type Deferred } from "effect"
import type { LocalEvent } from "../domain/events.js"
import type { ChannelId, ClosureHash, RolloutId } from "../domain/ids.js"
import type { OnHealthFailure } from "../domain/policy.js"
import type { HostRolloutSnapshot } from "../domain/snapshot.js"
import type { Timestamp } from "../domain/time.js"

/** The agent reducer's inputs. */
export type AgentInput = Data.TaggedEnum<{
  /**
   * An event from a worker. `dispatchedAt` is used only when a `LocalActivate` creates the record
   * (the dispatch's `enqueuedAt`, the CP's clock); null means "now".
   */
  HostEvent: { readonly rolloutId: RolloutId; readonly event: LocalEvent; readonly dispatchedAt: Timestamp | null }
  /** Check every Soaking record for sustained failure or soak completion. */
  AdvanceTick: {}
  /**
   * A record as the CP sees it (heartbeat reply); `boot` marks the boot handshake's snapshots.
   * `acceptedBefore`: how many events the CP had accepted (2xx) from this agent when the heartbeat
   * was sent; when more were accepted since, the snapshot may predate them (absent: none were).
   */
  BootstrapHost: { readonly snapshot: HostRolloutSnapshot; readonly boot: boolean; readonly acceptedBefore?: number }
  /** The verified policy of a channel (from fleet.resolved). */
  PolicyUpdated: { readonly channel: ChannelId; readonly onHealthFailure: OnHealthFailure }
  /** The highest seq already used for a rollout (found in the outbound queue at boot). */
  SeqFloor: { readonly rolloutId: RolloutId; readonly seq: number }
  /** The CP refused the agent's Converged event at `seq` for good (the drainer dropped it). */
  ConvergedRefused: { readonly rolloutId: RolloutId; readonly seq: number }
  /** Completes `reply` once every input offered before it has been processed. */
  Barrier: { readonly reply: Deferred.Deferred<void> }
}>
/** Constructors of {@link AgentInput}. */
export const AgentInput = Data.taggedEnum<AgentInput>()

/** A switch (or a rollback) for the activation worker to run. */
export interface ActivationIntent {
  readonly rolloutId: RolloutId
  /** The closure to switch to; for a rollback, the closure recorded at dispatch (informational). */
  readonly target: ClosureHash
  readonly rollback: boolean
}
