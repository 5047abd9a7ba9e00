/**
 * Request and response bodies of the HTTP API (other than the agent event envelope and the host
 * snapshot, which live in src/domain).
 *
 * Invariant: camelCase JSON everywhere, timestamps as RFC 3339 `Z` strings, optional fields
 * omitted when null. Decision: the reference's heartbeat and dispatch bodies are snake_case
 * (`rollout_id`, `current_closure`, `received_at`, `target_closure`, ...); this API is camelCase
 * throughout (as the reference's own events route already is) so one naming rule covers every
 * route and every schema here round-trips through the domain types unchanged.
 */
import { Schema } from "effect"
import { HostState } from "../domain/hostState.js"
import { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "../domain/ids.js"
import { RolloutState, WaveIndex } from "../domain/rollout.js"
import { nullableOmitted } from "../domain/schema.js"
import { HostRolloutSnapshot } from "../domain/snapshot.js"
import { Timestamp } from "../domain/time.js"
import type { GateName } from "../planner/evaluate.js"
import { GateBlock } from "../planner/gateBlock.js"
import { EventLogKind } from "../ports/eventLog.js"

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** The body of `POST /v1/agent/heartbeat`. */
export const HeartbeatRequest = Schema.Struct({
  hostname: HostId,
  /** The rollout the agent is working on; absent asks for the boot handshake (`bootstrapRollouts`). */
  rolloutId: nullableOmitted(RolloutId),
  /** The closure the host runs now (basename of `/run/current-system`). */
  currentClosure: nullableOmitted(ClosureHash),
  at: Timestamp
}).annotations({ identifier: "HeartbeatRequest" })
/** The body of `POST /v1/agent/heartbeat`. */
export type HeartbeatRequest = typeof HeartbeatRequest.Type

/** The reply to a heartbeat. */
export const HeartbeatResponse = Schema.Struct({
  receivedAt: Timestamp,
  /**
   * Set when the CP's record of the named rollout shows another closure than the agent reports:
   * the agent should resend its events after this seq. (The reference sends it as the
   * `X-Nixfleet-Replay-From` header; here it is a body field.)
   */
  replayFrom: nullableOmitted(Count),
  /** The host's active records when the heartbeat named no rollout, post-synthesis. */
  bootstrapRollouts: Schema.Array(HostRolloutSnapshot)
}).annotations({ identifier: "HeartbeatResponse" })
/** The reply to a heartbeat. */
export type HeartbeatResponse = typeof HeartbeatResponse.Type

/** Query of `GET /v1/agent/dispatch` (no identifier: OpenAPI lists query fields only inline): `wait` seconds (clamped to 60, default 60). */
export const DispatchQuery = Schema.Struct({
  wait: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()), { exact: true })
})

/** A signed rollout manifest as the CP serves it: the exact bytes and the detached signature. */
export const SignedManifest = Schema.Struct({
  rolloutId: RolloutId,
  /** The manifest bytes as received from CI (base64 on the wire). */
  manifest: Schema.Uint8ArrayFromBase64,
  /** The detached signature over those bytes (base64 on the wire). */
  signature: Schema.Uint8ArrayFromBase64
}).annotations({ identifier: "SignedManifest" })
/** A signed rollout manifest. */
export type SignedManifest = typeof SignedManifest.Type

/**
 * The signed fleet.resolved as the CP serves it (`GET /v1/fleet.resolved`): the exact bytes it
 * verified and their detached signature, so an agent verifies them against its own trust.json.
 */
export const SignedFleet = Schema.Struct({
  /** sha256 (hex) of the canonical fleet.resolved, as the CP computed it (informational). */
  fleetHash: Schema.String,
  /** The fleet.resolved bytes as received from CI (base64 on the wire). */
  artifact: Schema.Uint8ArrayFromBase64,
  /** The detached signature over those bytes (base64 on the wire). */
  signature: Schema.Uint8ArrayFromBase64
}).annotations({ identifier: "SignedFleet" })
/** The signed fleet.resolved. */
export type SignedFleet = typeof SignedFleet.Type

/** Host records per state (every state present, 0 when none). */
export const HostCounts = Schema.Record({ key: HostState, value: Count }).annotations({ identifier: "HostCounts" })
/** Host records per state. */
export type HostCounts = typeof HostCounts.Type

