/**
 * The OutboundQueue port (agent side): the durable queue of events waiting to be accepted by the
 * CP, so a crash between a local state change and the POST loses nothing.
 *
 * Invariants: an entry is keyed by (rolloutId, event.seq) (the reference keyed by seq only and
 * lost events across rollouts, spec §9.7); `enqueue` returns only once the entry is durable;
 * `peek` returns entries in enqueue order; an entry leaves only through `ack`, which the drainer
 * calls after the CP answered 2xx.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import { OutboundAgentEvent } from "../domain/agentEvent.js"
import { HostId, RolloutId } from "../domain/ids.js"
import { Timestamp } from "../domain/time.js"
import type { StorageError } from "./errors.js"

/** An event waiting to be sent; its key is (rolloutId, event.seq). */
export const QueuedEvent = Schema.Struct({
  hostname: HostId,
  rolloutId: RolloutId,
  createdAt: Timestamp,
  event: OutboundAgentEvent
}).annotations({ identifier: "QueuedEvent" })
/** An event waiting to be sent. */
export type QueuedEvent = typeof QueuedEvent.Type

/** The OutboundQueue service. Every method fails only with {@link StorageError}. */
export interface OutboundQueueService {
  /**
   * Stores the event durably before returning. `false` (and no change) when an entry with the
   * same (rolloutId, seq) is already queued: the first one stays, as the CP's dedup would keep it.
   */
  readonly enqueue: (entry: QueuedEvent) => Effect.Effect<boolean, StorageError>
  /** Up to `limit` entries, oldest first, without removing them. */
  readonly peek: (limit: number) => Effect.Effect<ReadonlyArray<QueuedEvent>, StorageError>
  /** Removes the (rolloutId, seq) entry; a missing entry is fine (already acked). */
  readonly ack: (rolloutId: RolloutId, seq: number) => Effect.Effect<void, StorageError>
  /** How many entries are queued. */
  readonly size: Effect.Effect<number, StorageError>
  /**
   * Deletes entries that no longer decode (a corrupt file), logging each, so that one bad entry
   * cannot block the queue head forever; returns how many. `peek` fails with `Decode` until then.
   */
  readonly discardCorrupt: Effect.Effect<number, StorageError>
}

/** The agent's durable outbound queue. Adapters: memory (tests) and its own SQLite file. */
export class OutboundQueue extends Context.Tag("effect-fleet/OutboundQueue")<OutboundQueue, OutboundQueueService>() {}
