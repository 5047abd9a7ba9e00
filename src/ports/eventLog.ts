/**
 * The EventLog port: the CP's append-only audit log (agent events, plan actions, gate decisions,
 * rollout events, applied effects), read back in `seq` order.
 *
 * Invariants: `seq` is global, strictly increasing and never reused; an agent event is stored at
 * most once per (hostname, rolloutId, agentSeq), so re-sent agent events are idempotent;
 * `appendBatch` is one transaction; payloads are JSON values, stored as JSON text.
 */
import { Context, Schema } from "effect"
import type { Effect, Option } from "effect"
import { HostId, RolloutId } from "../domain/ids.js"
import { Seq, Timestamp } from "../domain/time.js"
import type { StorageError } from "./errors.js"

/**
 * The kinds of log entries: the four (agent_event, plan_action, gate_decision,
 * rollout_event) plus the reference table's `effect`, `verify_outcome` and `manifest_poll`
 * (the applier logs `effect` entries for RecordTransition and quarantines, spec §2.4).
 */
export const EventLogKind = Schema.Literal(
  "agent_event",
  "plan_action",
  "gate_decision",
  "rollout_event",
  "effect",
  "verify_outcome",
  "manifest_poll"
).annotations({ identifier: "EventLogKind" })
/** The kind of a log entry. */
export type EventLogKind = typeof EventLogKind.Type

/** A JSON value: what a payload may hold. */
export type JsonValue = null | boolean | number | string | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }

/** A log entry to append. */
export const EventLogEntry = Schema.Struct({
  kind: EventLogKind,
  rolloutId: Schema.NullOr(RolloutId),
  hostname: Schema.NullOr(HostId),
  /**
   * For `agent_event` entries: the agent's per-(host, rollout) seq. With hostname and rolloutId
   * it makes the entry idempotent (a second append of the same key is skipped). Null otherwise.
   */
  agentSeq: Schema.NullOr(Seq),
  at: Timestamp,
  /** A JSON value; anything that does not survive JSON encoding is refused (`Encode`). */
  payload: Schema.Unknown
}).annotations({ identifier: "EventLogEntry" })
/** A log entry to append. */
export type EventLogEntry = typeof EventLogEntry.Type

/** A stored log entry: the appended entry with its global `seq`. */
export const StoredEventLogEntry = Schema.Struct({
  seq: Schema.Number,
  ...EventLogEntry.fields
}).annotations({ identifier: "StoredEventLogEntry" })
/** A stored log entry. */
export type StoredEventLogEntry = typeof StoredEventLogEntry.Type

/** Paging for reads: entries with `seq > afterSeq`, at most `limit` of them. */
export interface EventLogQuery {
  readonly afterSeq?: number
  readonly limit?: number
}

/** The key of an agent event, for the CP's "have I seen it?" check. */
export interface AgentEventKey {
  readonly hostname: HostId
  readonly rolloutId: RolloutId
  readonly seq: number
}

/** The EventLog service. Every method fails only with {@link StorageError}. */
export interface EventLogService {
  /** Appends one entry; `None` when it is an agent event already stored (nothing written). */
  readonly append: (entry: EventLogEntry) => Effect.Effect<Option.Option<number>, StorageError>
  /**
   * Appends entries in order, in one transaction (all or none). Returns, per entry, its seq or
   * `None` for a duplicate agent event (also within the batch: the first one wins).
   */
  readonly appendBatch: (entries: ReadonlyArray<EventLogEntry>) => Effect.Effect<ReadonlyArray<Option.Option<number>>, StorageError>
  /** Entries of a rollout in seq order. */
  readonly byRollout: (rolloutId: RolloutId, query?: EventLogQuery) => Effect.Effect<ReadonlyArray<StoredEventLogEntry>, StorageError>
  /** Entries of a host in seq order. */
  readonly byHost: (hostname: HostId, query?: EventLogQuery) => Effect.Effect<ReadonlyArray<StoredEventLogEntry>, StorageError>
  /** Entries of a kind in seq order. */
  readonly byKind: (kind: EventLogKind, query?: EventLogQuery) => Effect.Effect<ReadonlyArray<StoredEventLogEntry>, StorageError>
  /** Whether this agent event is already logged. */
  readonly hasAgentEvent: (key: AgentEventKey) => Effect.Effect<boolean, StorageError>
  /** The highest seq ever assigned, 0 for an empty log. */
  readonly lastSeq: Effect.Effect<number, StorageError>
}

/** The CP's audit log. It shares the Storage backend, so `Storage.transaction` covers it. */
export class EventLog extends Context.Tag("effect-fleet/EventLog")<EventLog, EventLogService>() {}

/** The payload codec: a JSON value to and from JSON text (non-JSON values fail to encode). */
export const EventLogPayloadJson = Schema.parseJson()

/** The dedup key of an agent event as one string. */
export const agentKeyString = (key: AgentEventKey): string => `${key.hostname}\u0000${key.rolloutId}\u0000${key.seq}`

/**
 * The dedup key of an entry: set only for `agent_event` entries that carry a hostname, a
 * rollout id and an agent seq (the same rule as the SQL adapter's partial unique index).
 */
export const agentEventKey = (entry: EventLogEntry): string | null =>
  entry.kind === "agent_event" && entry.hostname !== null && entry.rolloutId !== null && entry.agentSeq !== null
    ? agentKeyString({ hostname: entry.hostname, rolloutId: entry.rolloutId, seq: entry.agentSeq })
    : null
