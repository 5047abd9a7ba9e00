/**
 * Harness for HTTP tests: the CP core on in-memory storage, served by the real HTTP layer on a
 * loopback port (`layerNodeServer`: the agent fast path in front of the HttpApi unless the test
 * passes `fastPath: false`), with bearer-token auth for hosts h1 and h2, plus raw-request helpers
 * and a state snapshot to prove refused requests changed nothing.
 *
 * Invariant: the harness only sends HTTP requests, offers manifests and reads storage; every
 * decision is the server's.
 */
import { HttpApiClient, HttpClient, HttpClientRequest, type HttpClientResponse, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { createServer } from "node:http"
import { Effect, Fiber, Layer, Option, TestClock, Tracer } from "effect"
import { layerBearerTokens } from "../../adapters/memory/agentAuth.js"
import { CpReducer, EventLogWriter, ReducerInput, type VerifiedManifests } from "../../src/cp/index.js"
import { type CpHttpOptions, layerNodeServer } from "../../src/cp/http/index.js"
import type { ChannelRef, HostId, RolloutId } from "../../src/domain/index.js"
import { makeRolloutId } from "../../src/domain/index.js"
import { type AgentAuth, EventLog, Storage } from "../../src/ports/index.js"
import { FleetApi, PROTOCOL_HEADER, PROTOCOL_HEADER_VALUE, withProtocolHeader } from "../../src/wire/index.js"
import { ch, fleet, HASH, manifests, T0 } from "../planner/builders.js"
import { cpLayer } from "../cp/support.js"

/** Bearer tokens of the test hosts. */
export const TOKENS = { "token-h1": "h1" as HostId, "token-h2": "h2" as HostId }

/** A two-host fleet on channel `stable`, both in the first (only) wave. */
export const FLEET = fleet({ hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } } })
/** The rollout the fleet's manifest opens. */
export const RID: RolloutId = makeRolloutId(ch("stable"), "r1" as ChannelRef)
/** The bytes served by the manifest route for {@link RID}. */
export const MANIFEST_BYTES = new TextEncoder().encode('{"rollout":"stable@r1"}')
/** The fleet.resolved bytes served by `/v1/fleet.resolved`. */
export const FLEET_BYTES = new TextEncoder().encode('{"schemaVersion":1}')
/** The detached signature served with them. */
export const SIGNATURE_BYTES = new Uint8Array([1, 2, 3, 250, 251, 252])

/** The verified manifests the tests publish (constructed directly; signing is tested in test/trust). */
export const VERIFIED: VerifiedManifests = {
  set: manifests(FLEET, { stable: "r1" }),
  fleetHash: HASH,
  signedAt: T0,
  rolloutArtifacts: new Map([[RID, { artifact: MANIFEST_BYTES, signature: SIGNATURE_BYTES }]]),
  fleetArtifact: { artifact: FLEET_BYTES, signature: SIGNATURE_BYTES }
}

/** An HttpClient targeting the HttpServer in context (as NodeHttpServer.layerTest builds it). */
const layerTestClient = HttpServer.layerTestClient.pipe(
  Layer.provide(NodeHttpClient.layerWithoutAgent),
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false }))
)

/** The server over a given CP core, on a loopback port (bearer tokens {@link TOKENS} unless `auth` says otherwise); the HttpClient in context targets it. */
export const serverOn = <ROut, E>(core: Layer.Layer<ROut, E>, http?: CpHttpOptions, auth: Layer.Layer<AgentAuth> = layerBearerTokens(TOKENS)) =>
  layerTestClient.pipe(
    Layer.provideMerge(layerNodeServer(createServer, { port: 0, host: "127.0.0.1" }, http)),
    Layer.provide(auth),
    Layer.provideMerge(core)
  )

/** The server, its CP core and in-memory storage, on a loopback port. */
export const serverLayer = (options: { readonly http?: CpHttpOptions; readonly queueCapacity?: number } = {}) =>
  serverOn(cpLayer(options.queueCapacity), options.http)

/** Lets real I/O progress between TestClock steps (the server runs on real sockets). */
export const ioPause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 25)))

/** Whether a forked request is still pending after letting I/O run. */
export const stillWaiting = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => Effect.zipRight(ioPause, Effect.map(Fiber.poll(fiber), Option.isNone))

