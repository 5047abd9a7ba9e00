/**
 * The 24 host events: input to the host `step()`. `Local*` events come from the agent's own
 * workers; `Remote*` events are the CP's mirror of an agent's report.
 *
 * Invariant: each Local/Remote pair is built from one field set (the wire kind's), so the twins
 * carry the same data and drive the same transition; only `LocalActivate` adds two fields
 * (`targetClosure`, `soakDueAt`) that `step()` ignores and the agent shell uses.
 */
import { Schema } from "effect"
import { AgentEventFields, type AgentEventKind, type OutboundAgentEvent } from "./agentEvent.js"
import { ClosureHash } from "./ids.js"
import { Timestamp } from "./time.js"

const F = AgentEventFields

/** The agent acks a dispatch and starts activating (creates the Pending record if needed). */
export const LocalActivate = Schema.TaggedStruct("LocalActivate", {
  ...F.DispatchAck,
  targetClosure: ClosureHash,
  soakDueAt: Timestamp
})
/** CP mirror of `DispatchAck`. */
export const RemoteDispatchAck = Schema.TaggedStruct("RemoteDispatchAck", F.DispatchAck)
/** The switch has started. */
export const LocalActivationStarted = Schema.TaggedStruct("LocalActivationStarted", F.ActivationStarted)
/** CP mirror of `ActivationStarted`. */
export const RemoteActivationStarted = Schema.TaggedStruct("RemoteActivationStarted", F.ActivationStarted)
/** The switch completed; the observed running closure is reported. */
export const LocalActivationCompleted = Schema.TaggedStruct("LocalActivationCompleted", F.ActivationCompleted)
/** CP mirror of `ActivationCompleted` (also synthesised by heartbeat recovery). */
export const RemoteActivationCompleted = Schema.TaggedStruct("RemoteActivationCompleted", F.ActivationCompleted)
/** The live switch was deferred to the next boot (critical component changed). */
export const LocalActivationDeferred = Schema.TaggedStruct("LocalActivationDeferred", F.ActivationDeferred)
/** CP mirror of `ActivationDeferred`. */
export const RemoteActivationDeferred = Schema.TaggedStruct("RemoteActivationDeferred", F.ActivationDeferred)
/** The switch failed. */
export const LocalActivationFailed = Schema.TaggedStruct("LocalActivationFailed", F.ActivationFailed)
/** CP mirror of `ActivationFailed`. */
export const RemoteActivationFailed = Schema.TaggedStruct("RemoteActivationFailed", F.ActivationFailed)
/** The host declared its probes. */
export const LocalProbeTopologyDeclared = Schema.TaggedStruct("LocalProbeTopologyDeclared", F.ProbeTopologyDeclared)
/** CP mirror of `ProbeTopologyDeclared`. */
export const RemoteProbeTopologyDeclared = Schema.TaggedStruct("RemoteProbeTopologyDeclared", F.ProbeTopologyDeclared)
/** A probe produced its first observation. */
export const LocalProbeObservedFirst = Schema.TaggedStruct("LocalProbeObservedFirst", F.ProbeObservedFirst)
/** CP mirror of `ProbeObservedFirst`. */
export const RemoteProbeObservedFirst = Schema.TaggedStruct("RemoteProbeObservedFirst", F.ProbeObservedFirst)
/** A probe result. */
export const LocalProbeResult = Schema.TaggedStruct("LocalProbeResult", F.ProbeResult)
/** CP mirror of `ProbeResult`. */
export const RemoteProbeResult = Schema.TaggedStruct("RemoteProbeResult", F.ProbeResult)
/** A probe failed for the first time. */
export const LocalProbeFailureFirst = Schema.TaggedStruct("LocalProbeFailureFirst", F.ProbeFailureFirst)
/** CP mirror of `ProbeFailureFirst`. */
export const RemoteProbeFailureFirst = Schema.TaggedStruct("RemoteProbeFailureFirst", F.ProbeFailureFirst)
/** Enforce probes failed for longer than the sustained-failure threshold. */
export const LocalSustainedFailureCrossed = Schema.TaggedStruct("LocalSustainedFailureCrossed", F.Failed)
/** CP mirror of `Failed`. */
export const RemoteFailed = Schema.TaggedStruct("RemoteFailed", F.Failed)
/** The rollback to the prior closure completed. */
export const LocalRollbackCompleted = Schema.TaggedStruct("LocalRollbackCompleted", F.RollbackComplete)
/** CP mirror of `RollbackComplete` (no trailing "d", as in the reference). */
export const RemoteRollbackComplete = Schema.TaggedStruct("RemoteRollbackComplete", F.RollbackComplete)
/** Soak elapsed with enforce probes passing: the host converged. */
export const LocalConvergedReached = Schema.TaggedStruct("LocalConvergedReached", F.Converged)
/** CP mirror of `Converged`. */
export const RemoteConverged = Schema.TaggedStruct("RemoteConverged", F.Converged)

