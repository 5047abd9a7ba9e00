/**
 * Row codecs: each maps a snake_case SQLite row to a domain value and back, through Schema, so a
 * row that does not decode is a typed error and not a crash.
 *
 * Invariants: one Schema per table serves both directions (keys renamed with `fromKey`), so the
 * read and write sides cannot drift; timestamps are integer epoch milliseconds; JSON columns
 * (`probes_json`, `payload`, `event`) hold the domain's encoded JSON (camelCase, RFC 3339 times).
 * The hot write paths (host-record upsert, event append) use hand-written encoders that a
 * property test pins to the Schema encoding (the Schema encoder is ~100 µs per host record and
 * capped the adapter at a quarter of raw SQLite speed); reads always decode through Schema.
 */
import { Either, Schema } from "effect"
import { OutboundAgentEvent } from "../../src/domain/agentEvent.js"
import { HostState, type HostRolloutState } from "../../src/domain/hostState.js"
import { ChannelId, ChannelRef, ClosureHash, HostId, ProbeName, RolloutId } from "../../src/domain/ids.js"
import { OnHealthFailure } from "../../src/domain/policy.js"
import { ProbeMap } from "../../src/domain/probe.js"
import { type RolloutRecord, RolloutState, WaveIndex } from "../../src/domain/rollout.js"
import { formatRfc3339, Seq, TimestampMillis } from "../../src/domain/time.js"
import { type EventLogEntry, EventLogKind, type StoredEventLogEntry } from "../../src/ports/eventLog.js"
import type { QueuedEvent } from "../../src/ports/outboundQueue.js"
import type { DispatchEntry, ProbeFailure, QuarantineRecord, Revocation, TokenNonce } from "../../src/ports/storage.js"

/** A field read from (and written to) column `key`. */
const col = <S extends Schema.Schema.All>(schema: S, key: string) => Schema.propertySignature(schema).pipe(Schema.fromKey(key))

const Millis = TimestampMillis
const NullMillis = Schema.NullOr(TimestampMillis)
const NullClosure = Schema.NullOr(ClosureHash)
const NullSeq = Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.nonNegative()))

/** `host_rollout_records` ⇄ HostRolloutState. */
export const HostRecordRow = Schema.Struct({
  rolloutId: col(RolloutId, "rollout_id"),
  hostname: HostId,
  channel: ChannelId,
  state: HostState,
  targetClosure: col(ClosureHash, "target_closure"),
  currentClosureAtDispatch: col(NullClosure, "current_closure_at_dispatch"),
  currentClosure: col(NullClosure, "current_closure"),
  revertedTo: col(NullClosure, "reverted_to"),
  dispatchedAt: col(Millis, "dispatched_at"),
  dispatchAckedAt: col(NullMillis, "dispatch_acked_at"),
  activationStartedAt: col(NullMillis, "activation_started_at"),
  activationCompletedAt: col(NullMillis, "activation_completed_at"),
  activationFailedAt: col(NullMillis, "activation_failed_at"),
  probeObservedFirstAt: col(NullMillis, "probe_observed_first_at"),
  probeFailureFirstAt: col(NullMillis, "probe_failure_first_at"),
  soakDueAt: col(NullMillis, "soak_due_at"),
  convergedAt: col(NullMillis, "converged_at"),
  failedAt: col(NullMillis, "failed_at"),
  policyApplied: col(Schema.NullOr(OnHealthFailure), "policy_applied"),
  revertedAt: col(NullMillis, "reverted_at"),
  probes: col(Schema.parseJson(ProbeMap), "probes_json"),
  lastEventSeq: col(Seq, "last_event_seq")
})

/** The stored columns of `host_rollout_records`, in table order. */
export const HOST_RECORD_COLUMNS = [
  "rollout_id",
  "hostname",
  "channel",
  "state",
  "target_closure",
  "current_closure_at_dispatch",
  "current_closure",
  "reverted_to",
  "dispatched_at",
  "dispatch_acked_at",
  "activation_started_at",
  "activation_completed_at",
  "activation_failed_at",
  "probe_observed_first_at",
  "probe_failure_first_at",
  "soak_due_at",
  "converged_at",
  "failed_at",
  "policy_applied",
  "reverted_at",
  "probes_json",
  "last_event_seq"
] as const

/** `rollouts` ⇄ RolloutRecord. */
export const RolloutRow = Schema.Struct({
  rolloutId: col(RolloutId, "rollout_id"),
  channel: ChannelId,
  targetRef: col(ChannelRef, "target_ref"),
  state: RolloutState,
  currentWave: col(WaveIndex, "current_wave"),
  openedEventLogSeq: col(NullSeq, "opened_event_log_seq"),
  lastTransitionEventLogSeq: col(NullSeq, "last_transition_event_log_seq"),
  openedAt: col(Millis, "opened_at"),
  terminalAt: col(NullMillis, "terminal_at"),
  supersededAt: col(NullMillis, "superseded_at")
})

