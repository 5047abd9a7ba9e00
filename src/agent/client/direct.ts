/**
 * The direct in-process ControlPlaneClient: an agent calls the CP's transport-independent
 * {@link AgentEndpoint} in the same process, as the authenticated `host`, without HTTP (no
 * request encoding, routing, guard or body decoding). The simulator uses it for runs where the
 * wire itself is not under test; the in-process HTTP client (inProcess.ts) keeps the wire honest.
 *
 * Invariants: every call checks the endpoint's readiness first, as the HTTP guard does on every
 * `/v1` route; the endpoint's typed errors become the port's errors through the same mapping the
 * HTTP client applies to a decoded reply (`toCpError`), so every answer — value, status, reason,
 * Retry-After — is what the HTTP adapter would give (test/agent/clientConformance.test.ts). Every
 * call is bounded by the endpoint's own limits (the reducer reply timeout, the capped long-poll),
 * so no client-side time limit is added.
 */
import { Effect, Layer } from "effect"
import { AgentEndpoint, type AgentEndpointService } from "../../cp/agentEndpoint.js"
import type { AgentEventEnvelope } from "../../domain/agentEvent.js"
import type { HostId, RolloutId } from "../../domain/ids.js"
import { ControlPlaneClient, type ControlPlaneClientService, type CpError } from "../../ports/controlPlaneClient.js"
import type { HeartbeatRequest } from "../../wire/schemas.js"
import { toCpError } from "./fleetClient.js"

/**
 * A ControlPlaneClient calling `endpoint` as `host`. `endpoint` is looked up on every call and
 * may itself fail with a port error (the simulator's forwarding endpoint: `CpUnavailable` while
 * its CP is down, as a refused connection would).
 */
export const makeDirectClient = (host: HostId, endpoint: Effect.Effect<AgentEndpointService, CpError>): ControlPlaneClientService => {
  const call = <A, E>(method: (endpoint: AgentEndpointService) => Effect.Effect<A, E>): Effect.Effect<A, CpError> =>
    Effect.flatMap(endpoint, (e) => Effect.zipRight(e.readiness, method(e)).pipe(Effect.mapError(toCpError)))
  // Plain methods, no Effect.fn span: a direct call is an in-process function call, made ~15
  // times per host in a scale run (bench/suites/sim.ts), and a span per call (plus Effect.fn's
  // call-site capture) cost more than the call itself. The endpoint's own work is unchanged.
  return {
    postEvent: (envelope: AgentEventEnvelope) => call((e) => e.postEvent(host, envelope)),
    heartbeat: (request: HeartbeatRequest) => call((e) => e.heartbeat(host, request)),
    pollDispatch: (waitSeconds: number) => call((e) => e.pollDispatch(host, waitSeconds)),
    rolloutManifest: (rolloutId: RolloutId) => call((e) => e.rolloutManifest(rolloutId)),
    fleetResolved: call((e) => e.fleetResolved)
  } satisfies ControlPlaneClientService
}

/** The ControlPlaneClient of `host` over the AgentEndpoint in context (a CP in the same process). */
export const layerDirectClient = (host: HostId): Layer.Layer<ControlPlaneClient, never, AgentEndpoint> =>
  Layer.effect(
    ControlPlaneClient,
    Effect.map(AgentEndpoint, (endpoint) => makeDirectClient(host, Effect.succeed(endpoint)))
  )
