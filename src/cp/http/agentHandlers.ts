/**
 * The agent routes over HTTP: the FleetApi "agent" group, each handler the authenticated host's
 * call into the transport-independent {@link AgentEndpoint} (src/cp/agentEndpoint.ts).
 *
 * Invariant: a handler decides nothing itself; status codes follow from the endpoint's typed
 * errors, so every transport answers alike.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import { FleetApi } from "../../wire/api.js"
import { AuthenticatedHost } from "../../wire/security.js"
import { AgentEndpoint } from "../agentEndpoint.js"

/** The agent group's handlers (needs the AgentEndpoint). */
export const layerAgentHandlers = HttpApiBuilder.group(FleetApi, "agent", (handlers) =>
  Effect.gen(function* () {
    const endpoint = yield* AgentEndpoint
    return handlers
      .handle("events", ({ payload }) => Effect.flatMap(AuthenticatedHost, (host) => endpoint.postEvent(host, payload)))
      .handle("heartbeat", ({ payload }) => Effect.flatMap(AuthenticatedHost, (host) => endpoint.heartbeat(host, payload)))
      .handle("dispatch", ({ urlParams }) =>
        Effect.flatMap(AuthenticatedHost, (host) => Effect.map(endpoint.pollDispatch(host, urlParams.wait), Option.getOrUndefined))
      )
      .handle("manifest", ({ path }) => endpoint.rolloutManifest(path.rolloutId))
      .handle("fleetResolved", () => endpoint.fleetResolved)
  })
)
