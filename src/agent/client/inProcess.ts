/**
 * The in-process ControlPlaneClient: agents talk to a CP running in the same process through the
 * CP's real HTTP stack (guard, authentication, handlers), without a socket. `layerInProcessServer`
 * is an HttpServer that keeps the app it is asked to serve and exposes it as a `fetch` function
 * ({@link InProcessCp}); `layerInProcessClient` is the usual FleetApi client over that `fetch`.
 * The simulator runs N agents against one CP this way; tests use it with the TestClock.
 *
 * Invariants: requests run the CP's HttpApp on the runtime that served it (so its Clock, services
 * and scope), exactly as a socket server would; a client call interrupted mid-request aborts the
 * server fiber (the request's AbortSignal), as a closed connection would; once the CP's scope is
 * closed, requests fail as if the connection were refused.
 */
import { FetchHttpClient, HttpApp, HttpServer } from "@effect/platform"
import { Context, Effect, Layer, MutableRef, Redacted } from "effect"
import { ControlPlaneClient } from "../../ports/controlPlaneClient.js"
import { type FleetClientOptions, fleetClientOver, makeFleetApi } from "./fleetClient.js"
import type { CpCredentials } from "./http.js"

/** The base URL in-process requests are addressed to (never resolved). */
export const IN_PROCESS_URL = "http://in-process.invalid"

/** The CP's HttpApp as a `fetch` function (available once the CP's HTTP layer is built). */
export class InProcessCp extends Context.Tag("effect-fleet/InProcessCp")<
  InProcessCp,
  { readonly fetch: typeof globalThis.fetch }
>() {}

/**
 * An HttpServer without a socket, plus {@link InProcessCp} and the platform services an HttpApp
 * needs (no-op file system). Provide it to the CP's `layerServe`.
 */
export const layerInProcessServer = Layer.scopedContext(
  Effect.gen(function* () {
    // The served app as a web handler; a plain promise, so a request costs no fiber of its own.
    let served: (handle: (request: Request) => Promise<Response>) => void = () => {}
    const handler = new Promise<(request: Request) => Promise<Response>>((resolve) => {
      served = resolve
    })
    const server = HttpServer.make({
      address: { _tag: "TcpAddress", hostname: "in-process", port: 0 },
      serve: (app, middleware) =>
        Effect.flatMap(Effect.runtime<never>(), (runtime) => Effect.sync(() => served(HttpApp.toWebHandlerRuntime(runtime)(app, middleware))))
    })
    // Once the CP's scope is closed its app must not run again: requests fail as a refused
    // connection would (the client maps that to CpUnavailable).
    const open = MutableRef.make(true)
    yield* Effect.addFinalizer(() => Effect.sync(() => MutableRef.set(open, false)))
    const fetch: typeof globalThis.fetch = (input, init) =>
      MutableRef.get(open)
        ? handler.then((handle) => (MutableRef.get(open) ? handle(new Request(input, init)) : Promise.reject(new TypeError("in-process control plane stopped"))))
        : Promise.reject(new TypeError("in-process control plane stopped"))
    return Context.make(HttpServer.HttpServer, server).pipe(Context.add(InProcessCp, { fetch }))
  })
).pipe(Layer.provideMerge(HttpServer.layerContext))

/** Settings of an in-process client: the host's credentials, and optionally time limits. */
export interface InProcessClientConfig extends Omit<FleetClientOptions, "baseUrl" | "authorize"> {
  readonly credentials: CpCredentials
}

/**
 * The FleetApi client every in-process agent shares, built on first use (building one costs
 * ~12 ms and ~120 KiB, per agent that was most of an agent's start in a 1,000-host simulation).
 * It holds no state: the CP's `fetch` and the agent's credentials are provided with each request.
 */
const sharedApi = Effect.runSync(Effect.cached(makeFleetApi({ baseUrl: IN_PROCESS_URL }).pipe(Effect.provide(FetchHttpClient.layer))))

/** The request options carrying `credentials` (the bearer token header, when they are one). */
const requestInit = (credentials: CpCredentials): RequestInit =>
  credentials._tag === "BearerToken" ? { headers: { authorization: `Bearer ${Redacted.value(credentials.token)}` } } : {}

/** A ControlPlaneClient over the in-process CP. */
export const layerInProcessClient = (config: InProcessClientConfig): Layer.Layer<ControlPlaneClient, never, InProcessCp> =>
  Layer.effect(
    ControlPlaneClient,
    Effect.gen(function* () {
      const cp = yield* InProcessCp
      const api = yield* sharedApi
      const init = requestInit(config.credentials)
      return fleetClientOver(api, config, (request) =>
        request.pipe(Effect.provideService(FetchHttpClient.Fetch, cp.fetch), Effect.provideService(FetchHttpClient.RequestInit, init))
      )
    })
  )
