/**
 * The CP's HTTP server: the FleetApi handlers, the authentication middlewares, the request guard,
 * `/openapi.json`, served on an `HttpServer` (plain HTTP via `layer`, mTLS via `layerHttps`, any
 * Node server via `layerNodeServer`, or any HttpServer the caller provides via `layerServe`).
 * On the Node servers the CP creates itself, the agent fast path (fastPath.ts) answers the two hot
 * agent routes in front of the HttpApi.
 *
 * Invariant: one HttpMetrics and one AgentEndpoint instance per build, shared by the guard, the
 * handlers and the fast path; the server's fibers live in the layer's scope (closing it stops the
 * listener and interrupts open long-polls).
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import type * as NodeHttp from "node:http"
import { createServer } from "node:http"
import * as https from "node:https"
import { FleetApi } from "../../wire/api.js"
import { type HttpsServerOptions, mtlsServerOptions, readTlsMaterial } from "../auth/httpsServer.js"
import { AgentEndpoint } from "../agentEndpoint.js"
import { layerAgentHandlers } from "./agentHandlers.js"
import { layerAgentAuthentication, layerOperatorAuthentication } from "./auth.js"
import { type CpHttpOptions, resolveHttpOptions, type ResolvedHttpOptions } from "./config.js"
import { makeFastPath, withFastPath } from "./fastPath.js"
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

/** The API served on the HttpServer in context, over the AgentEndpoint and HttpMetrics in context. */
const layerServeApi = (resolved: ResolvedHttpOptions) => {
  const served = HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: OPENAPI_PATH })),
    Layer.provide(layerGuard(resolved)),
    Layer.provide(layerApi(resolved))
  )
  return resolved.traceRequests ? served : HttpMiddleware.withTracerDisabledWhen(served, () => true)
}

/** The services the HttpApi handlers, the guard and the fast path share: one AgentEndpoint, one HttpMetrics. */
const layerShared = (resolved: ResolvedHttpOptions) => AgentEndpoint.layer(resolved).pipe(Layer.provideMerge(HttpMetrics.layer))

/**
 * Serves the API on the HttpServer in context. Needs the CP core (CpReducer, DispatchNotifier),
 * Storage, EventLog and an AgentAuth adapter. The agent routes run through one AgentEndpoint
 * (src/cp/agentEndpoint.ts) shared with the guard's readiness check. No agent fast path here (it
 * needs the Node server itself: see {@link layerNodeServer}).
 */
export const layerServe = (options: CpHttpOptions = {}) => {
  const resolved = resolveHttpOptions(options)
  return layerServeApi(resolved).pipe(Layer.provide(layerShared(resolved)))
}

/** Where a plain-HTTP server listens. */
export interface ListenOptions {
  readonly port: number
  readonly host?: string
}

const listenOn = (listen: ListenOptions) => (listen.host === undefined ? { port: listen.port } : { port: listen.port, host: listen.host })

/** A Node HttpServer from `evaluate`, with the agent fast path (src/cp/http/fastPath.ts) in front unless `fastPath` is false. */
const layerNodeHttpServer = (evaluate: () => NodeHttp.Server, listen: ListenOptions, resolved: ResolvedHttpOptions) =>
  resolved.fastPath
    ? Layer.unwrapEffect(Effect.map(makeFastPath(resolved), (fast) => NodeHttpServer.layer(() => withFastPath(evaluate(), fast), listenOn(listen))))
    : NodeHttpServer.layer(evaluate, listenOn(listen))

/**
 * Serves the API on a Node server the CP creates with `evaluate` (listening on `listen`; port 0
 * picks a free one), with the agent fast path in front: `POST /v1/agent/events` and
 * `POST /v1/agent/heartbeat` are answered from Node's request event, everything else by the
 * HttpApi (`fastPath: false` serves everything through the HttpApi). The HttpServer (and the
 * platform services) stay in the output, e.g. for a test client.
 */
export const layerNodeServer = (evaluate: () => NodeHttp.Server, listen: ListenOptions, options: CpHttpOptions = {}) => {
  const resolved = resolveHttpOptions(options)
  return layerServeApi(resolved).pipe(Layer.provideMerge(layerNodeHttpServer(evaluate, listen, resolved)), Layer.provide(layerShared(resolved)))
}

/** Serves on a Node server from `evaluate` and logs its address; the server itself stays internal. */
const layerListening = (evaluate: () => NodeHttp.Server, listen: ListenOptions, options: CpHttpOptions) => {
  const resolved = resolveHttpOptions(options)
  return layerServeApi(resolved).pipe(
    HttpServer.withLogAddress,
    Layer.provide(layerNodeHttpServer(evaluate, listen, resolved)),
    Layer.provide(layerShared(resolved))
  )
}

/** Serves the API over plain HTTP (behind a TLS-terminating proxy, or with bearer tokens on a trusted network). */
export const layer = (options: CpHttpOptions & ListenOptions) => layerListening(createServer, options, options)

/** Serves the API over HTTPS with client-certificate authentication (pair with `layerMtls` as the AgentAuth). */
export const layerHttps = (options: CpHttpOptions & HttpsServerOptions) =>
  Layer.unwrapEffect(Effect.map(readTlsMaterial(options), (tls) => layerListening(() => https.createServer(mtlsServerOptions(tls)), options, options)))