/** One rollout in the operator views. */
export const RolloutSummaryView = Schema.Struct({
  rolloutId: RolloutId,
  channel: ChannelId,
  targetRef: ChannelRef,
  state: RolloutState,
  currentWave: WaveIndex,
  openedAt: Timestamp,
  terminalAt: nullableOmitted(Timestamp),
  supersededAt: nullableOmitted(Timestamp),
  hostCounts: HostCounts
}).annotations({ identifier: "RolloutSummaryView" })
/** One rollout in the operator views. */
export type RolloutSummaryView = typeof RolloutSummaryView.Type

/** `GET /v1/fleet/status`. */
export const FleetStatus = Schema.Struct({
  /** Whether the CP has verified manifests (see `/readyz`). */
  ready: Schema.Boolean,
  /** The fleet hash of the verified manifest set, when ready. */
  fleetHash: nullableOmitted(Schema.String),
  /** Every stored rollout, newest first. */
  rollouts: Schema.Array(RolloutSummaryView)
}).annotations({ identifier: "FleetStatus" })
/** `GET /v1/fleet/status`. */
export type FleetStatus = typeof FleetStatus.Type

/** `GET /v1/rollouts/:rolloutId`: the summary plus every host record, by hostname. */
export const RolloutStatus = Schema.Struct({
  ...RolloutSummaryView.fields,
  hosts: Schema.Array(HostRolloutSnapshot)
}).annotations({ identifier: "RolloutStatus" })
/** `GET /v1/rollouts/:rolloutId`. */
export type RolloutStatus = typeof RolloutStatus.Type

/** Query of `GET /v1/rollouts/:rolloutId/trace`. */
export const TraceQuery = Schema.Struct({
  /** At most this many entries (1..1000, default 1000). */
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000)), { exact: true }),
  /** Only entries with `seq > afterSeq`. */
  afterSeq: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()), { exact: true })
})

/** One event-log entry as served. */
export const TraceEntry = Schema.Struct({
  seq: Count,
  kind: EventLogKind,
  at: Timestamp,
  hostname: nullableOmitted(HostId),
  agentSeq: nullableOmitted(Count),
  payload: Schema.Unknown
}).annotations({ identifier: "TraceEntry" })
/** One event-log entry as served. */
export type TraceEntry = typeof TraceEntry.Type

/** `GET /v1/rollouts/:rolloutId/trace`: entries in seq order. */
export const RolloutTrace = Schema.Struct({
  rolloutId: RolloutId,
  entries: Schema.Array(TraceEntry),
  /** Pass as `afterSeq` for the next page; absent when this page was not full. */
  nextAfterSeq: nullableOmitted(Count)
}).annotations({ identifier: "RolloutTrace" })
/** `GET /v1/rollouts/:rolloutId/trace`. */
export type RolloutTrace = typeof RolloutTrace.Type

/** The six gates' names, in evaluation order (typed as the planner's GateName, so the lists cannot drift). */
export const GateNameSchema: Schema.Schema<GateName> = Schema.Literal(
  "quarantine",
  "channel_edges",
  "wave_promotion",
  "host_edges",
  "disruption_budget",
  "compliance_wave"
).annotations({ identifier: "GateName" })

/** One gate's verdict, with the reference's reason text when it blocks. */
export const GateVerdictView = Schema.Struct({
  gate: GateNameSchema,
  block: nullableOmitted(GateBlock),
  reason: nullableOmitted(Schema.String)
}).annotations({ identifier: "GateVerdictView" })

/** Query of `GET /v1/hosts/:hostname/explain`. */
export const ExplainQuery = Schema.Struct({
  rolloutId: Schema.optionalWith(RolloutId, { exact: true })
})

/** `GET /v1/hosts/:hostname/explain`: why the host is (not) being dispatched. */
export const HostExplanationView = Schema.Struct({
  host: HostId,
  rolloutId: RolloutId,
  state: HostState,
  /** Whether the planner gates this host at all (its record is Pending and unacked in a live rollout). */
  considered: Schema.Boolean,
  verdicts: Schema.Array(GateVerdictView),
  firstBlock: nullableOmitted(GateBlock),
  firstReason: nullableOmitted(Schema.String)
}).annotations({ identifier: "HostExplanationView" })
/** `GET /v1/hosts/:hostname/explain`. */
export type HostExplanationView = typeof HostExplanationView.Type

/** `GET /healthz`: the process is up. */
export const Health = Schema.Struct({ ok: Schema.Boolean, version: Schema.String }).annotations({ identifier: "Health" })

/** `GET /readyz`: the CP has verified manifests. */
export const Readiness = Schema.Struct({ ready: Schema.Boolean, fleetHash: Schema.String }).annotations({ identifier: "Readiness" })