/** Events created on the agent. */
export const LocalEvent = Schema.Union(
  LocalActivate,
  LocalActivationStarted,
  LocalActivationCompleted,
  LocalActivationDeferred,
  LocalActivationFailed,
  LocalProbeTopologyDeclared,
  LocalProbeObservedFirst,
  LocalProbeResult,
  LocalProbeFailureFirst,
  LocalSustainedFailureCrossed,
  LocalRollbackCompleted,
  LocalConvergedReached
)
/** Events created on the agent. */
export type LocalEvent = typeof LocalEvent.Type

/** Events created by the CP from agent reports. */
export const RemoteEvent = Schema.Union(
  RemoteDispatchAck,
  RemoteActivationStarted,
  RemoteActivationCompleted,
  RemoteActivationDeferred,
  RemoteActivationFailed,
  RemoteProbeTopologyDeclared,
  RemoteProbeObservedFirst,
  RemoteProbeResult,
  RemoteProbeFailureFirst,
  RemoteFailed,
  RemoteRollbackComplete,
  RemoteConverged
)
/** Events created by the CP from agent reports. */
export type RemoteEvent = typeof RemoteEvent.Type

/** Any of the 24 host events. */
export const HostEvent = Schema.Union(LocalEvent, RemoteEvent).annotations({ identifier: "HostEvent" })
/** Any of the 24 host events. */
export type HostEvent = typeof HostEvent.Type

/** The name of a host event variant, as used in error messages. */
export type HostEventName = HostEvent["_tag"]

/** Local variant name → wire kind. */
export const LOCAL_KIND: { readonly [K in LocalEvent["_tag"]]: AgentEventKind } = {
  LocalActivate: "DispatchAck",
  LocalActivationStarted: "ActivationStarted",
  LocalActivationCompleted: "ActivationCompleted",
  LocalActivationDeferred: "ActivationDeferred",
  LocalActivationFailed: "ActivationFailed",
  LocalProbeTopologyDeclared: "ProbeTopologyDeclared",
  LocalProbeObservedFirst: "ProbeObservedFirst",
  LocalProbeResult: "ProbeResult",
  LocalProbeFailureFirst: "ProbeFailureFirst",
  LocalSustainedFailureCrossed: "Failed",
  LocalRollbackCompleted: "RollbackComplete",
  LocalConvergedReached: "Converged"
}

/** Remote variant name → wire kind. */
export const REMOTE_KIND: { readonly [K in RemoteEvent["_tag"]]: AgentEventKind } = {
  RemoteDispatchAck: "DispatchAck",
  RemoteActivationStarted: "ActivationStarted",
  RemoteActivationCompleted: "ActivationCompleted",
  RemoteActivationDeferred: "ActivationDeferred",
  RemoteActivationFailed: "ActivationFailed",
  RemoteProbeTopologyDeclared: "ProbeTopologyDeclared",
  RemoteProbeObservedFirst: "ProbeObservedFirst",
  RemoteProbeResult: "ProbeResult",
  RemoteProbeFailureFirst: "ProbeFailureFirst",
  RemoteFailed: "Failed",
  RemoteRollbackComplete: "RollbackComplete",
  RemoteConverged: "Converged"
}

/** Wire kind → Remote variant name (the inbound mapping). */
export const REMOTE_OF_KIND: { readonly [K in AgentEventKind]: RemoteEvent["_tag"] } = {
  DispatchAck: "RemoteDispatchAck",
  ActivationStarted: "RemoteActivationStarted",
  ActivationCompleted: "RemoteActivationCompleted",
  ActivationDeferred: "RemoteActivationDeferred",
  ActivationFailed: "RemoteActivationFailed",
  ProbeTopologyDeclared: "RemoteProbeTopologyDeclared",
  ProbeObservedFirst: "RemoteProbeObservedFirst",
  ProbeResult: "RemoteProbeResult",
  ProbeFailureFirst: "RemoteProbeFailureFirst",
  Failed: "RemoteFailed",
  RollbackComplete: "RemoteRollbackComplete",
  Converged: "RemoteConverged"
}

