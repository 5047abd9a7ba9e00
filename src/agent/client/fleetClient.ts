/**
 * The ControlPlaneClient over any HttpClient: the typed `HttpApiClient` of the shared FleetApi,
 * with the protocol header on every request, per-call time limits, and every failure mapped to
 * the port's two errors. Both adapters (real HTTP, in-process HttpApp) are this plus an HttpClient.
 *
 * Invariants: a call never dies on what the CP answers: typed 4xx bodies become `CpRejected`,
 * 503 `Unavailable` becomes `CpUnavailable` with its Retry-After, any other status, a body that
 * does not decode, a transport error or a timeout becomes `CpUnavailable` (retry later).
 */
import { HttpApiClient, HttpClient, HttpClientError } from "@effect/platform"
import { Duration, Effect, Option } from "effect"
import type { AgentEventEnvelope } from "../../domain/agentEvent.js"
import type { RolloutId } from "../../domain/ids.js"
import { type ControlPlaneClientService, type CpError, CpRejected, CpUnavailable } from "../../ports/controlPlaneClient.js"
import { FleetApi } from "../../wire/api.js"
import { withProtocolHeader } from "../../wire/protocol.js"
import type { HeartbeatRequest } from "../../wire/schemas.js"

/** HTTP status of each typed error body of the FleetApi (503 `Unavailable` is handled apart). */
const STATUS: Readonly<Record<string, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  ProtocolMismatch: 426
}

/** Settings of the client. */
export interface FleetClientOptions {
  /** The CP's base URL (`https://cp.example:8443`); paths start with `/v1/`. */
  readonly baseUrl: string
  /** Extra request decoration (credentials), after the protocol header. */
  readonly authorize?: (client: HttpClient.HttpClient) => HttpClient.HttpClient
  /** Time limit of an ordinary call (default 30 s, the reference's request timeout). */
  readonly requestTimeout?: Duration.DurationInput
  /** Added to a long-poll's wait for its time limit (default 5 s: `wait=60` → 65 s, as the reference). */
  readonly pollSlack?: Duration.DurationInput
}

const fieldOf = (u: object, key: string): unknown => (key in u ? (u as Record<string, unknown>)[key] : undefined)

/** Seconds from a `Retry-After` header value (delta-seconds only), or null. */
const retryAfterHeader = (value: string | undefined): number | null => {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null
  return Number(value.trim())
}

/** Maps anything a FleetApi call can fail with to the port's errors. */
export const toCpError = (error: unknown): CpError => {
  if (error instanceof HttpClientError.ResponseError) {
    const status = error.response.status
    const reason = `${error.reason} (status ${status})`
    return status >= 400 && status < 500 && status !== 408 && status !== 429
      ? new CpRejected({ status, reason })
      : new CpUnavailable({ reason, retryAfterSeconds: retryAfterHeader(error.response.headers["retry-after"]) })
  }
  if (error instanceof HttpClientError.RequestError) return new CpUnavailable({ reason: error.message, retryAfterSeconds: null })
  if (typeof error === "object" && error !== null) {
    const tag = fieldOf(error, "_tag")
    if (tag === "Unavailable") {
      const seconds = fieldOf(error, "retryAfterSeconds")
      return new CpUnavailable({ reason: String(fieldOf(error, "reason")), retryAfterSeconds: typeof seconds === "number" ? seconds : null })
    }
    if (typeof tag === "string" && STATUS[tag] !== undefined) {
      const inner = fieldOf(error, "error")
      const reason = fieldOf(error, "reason") ?? (inner instanceof Error ? inner.message : undefined) ?? tag
      return new CpRejected({ status: STATUS[tag], reason: `${tag}: ${String(reason)}` })
    }
    if (tag === "ParseError") return new CpUnavailable({ reason: `response did not decode: ${String(fieldOf(error, "message"))}`, retryAfterSeconds: null })
  }
  return new CpUnavailable({ reason: String(error), retryAfterSeconds: null })
}

/** Builds the typed FleetApi client (protocol header, then `authorize`) on the HttpClient in context. */
export const makeFleetApi = (options: Pick<FleetClientOptions, "baseUrl" | "authorize">) => {
  const authorize = options.authorize ?? ((c: HttpClient.HttpClient) => c)
  return HttpApiClient.make(FleetApi, {
    baseUrl: options.baseUrl,
    transformClient: (client) => authorize(withProtocolHeader(client))
  })
}

/** A typed FleetApi client, as {@link makeFleetApi} builds it. */
export type FleetApiClient = Effect.Effect.Success<ReturnType<typeof makeFleetApi>>

/**
 * The ControlPlaneClient over a FleetApi client. `around` wraps every request (default: as is);
 * the in-process client uses it to provide the calling agent's credentials to a shared `api`.
 */
export const fleetClientOver = (
  api: FleetApiClient,
  options: Omit<FleetClientOptions, "baseUrl" | "authorize"> = {},
  around: <A, E>(request: Effect.Effect<A, E>) => Effect.Effect<A, E> = (request) => request
): ControlPlaneClientService => {
  const requestTimeout = Duration.decode(options.requestTimeout ?? "30 seconds")
  const pollSlack = Duration.decode(options.pollSlack ?? "5 seconds")
  const call = <A>(effect: Effect.Effect<A, unknown>, limit: Duration.Duration): Effect.Effect<A, CpError> =>
    around(effect).pipe(
      Effect.mapError(toCpError),
      Effect.timeoutFail({
        duration: limit,
        onTimeout: () => new CpUnavailable({ reason: `no answer within ${Duration.format(limit)}`, retryAfterSeconds: null })
      })
    )
  return {
    postEvent: Effect.fn("ControlPlaneClient.postEvent")((envelope: AgentEventEnvelope) =>
      call(api.agent.events({ payload: envelope }), requestTimeout)
    ),
    heartbeat: Effect.fn("ControlPlaneClient.heartbeat")((request: HeartbeatRequest) =>
      call(api.agent.heartbeat({ payload: request }), requestTimeout)
    ),
    pollDispatch: Effect.fn("ControlPlaneClient.pollDispatch")((waitSeconds: number) =>
      call(
        Effect.map(api.agent.dispatch({ urlParams: { wait: waitSeconds } }), (entry) => Option.fromNullable(entry === undefined ? null : entry)),
        Duration.sum(Duration.seconds(waitSeconds), pollSlack)
      )
    ),
    rolloutManifest: Effect.fn("ControlPlaneClient.rolloutManifest")((rolloutId: RolloutId) =>
      call(api.agent.manifest({ path: { rolloutId } }), requestTimeout)
    ),
    fleetResolved: call(api.agent.fleetResolved(), requestTimeout).pipe(Effect.withSpan("ControlPlaneClient.fleetResolved"))
  } satisfies ControlPlaneClientService
}

/** Builds the client on the HttpClient in context. */
export const makeFleetClient = (options: FleetClientOptions): Effect.Effect<ControlPlaneClientService, never, HttpClient.HttpClient> =>
  Effect.map(makeFleetApi(options), (api) => fleetClientOver(api, options))
