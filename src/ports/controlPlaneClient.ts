/**
 * The ControlPlaneClient port (agent side): the agent's five calls to the control plane — report
 * an event, heartbeat (the boot handshake without a rollout id), long-poll for a dispatch, and
 * fetch the signed rollout manifest and fleet.resolved it verifies before acting.
 *
 * Invariants: every failure is one of two typed errors, never a defect: {@link CpRejected} (the CP
 * understood the request and refused it: a 4xx) or {@link CpUnavailable} (5xx, 503 with
 * Retry-After, network error, timeout: try again later). Adapters: HTTP (`Agent.layerHttpClient`)
 * and in-process over the CP's own HttpApp (`Agent.layerInProcessClient`).
 */
import { Context, Data } from "effect"
import type { Effect, Option } from "effect"
import type { AgentEventEnvelope } from "../domain/agentEvent.js"
import type { RolloutId } from "../domain/ids.js"
import type { HeartbeatRequest, HeartbeatResponse, SignedFleet, SignedManifest } from "../wire/schemas.js"
import type { DispatchEntry } from "./storage.js"

/** The CP answered with a 4xx: it understood the request and refused it. */
export class CpRejected extends Data.TaggedError("CpRejected")<{
  /** The HTTP status (400, 401, 403, 404, 409, 413, 426, ...). */
  readonly status: number
  readonly reason: string
}> {
  /** `"<status>: <reason>"`. */
  override get message(): string {
    return `control plane refused the request (${this.status}): ${this.reason}`
  }
}

/** The CP could not take the request now (5xx, 503, network error, timeout); retry later. */
export class CpUnavailable extends Data.TaggedError("CpUnavailable")<{
  readonly reason: string
  /** The CP's Retry-After, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | null
}> {
  /** The reason, with the Retry-After when there is one. */
  override get message(): string {
    return `control plane unavailable: ${this.reason}${this.retryAfterSeconds === null ? "" : ` (retry after ${this.retryAfterSeconds} s)`}`
  }
}

/** Any failure of a control-plane call. */
export type CpError = CpRejected | CpUnavailable

/**
 * Whether a refusal of an event is about the event itself, so re-sending it can never succeed:
 * 400 (malformed), 404 (no record for the rollout), 409 (illegal for the recorded state), 413
 * (too large), 422. Refusals about the caller (401, 403) or the protocol (426) are not: the same
 * event may be accepted once credentials or versions are fixed, so it must not be dropped.
 */
export const isPermanentRejection = (error: CpError): boolean =>
  error._tag === "CpRejected" && [400, 404, 409, 413, 422].includes(error.status)

/** The ControlPlaneClient service. */
export interface ControlPlaneClientService {
  /** POST /v1/agent/events: succeeds once the CP applied and persisted the event, or already had it. */
  readonly postEvent: (envelope: AgentEventEnvelope) => Effect.Effect<void, CpError>
  /** POST /v1/agent/heartbeat: without `rolloutId` the reply carries the host's active records. */
  readonly heartbeat: (request: HeartbeatRequest) => Effect.Effect<HeartbeatResponse, CpError>
  /** GET /v1/agent/dispatch?wait=N: the next dispatch, or None when the wait ended without one. */
  readonly pollDispatch: (waitSeconds: number) => Effect.Effect<Option.Option<DispatchEntry>, CpError>
  /** GET /v1/rollouts/:id/manifest: the signed rollout manifest. */
  readonly rolloutManifest: (rolloutId: RolloutId) => Effect.Effect<SignedManifest, CpError>
  /** GET /v1/fleet.resolved: the signed fleet (its policies give the agent `onHealthFailure`). */
  readonly fleetResolved: Effect.Effect<SignedFleet, CpError>
}

/** The agent's connection to its control plane. */
export class ControlPlaneClient extends Context.Tag("effect-fleet/ControlPlaneClient")<ControlPlaneClient, ControlPlaneClientService>() {}