/** Whether an event was created on the agent (its tag starts with "Local"). */
export const isLocalEvent = (event: HostEvent): event is LocalEvent => event._tag.charCodeAt(0) === 76 /* "L" */

/** The wire kind an event mirrors. */
export const eventKind = (event: HostEvent): AgentEventKind =>
  isLocalEvent(event) ? LOCAL_KIND[event._tag] : REMOTE_KIND[event._tag]

/** The sequence number of any event. */
export const eventSeq = (event: HostEvent): number => event.seq

/**
 * The outbound payload of an event: the wire kind with exactly the wire fields (LocalActivate's
 * `targetClosure` and `soakDueAt` are dropped). Written out per kind, not with object rest, since
 * it runs on every transition.
 */
export const toOutbound = (e: HostEvent): OutboundAgentEvent => {
  switch (e._tag) {
    case "LocalActivate":
    case "RemoteDispatchAck":
      return { _tag: "DispatchAck", currentClosureAtDispatch: e.currentClosureAtDispatch, receivedAt: e.receivedAt, seq: e.seq }
    case "LocalActivationStarted":
    case "RemoteActivationStarted":
      return { _tag: "ActivationStarted", startedAt: e.startedAt, switchMethod: e.switchMethod, seq: e.seq }
    case "LocalActivationCompleted":
    case "RemoteActivationCompleted":
      return {
        _tag: "ActivationCompleted",
        observedCurrentClosure: e.observedCurrentClosure,
        exitCode: e.exitCode,
        completedAt: e.completedAt,
        seq: e.seq
      }
    case "LocalActivationDeferred":
    case "RemoteActivationDeferred":
      return { _tag: "ActivationDeferred", component: e.component, deferredAt: e.deferredAt, seq: e.seq }
    case "LocalActivationFailed":
    case "RemoteActivationFailed":
      return { _tag: "ActivationFailed", exitCode: e.exitCode, stderrTail: e.stderrTail, failedAt: e.failedAt, seq: e.seq }
    case "LocalProbeTopologyDeclared":
    case "RemoteProbeTopologyDeclared":
      return { _tag: "ProbeTopologyDeclared", probes: e.probes, declaredAt: e.declaredAt, seq: e.seq }
    case "LocalProbeObservedFirst":
    case "RemoteProbeObservedFirst":
      return { _tag: "ProbeObservedFirst", probeName: e.probeName, mode: e.mode, observedAt: e.observedAt, seq: e.seq }
    case "LocalProbeResult":
    case "RemoteProbeResult":
      return {
        _tag: "ProbeResult",
        probeName: e.probeName,
        mode: e.mode,
        status: e.status,
        observedAt: e.observedAt,
        failureReason: e.failureReason,
        subResults: e.subResults,
        seq: e.seq
      }
    case "LocalProbeFailureFirst":
    case "RemoteProbeFailureFirst":
      return { _tag: "ProbeFailureFirst", probeName: e.probeName, mode: e.mode, firstFailedAt: e.firstFailedAt, seq: e.seq }
    case "LocalSustainedFailureCrossed":
    case "RemoteFailed":
      return {
        _tag: "Failed",
        failedAt: e.failedAt,
        sustainedDurationSecs: e.sustainedDurationSecs,
        failingProbes: e.failingProbes,
        policyApplied: e.policyApplied,
        seq: e.seq
      }
    case "LocalRollbackCompleted":
    case "RemoteRollbackComplete":
      return { _tag: "RollbackComplete", revertedToClosure: e.revertedToClosure, exitCode: e.exitCode, completedAt: e.completedAt, seq: e.seq }
    case "LocalConvergedReached":
    case "RemoteConverged":
      return { _tag: "Converged", convergedAt: e.convergedAt, currentClosure: e.currentClosure, seq: e.seq }
  }
}

/** The CP's inbound mapping: a wire event becomes the Remote event of the same row. */
export const toRemoteEvent = (payload: OutboundAgentEvent): RemoteEvent => {
  const { _tag, ...fields } = payload
  return { ...fields, _tag: REMOTE_OF_KIND[_tag] } as RemoteEvent
}