/** Runs `body` against a fresh server, with the TestClock first set to T0. */
export const withServer =
  (options: { readonly http?: CpHttpOptions; readonly queueCapacity?: number } = {}) =>
  <A, E, R>(body: Effect.Effect<A, E, R>) =>
    Effect.zipRight(TestClock.setTime(T0), Effect.provide(body, serverLayer(options)))

/** Publishes {@link VERIFIED} and waits until the reducer planned with it (opens RID, queues both hosts). */
export const publish = (manifestsToPublish: VerifiedManifests = VERIFIED) =>
  Effect.gen(function* () {
    const reducer = yield* CpReducer
    yield* reducer.offer(ReducerInput.ManifestSetUpdated({ manifests: manifestsToPublish }))
    yield* reducer.barrier
  })

/** The typed client, as the agent uses it (protocol header on every request), with a host's bearer token. */
export const apiClientFor = (token: string) =>
  HttpApiClient.make(FleetApi, {
    transformClient: (client) => HttpClient.mapRequest(withProtocolHeader(client), HttpClientRequest.bearerToken(token))
  })

/** The typed client authenticated as h1. */
export const apiClient = apiClientFor("token-h1")

/** A raw request's outcome: status, headers and the parsed JSON body (null when empty or not JSON). */
export interface RawResponse {
  readonly status: number
  readonly headers: HttpClientResponse.HttpClientResponse["headers"]
  readonly text: string
  readonly body: unknown
}

/** Options of a raw request. */
export interface RawOptions {
  readonly token?: string | null
  readonly protocol?: string | null
  readonly body?: string
  readonly contentType?: string
  readonly headers?: Readonly<Record<string, string>>
}

/** Sends a raw request (default: h1's token, the protocol header). */
export const raw = (method: "GET" | "POST", path: string, options: RawOptions = {}) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    let request = method === "GET" ? HttpClientRequest.get(path) : HttpClientRequest.post(path)
    const token = options.token === undefined ? "token-h1" : options.token
    if (token !== null) request = HttpClientRequest.bearerToken(request, token)
    const protocol = options.protocol === undefined ? PROTOCOL_HEADER_VALUE : options.protocol
    if (protocol !== null) request = HttpClientRequest.setHeader(request, PROTOCOL_HEADER, protocol)
    if (options.headers !== undefined) request = HttpClientRequest.setHeaders(request, options.headers)
    if (options.body !== undefined) request = HttpClientRequest.bodyText(request, options.body, options.contentType ?? "application/json")
    const response = yield* client.execute(request)
    const text = yield* response.text
    let body: unknown = null
    try {
      body = text === "" ? null : JSON.parse(text)
    } catch {
      body = null
    }
    return { status: response.status, headers: response.headers, text, body } satisfies RawResponse
  }).pipe(Effect.scoped)

/** POSTs a JSON value. */
export const postJson = (path: string, value: unknown, options: RawOptions = {}) => raw("POST", path, { ...options, body: JSON.stringify(value) })

/** Everything a request could change: host records, rollouts, dispatches, quarantines, the event log. */
export const snapshot = Effect.gen(function* () {
  const reducer = yield* CpReducer
  yield* reducer.barrier
  yield* Effect.flatMap(EventLogWriter, (w) => w.flush)
  const storage = yield* Storage
  const eventLog = yield* EventLog
  return {
    records: yield* storage.allHostRecords,
    rollouts: yield* storage.listRollouts(),
    dispatches: [...(yield* storage.dispatchesForHost("h1" as HostId)), ...(yield* storage.dispatchesForHost("h2" as HostId))],
    quarantines: yield* storage.listQuarantines,
    lastLogSeq: yield* eventLog.lastSeq
  }
})

/** The wire JSON of an agent event envelope. */
export const envelope = (event: Record<string, unknown>, hostname = "h1", rolloutId: string = RID) => ({ hostname, rolloutId, event })

/** The wire JSON of h1's DispatchAck at seq 1. */
export const dispatchAck = (seq = 1) => ({ kind: "DispatchAck", currentClosureAtDispatch: "prior-closure", receivedAt: "2026-05-16T01:00:10Z", seq })

/** A tracer that records the name of every span it starts (spans are otherwise inert). */
export const recordingTracer = (names: Array<string>): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      names.push(name)
      const attributes = new Map<string, unknown>()
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${names.length}`,
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links,
        sampled: true,
        kind,
        end: () => {},
        attribute: (key, value) => void attributes.set(key, value),
        event: () => {},
        addLinks: () => {}
      }
      return span
    },
    context: (f) => f()
  })
