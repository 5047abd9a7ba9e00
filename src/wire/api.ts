/**
 * The HTTP API of the control plane, shared by the CP server (src/cp/http) and the agent client:
 * three groups — `agent` (what agents call), `operator` (read-only views, metrics) and `health`
 * (unauthenticated probes).
 *
 * Invariants: every `/v1/*` route is versioned by the `x-nixfleet-protocol` header (see
 * protocol.ts); every agent and operator route is authenticated; the events route answers 204
 * only once the event is persisted (or was already), never on a mere enqueue; every error is a
 * typed body from errors.ts.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AgentEventEnvelope } from "../domain/agentEvent.js"
import { HostId, RolloutId } from "../domain/ids.js"
import { DispatchEntry } from "../ports/storage.js"
import { BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ProtocolMismatch, Unavailable } from "./errors.js"
import {
  DispatchQuery,
  ExplainQuery,
  FleetStatus,
  Health,
  HeartbeatRequest,
  HeartbeatResponse,
  HostExplanationView,
  Readiness,
  RolloutStatus,
  RolloutTrace,
  SignedFleet,
  SignedManifest,
  TraceQuery
} from "./schemas.js"
import { AgentAuthentication, OperatorAuthentication } from "./security.js"

const RolloutPath = Schema.Struct({ rolloutId: RolloutId })

/** The agent routes. Every one refuses (403) a hostname other than the authenticated one. */
export class AgentGroup extends HttpApiGroup.make("agent")
  .add(
    HttpApiEndpoint.post("events", "/v1/agent/events")
      .setPayload(AgentEventEnvelope)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(Forbidden)
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Report one agent event")
      .annotate(
        OpenApi.Description,
        "204 once the event is applied and persisted, or when it was already (seq not above the record's). 404: no record for (rollout, host). 409: the state machine refused it. 503: retry later."
      )
  )
  .add(
    HttpApiEndpoint.post("heartbeat", "/v1/agent/heartbeat")
      .setPayload(HeartbeatRequest)
      .addSuccess(HeartbeatResponse)
      .addError(Forbidden)
      .annotate(OpenApi.Summary, "Heartbeat; without rolloutId it is the boot handshake")
  )
  .add(
    HttpApiEndpoint.get("dispatch", "/v1/agent/dispatch")
      .setUrlParams(DispatchQuery)
      .addSuccess(DispatchEntry)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "Long-poll for the host's next dispatch (200), 204 at the deadline")
  )
  .add(
    HttpApiEndpoint.get("manifest", "/v1/rollouts/:rolloutId/manifest")
      .setPath(RolloutPath)
      .addSuccess(SignedManifest)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "The signed rollout manifest (bytes and detached signature, base64)")
  )
  .add(
    HttpApiEndpoint.get("fleetResolved", "/v1/fleet.resolved")
      .addSuccess(SignedFleet)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "The signed fleet.resolved the CP verified (bytes and detached signature, base64)")
  )
  .middleware(AgentAuthentication) {}

/** The operator routes: read-only views over storage, the event log and the planner. */
export class OperatorGroup extends HttpApiGroup.make("operator")
  .add(HttpApiEndpoint.get("fleetStatus", "/v1/fleet/status").addSuccess(FleetStatus))
  .add(HttpApiEndpoint.get("rollout", "/v1/rollouts/:rolloutId").setPath(RolloutPath).addSuccess(RolloutStatus).addError(NotFound))
  .add(
    HttpApiEndpoint.get("trace", "/v1/rollouts/:rolloutId/trace")
      .setPath(RolloutPath)
      .setUrlParams(TraceQuery)
      .addSuccess(RolloutTrace)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.get("explain", "/v1/hosts/:hostname/explain")
      .setPath(Schema.Struct({ hostname: HostId }))
      .setUrlParams(ExplainQuery)
      .addSuccess(HostExplanationView)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Every gate's verdict on the host, as the next plan tick would see it")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4" })))
      .annotate(OpenApi.Summary, "Prometheus text exposition")
  )
  .middleware(OperatorAuthentication) {}

/** Unauthenticated probes for supervisors and load balancers. */
export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("healthz", "/healthz").addSuccess(Health))
  .add(HttpApiEndpoint.get("readyz", "/readyz").addSuccess(Readiness)) {}

/**
 * The control plane's API. Errors every route may answer with (from the server's global
 * middleware): 400 BadRequest, 413 PayloadTooLarge, 426 ProtocolMismatch, 503 Unavailable.
 */
export class FleetApi extends HttpApi.make("effect-fleet")
  .add(AgentGroup)
  .add(OperatorGroup)
  .add(HealthGroup)
  .addError(BadRequest)
  .addError(PayloadTooLarge)
  .addError(ProtocolMismatch)
  .addError(Unavailable)
  .annotate(OpenApi.Title, "effect-fleet control plane")
  .annotate(OpenApi.Version, "1") {}