/** `dispatch_queue` ⇄ DispatchEntry. */
export const DispatchRow = Schema.Struct({
  hostname: HostId,
  rolloutId: col(RolloutId, "rollout_id"),
  targetClosure: col(ClosureHash, "target_closure"),
  soakDueAt: col(Millis, "soak_due_at"),
  enqueuedAt: col(Millis, "enqueued_at")
})
/** `quarantined_closures` ⇄ QuarantineRecord. */
export const QuarantineRow = Schema.Struct({
  channel: ChannelId,
  closureHash: col(ClosureHash, "closure_hash"),
  quarantinedAt: col(Millis, "quarantined_at"),
  triggeringEventLogSeq: col(NullSeq, "triggering_event_log_seq")
})
/** `probe_failures` ⇄ ProbeFailure. */
export const ProbeFailureRow = Schema.Struct({
  rolloutId: col(RolloutId, "rollout_id"),
  hostname: col(HostId, "host_id"),
  probeName: col(ProbeName, "probe_name"),
  controlId: col(Schema.NullOr(Schema.String), "control_id"),
  framework: Schema.NullOr(Schema.String),
  observedAt: col(Millis, "observed_at"),
  eventLogSeq: col(NullSeq, "event_log_seq")
})
/** One row of the probe-failure count query. */
export const ProbeFailureCountRow = Schema.Struct({
  rolloutId: col(RolloutId, "rollout_id"),
  hostname: col(HostId, "host_id"),
  count: Schema.Number.pipe(Schema.int(), Schema.positive())
})
/** `token_replay` ⇄ TokenNonce. */
export const TokenNonceRow = Schema.Struct({
  nonce: Schema.NonEmptyString,
  hostname: HostId,
  firstSeenAt: col(Millis, "first_seen")
})
/** `cert_revocations` ⇄ Revocation. */
export const RevocationRow = Schema.Struct({
  hostname: HostId,
  notBefore: col(Millis, "not_before"),
  reason: Schema.NullOr(Schema.String),
  revokedAt: col(Millis, "revoked_at"),
  revokedBy: col(Schema.NullOr(Schema.String), "revoked_by")
})
/** `event_log` without `seq` ⇄ EventLogEntry (what an append writes). */
export const NewEventLogRow = Schema.Struct({
  kind: EventLogKind,
  rolloutId: col(Schema.NullOr(RolloutId), "rollout_id"),
  hostname: col(Schema.NullOr(HostId), "host_id"),
  agentSeq: col(Schema.NullOr(Seq), "agent_seq"),
  at: col(Millis, "ts"),
  payload: Schema.parseJson()
})
/** `event_log` ⇄ StoredEventLogEntry. */
export const EventLogRow = Schema.Struct({
  seq: Schema.Number.pipe(Schema.int(), Schema.positive()),
  ...NewEventLogRow.fields
})
/** `outbound_queue` ⇄ QueuedEvent (the `seq` column is `event.seq`). */
export const OutboundRow = Schema.Struct({
  hostname: HostId,
  rolloutId: col(RolloutId, "rollout_id"),
  createdAt: col(Millis, "created_at"),
  event: Schema.parseJson(OutboundAgentEvent)
})

// Compile-time checks that each row codec decodes to exactly the port's type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const sameTypes: [
  Same<typeof HostRecordRow.Type, HostRolloutState>,
  Same<typeof RolloutRow.Type, RolloutRecord>,
  Same<typeof DispatchRow.Type, DispatchEntry>,
  Same<typeof QuarantineRow.Type, QuarantineRecord>,
  Same<typeof ProbeFailureRow.Type, ProbeFailure>,
  Same<typeof TokenNonceRow.Type, TokenNonce>,
  Same<typeof RevocationRow.Type, Revocation>,
  Same<typeof NewEventLogRow.Type, EventLogEntry>,
  Same<typeof EventLogRow.Type, StoredEventLogEntry>,
  Same<typeof OutboundRow.Type, QueuedEvent>
] = [true, true, true, true, true, true, true, true, true, true]
void sameTypes

/** The value of one SQL parameter. */
type Param = string | number | null

const millisOrNull = (t: number | null): string | null => (t === null ? null : formatRfc3339(t))

/** `probes_json` exactly as `Schema.encode(Schema.parseJson(ProbeMap))` writes it. */
export const probesJson = (probes: HostRolloutState["probes"]): string => {
  const out: Record<string, unknown> = {}
  for (const [name, p] of Object.entries(probes)) {
    out[name] = {
      status: p.status,
      mode: p.mode,
      lastObservedAt: formatRfc3339(p.lastObservedAt),
      lastPassAt: millisOrNull(p.lastPassAt),
      failureReason: p.failureReason
    }
  }
  return JSON.stringify(out)
}

/** The parameters of one host record in {@link HOST_RECORD_COLUMNS} order (= `Schema.encode(HostRecordRow)`). */
export const hostRecordParams = (r: HostRolloutState): Array<Param> => [
  r.rolloutId,
  r.hostname,
  r.channel,
  r.state,
  r.targetClosure,
  r.currentClosureAtDispatch,
  r.currentClosure,
  r.revertedTo,
  r.dispatchedAt,
  r.dispatchAckedAt,
  r.activationStartedAt,
  r.activationCompletedAt,
  r.activationFailedAt,
  r.probeObservedFirstAt,
  r.probeFailureFirstAt,
  r.soakDueAt,
  r.convergedAt,
  r.failedAt,
  r.policyApplied,
  r.revertedAt,
  probesJson(r.probes),
  r.lastEventSeq
]

/** The stored columns of `event_log` appends, in parameter order. */
export const EVENT_LOG_COLUMNS = ["ts", "kind", "rollout_id", "host_id", "agent_seq", "payload"] as const

/**
 * The parameters of one appended entry in {@link EVENT_LOG_COLUMNS} order (= `Schema.encode(NewEventLogRow)`),
 * or the reason its payload is not JSON.
 */
export const eventLogParams = (e: EventLogEntry): Either.Either<Array<Param>, string> => {
  let payload: unknown
  try {
    payload = JSON.stringify(e.payload)
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : String(error))
  }
  return typeof payload === "string"
    ? Either.right([e.at, e.kind, e.rolloutId, e.hostname, e.agentSeq, payload])
    : Either.left(`payload ${String(e.payload)} has no JSON form`)
}
