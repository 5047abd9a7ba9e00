/**
 * The twelve agent event payloads: what an agent reports, as `OutboundAgentEvent` in memory and
 * as camelCase JSON tagged by `kind` on the wire (`POST /v1/agent/events`).
 *
 * Invariant: one field set per kind, shared by the wire schema and by both the Local and the
 * Remote host events built from it (src/domain/events.ts), so the three can never drift apart.
 */
import { Schema } from "effect"
import { ClosureHash, HostId, ProbeName, RolloutId } from "./ids.js"
import { OnHealthFailure } from "./policy.js"
import { ProbeMode, ProbeStatus, ProbeSubResult, ProbeTopologyEntry } from "./probe.js"
import { nullableOmitted } from "./schema.js"
import { Seq, Timestamp } from "./time.js"

/** A process exit code (i32). */
export const ExitCode = Schema.Number.pipe(Schema.int(), Schema.between(-2147483648, 2147483647))

/** The fields of each wire kind, shared by the wire events and the Local/Remote host events. */
export const AgentEventFields = {
  DispatchAck: { currentClosureAtDispatch: ClosureHash, receivedAt: Timestamp, seq: Seq },
  ActivationStarted: { startedAt: Timestamp, switchMethod: Schema.String, seq: Seq },
  ActivationCompleted: { observedCurrentClosure: ClosureHash, exitCode: ExitCode, completedAt: Timestamp, seq: Seq },
  ActivationDeferred: { component: Schema.String, deferredAt: Timestamp, seq: Seq },
  ActivationFailed: { exitCode: ExitCode, stderrTail: Schema.String, failedAt: Timestamp, seq: Seq },
  ProbeTopologyDeclared: { probes: Schema.Array(ProbeTopologyEntry), declaredAt: Timestamp, seq: Seq },
  ProbeObservedFirst: { probeName: ProbeName, mode: ProbeMode, observedAt: Timestamp, seq: Seq },
  ProbeResult: {
    probeName: ProbeName,
    mode: ProbeMode,
    status: ProbeStatus,
    observedAt: Timestamp,
    failureReason: nullableOmitted(Schema.String),
    subResults: nullableOmitted(Schema.Array(ProbeSubResult)),
    seq: Seq
  },
  ProbeFailureFirst: { probeName: ProbeName, mode: ProbeMode, firstFailedAt: Timestamp, seq: Seq },
  Failed: {
    failedAt: Timestamp,
    sustainedDurationSecs: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
    failingProbes: Schema.Array(Schema.String),
    policyApplied: OnHealthFailure,
    seq: Seq
  },
  RollbackComplete: { revertedToClosure: ClosureHash, exitCode: ExitCode, completedAt: Timestamp, seq: Seq },
  Converged: { convergedAt: Timestamp, currentClosure: ClosureHash, seq: Seq }
} as const

/** The twelve wire kinds. */
export type AgentEventKind = keyof typeof AgentEventFields

/** Every wire kind, in the order of the spec's event table. */
export const AGENT_EVENT_KINDS = Object.keys(AgentEventFields) as ReadonlyArray<AgentEventKind>

/** The wire tag: `_tag` in memory, `kind` in JSON. */
const kindTag = <K extends AgentEventKind>(kind: K) => Schema.tag(kind).pipe(Schema.fromKey("kind"))

