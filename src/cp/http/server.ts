/**
 * The CP's HTTP server: the FleetApi handlers, the authentication middlewares, the request guard,
 * `/openapi.json`, served on an `HttpServer` (plain HTTP via `layer`, mTLS via `layerHttps`, or
 * any HttpServer the caller provides via `layerServe`).
 *
 * Invariant: one HttpMetrics instance per build, shared by the guard and the handlers; the
 * server's fibers live in the layer's scope (closing it stops the listener and interrupts open
 * long-polls).
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { FleetApi } from "../../wire/api.js"
import { layerHttpsServer, type HttpsServerOptions } from "../auth/httpsServer.js"
import { AgentEndpoint } from "../agentEndpoint.js"
import { layerAgentHandlers } from "./agentHandlers.js"
import { layerAgentAuthentication, layerOperatorAuthentication } from "./auth.js"
import { type CpHttpOptions, resolveHttpOptions, type ResolvedHttpOptions } from "./config.js"
import { makeGuard } from "./guard.js"
import { HttpMetrics } from "./metrics.js"
import { layerHealthHandlers, layerOperatorHandlers } from "./operatorHandlers.js"

/** The path of the generated OpenAPI document. */
export const OPENAPI_PATH = "/openapi.json"

/** The request guard as an API-wide middleware layer. */
const layerGuard = (options: ResolvedHttpOptions) =>
  HttpApiBuilder.middleware(
    Effect.gen(function* () {
      const endpoint = yield* AgentEndpoint
      const metrics = yield* HttpMetrics
      const guard = makeGuard({ options, metrics, readiness: endpoint.readiness })
      // The guard's failures are typed errors of FleetApi (its own, or a handler's it re-raises),
      // which the framework encodes right after this middleware; the MiddlewareFn type cannot say so.
      return guard as HttpApiBuilder.MiddlewareFn<never>
    })
  )

/** The FleetApi with every group implemented and both authentication middlewares. */
const layerApi = (options: ResolvedHttpOptions) =>
  HttpApiBuilder.api(FleetApi).pipe(
    Layer.provide([layerAgentHandlers, layerOperatorHandlers(options), layerHealthHandlers(options)]),
    Layer.provide([layerAgentAuthentication, layerOperatorAuthentication(options.operatorToken)])
  )

/**
 * Serves the API on the HttpServer in context. Needs the CP core (CpReducer, DispatchNotifier),
 * Storage, EventLog and an AgentAuth adapter. The agent routes run through one AgentEndpoint
 * (src/cp/agentEndpoint.ts) shared with the guard's readiness check.
 */
export const layerServe = (options: CpHttpOptions = {}) => {
  const resolved = resolveHttpOptions(options)
  const served = HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: OPENAPI_PATH })),
    Layer.provide(layerGuard(resolved)),
    Layer.provide(layerApi(resolved)),
    Layer.provide(AgentEndpoint.layer(resolved)),
    Layer.provide(HttpMetrics.layer)
  )
  return resolved.traceRequests ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)
}

/** Where a plain-HTTP server listens. */
export interface ListenOptions {
  readonly port: number
  readonly host?: string
}

/** Serves the API over plain HTTP (behind a TLS-terminating proxy, or with bearer tokens on a trusted network). */
export const layer = (options: CpHttpOptions & ListenOptions) =>
  layerServe(options).pipe(
    HttpServer.withLogAddress,
    Layer.provide(
      NodeHttpServer.layer(createServer, options.host === undefined ? { port: options.port } : { port: options.port, host: options.host })
    )
  )

/** Serves the API over HTTPS with client-certificate authentication (pair with `layerMtls` as the AgentAuth). */
export const layerHttps = (options: CpHttpOptions & HttpsServerOptions) =>
  layerServe(options).pipe(HttpServer.withLogAddress, Layer.provide(layerHttpsServer(options)))