/** Outbound `DispatchAck`. */
export const DispatchAck = Schema.Struct({ _tag: kindTag("DispatchAck"), ...AgentEventFields.DispatchAck }).annotations({
  identifier: "AgentEvent.DispatchAck"
})
/** Outbound `ActivationStarted`. */
export const ActivationStarted = Schema.Struct({ _tag: kindTag("ActivationStarted"), ...AgentEventFields.ActivationStarted }).annotations({
  identifier: "AgentEvent.ActivationStarted"
})
/** Outbound `ActivationCompleted`. */
export const ActivationCompleted = Schema.Struct({ _tag: kindTag("ActivationCompleted"), ...AgentEventFields.ActivationCompleted }).annotations({
  identifier: "AgentEvent.ActivationCompleted"
})
/** Outbound `ActivationDeferred`. */
export const ActivationDeferred = Schema.Struct({ _tag: kindTag("ActivationDeferred"), ...AgentEventFields.ActivationDeferred }).annotations({
  identifier: "AgentEvent.ActivationDeferred"
})
/** Outbound `ActivationFailed`. */
export const ActivationFailed = Schema.Struct({ _tag: kindTag("ActivationFailed"), ...AgentEventFields.ActivationFailed }).annotations({
  identifier: "AgentEvent.ActivationFailed"
})
/** Outbound `ProbeTopologyDeclared`. */
export const ProbeTopologyDeclared = Schema.Struct({ _tag: kindTag("ProbeTopologyDeclared"), ...AgentEventFields.ProbeTopologyDeclared }).annotations({
  identifier: "AgentEvent.ProbeTopologyDeclared"
})
/** Outbound `ProbeObservedFirst`. */
export const ProbeObservedFirst = Schema.Struct({ _tag: kindTag("ProbeObservedFirst"), ...AgentEventFields.ProbeObservedFirst }).annotations({
  identifier: "AgentEvent.ProbeObservedFirst"
})
/** Outbound `ProbeResult`. */
export const ProbeResult = Schema.Struct({ _tag: kindTag("ProbeResult"), ...AgentEventFields.ProbeResult }).annotations({
  identifier: "AgentEvent.ProbeResult"
})
/** Outbound `ProbeFailureFirst`. */
export const ProbeFailureFirst = Schema.Struct({ _tag: kindTag("ProbeFailureFirst"), ...AgentEventFields.ProbeFailureFirst }).annotations({
  identifier: "AgentEvent.ProbeFailureFirst"
})
/** Outbound `Failed` (sustained probe failure). */
export const Failed = Schema.Struct({ _tag: kindTag("Failed"), ...AgentEventFields.Failed }).annotations({
  identifier: "AgentEvent.Failed"
})
/** Outbound `RollbackComplete`. */
export const RollbackComplete = Schema.Struct({ _tag: kindTag("RollbackComplete"), ...AgentEventFields.RollbackComplete }).annotations({
  identifier: "AgentEvent.RollbackComplete"
})
/** Outbound `Converged`. */
export const Converged = Schema.Struct({ _tag: kindTag("Converged"), ...AgentEventFields.Converged }).annotations({
  identifier: "AgentEvent.Converged"
})

/**
 * An event an agent reports to the CP. In memory it is tagged by `_tag`; its JSON is tagged by
 * `kind`, camelCase, optional fields omitted when null, unknown fields ignored.
 */
export const OutboundAgentEvent = Schema.Union(
  DispatchAck,
  ActivationStarted,
  ActivationCompleted,
  ActivationDeferred,
  ActivationFailed,
  ProbeTopologyDeclared,
  ProbeObservedFirst,
  ProbeResult,
  ProbeFailureFirst,
  Failed,
  RollbackComplete,
  Converged
).annotations({ identifier: "OutboundAgentEvent" })
/** An event an agent reports to the CP. */
export type OutboundAgentEvent = typeof OutboundAgentEvent.Type
/** The JSON form of an {@link OutboundAgentEvent}. */
export type OutboundAgentEventJson = typeof OutboundAgentEvent.Encoded

/** The body of `POST /v1/agent/events`. */
export const AgentEventEnvelope = Schema.Struct({
  hostname: HostId,
  rolloutId: RolloutId,
  event: OutboundAgentEvent,
  /** Optional Ed25519 signature (hex) over the canonical JSON of `event`. */
  signature: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]*$/)), { exact: true })
}).annotations({ identifier: "AgentEventEnvelope" })
/** The body of `POST /v1/agent/events`. */
export type AgentEventEnvelope = typeof AgentEventEnvelope.Type
