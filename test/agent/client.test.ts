/**
 * The ControlPlaneClient adapters: every CP answer maps to `CpRejected` or `CpUnavailable`
 * (never a defect); the HTTP client over a real loopback socket (bearer token, protocol header,
 * 503 with Retry-After before the CP is ready, 401 for a bad token, connection refused) and over
 * mutual TLS (client certificate, private CA); the in-process client's long-poll on the TestClock.
 */
import { HttpClientError, HttpClientRequest, HttpClientResponse, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Option, ParseResult, Redacted, Schema, Scope, TestClock } from "effect"
import { createServer } from "node:http"
import { layerBearerTokens } from "../../adapters/memory/agentAuth.js"
import { CpCredentials, layerHttpClient, layerInProcessClient, toCpError, verifyFleet } from "../../src/agent/index.js"
import { layerHttpsServer, layerMtls } from "../../src/cp/auth/index.js"
import { layerServe } from "../../src/cp/http/index.js"
import { type HostId, IllegalForState } from "../../src/domain/index.js"
import { ControlPlaneClient, CpRejected, CpUnavailable, isPermanentRejection } from "../../src/ports/index.js"
import { BadRequest, Conflict, Forbidden, NotFound, ProtocolMismatch, Unauthorized, Unavailable } from "../../src/wire/index.js"
import { cpLayer } from "../cp/support.js"
import { makeTestPki } from "../http/certs.js"
import { cpFor, publish, settle, smallFleet, START, tokenOf, withCp } from "./support.js"

const fleet = smallFleet(1)
const host = fleet.hosts[0]!

const response = (status: number, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(HttpClientRequest.get("http://cp.invalid/v1/x"), new Response(null, { status, headers }))

describe("toCpError", () => {
  it("maps typed 4xx bodies to CpRejected with their status, 503 to CpUnavailable with its Retry-After", () => {
    const illegal = new IllegalForState({ from: "Converged", event: "LocalActivate", rolloutId: "infra@x" as never, hostname: host })
    const cases: ReadonlyArray<readonly [unknown, string, number | null]> = [
      [new BadRequest({ reason: "bad" }), "CpRejected", 400],
      [new Unauthorized({ reason: "who" }), "CpRejected", 401],
      [new Forbidden({ reason: "not you" }), "CpRejected", 403],
      [new NotFound({ reason: "gone" }), "CpRejected", 404],
      [new Conflict({ error: illegal }), "CpRejected", 409],
      [new ProtocolMismatch({ expected: 1, got: 2 }), "CpRejected", 426],
      [new Unavailable({ reason: "busy", retryAfterSeconds: 7 }), "CpUnavailable", 7],
      [new HttpClientError.ResponseError({ request: response(500).request, response: response(500, { "retry-after": "9" }), reason: "Decode" }), "CpUnavailable", 9],
      [new HttpClientError.ResponseError({ request: response(418).request, response: response(418), reason: "Decode" }), "CpRejected", 418],
      [new HttpClientError.RequestError({ request: response(200).request, reason: "Transport", cause: new Error("ECONNREFUSED") }), "CpUnavailable", null],
      [new ParseResult.ParseError({ issue: new ParseResult.Type(Schema.String.ast, 1) }), "CpUnavailable", null],
      ["something else", "CpUnavailable", null]
    ]
    for (const [error, tag, number] of cases) {
      const mapped = toCpError(error)
      expect(mapped._tag).toBe(tag)
      expect(mapped._tag === "CpRejected" ? mapped.status : mapped.retryAfterSeconds).toBe(number)
    }
  })

  it("only refusals about the event itself are permanent: 400, 404, 409, 413 — not 401, 403, 426 or any unavailability", () => {
    const permanent = [400, 401, 403, 404, 409, 413, 426].filter((status) => isPermanentRejection(new CpRejected({ status, reason: "" })))
    expect(permanent).toEqual([400, 404, 409, 413])
    expect(isPermanentRejection(new CpUnavailable({ reason: "", retryAfterSeconds: null }))).toBe(false)
  })
})

/** The CP over plain HTTP on a loopback port (strict protocol header), and its URL. */
const loopbackCp = layerServe({ strictProtocol: true }).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
  Layer.provide(layerBearerTokens({ [tokenOf(host)]: host })),
  Layer.provideMerge(cpLayer())
)
const urlOf = Effect.map(HttpServer.HttpServer, (server) => (server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : ""))
const clientFor = (baseUrl: string, token: string) =>
  Effect.provide(ControlPlaneClient, layerHttpClient({ baseUrl, credentials: CpCredentials.BearerToken({ token: Redacted.make(token) }) }))
/** Sets the TestClock first: moving it after the CP started would replay every plan tick since 1970. */
const startingAt = (millis: number) => <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.zipRight(TestClock.setTime(millis), body)
const beat = (hostname: HostId) => ({ hostname, rolloutId: null, currentClosure: null, at: START as never })

describe("HTTP ControlPlaneClient", () => {
  it.effect("speaks the protocol to a strict CP: 503 + Retry-After before it is ready, then heartbeat and a fleet.resolved that verifies; a bad token is 401", () =>
    Effect.gen(function* () {
      const url = yield* urlOf
      const client = yield* clientFor(url, tokenOf(host))
      const early = yield* Effect.flip(client.heartbeat(beat(host)))
      expect(early._tag === "CpUnavailable" ? early.retryAfterSeconds : null).toBe(30)
      yield* publish(fleet)
      const reply = yield* client.heartbeat(beat(host))
      expect(reply.bootstrapRollouts.map((s) => [s.hostname, s.state])).toEqual([[host, "Pending"]])
      const signed = yield* client.fleetResolved
      expect(Either.isRight(verifyFleet(signed, fleet.trust, START as never, 3600))).toBe(true)
      const dispatch = yield* client.pollDispatch(0)
      expect(Option.map(dispatch, (d) => d.hostname)).toEqual(Option.some(host))
      const stranger = yield* clientFor(url, "not-a-token")
      const refused = yield* Effect.flip(stranger.heartbeat(beat(host)))
      expect(refused._tag === "CpRejected" ? refused.status : 0).toBe(401)
    }).pipe(Effect.provide(loopbackCp), startingAt(START))
  )

  it.effect("a CP that does not answer (connection refused) is CpUnavailable, not a defect", () =>
    Effect.gen(function* () {
      const client = yield* clientFor("http://127.0.0.1:1", tokenOf(host))
      const error = yield* Effect.flip(client.postEvent({ hostname: host, rolloutId: "infra@x" as never, event: { _tag: "Converged", convergedAt: START as never, currentClosure: "c" as never, seq: 1 } }))
      expect(error._tag).toBe("CpUnavailable")
    })
  )

  describe("over mutual TLS", () => {
    const pki = makeTestPki()
    const mtlsCp = layerServe().pipe(
      Layer.provideMerge(layerHttpsServer({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath, clientCaPath: pki.caPath, port: 0, host: "127.0.0.1" })),
      Layer.provide(layerMtls()),
      Layer.provideMerge(cpLayer())
    )
    const identity = pki.client(`agent-${host}.fleet.lab.internal`)

    it.effect("the client certificate proves the hostname; acting for another host is 403", () =>
      Effect.gen(function* () {
        yield* publish(fleet)
        const server = yield* HttpServer.HttpServer
        const port = server.address._tag === "TcpAddress" ? server.address.port : 0
        const client = yield* Effect.provide(
          ControlPlaneClient,
          layerHttpClient({
            baseUrl: `https://127.0.0.1:${port}`,
            caPem: pki.ca,
            credentials: CpCredentials.ClientCertificate({ certPem: identity.cert, keyPem: Redacted.make(identity.key) })
          })
        )
        const reply = yield* client.heartbeat(beat(host))
        expect(reply.bootstrapRollouts.map((s) => s.hostname)).toEqual([host])
        const other = yield* Effect.flip(client.heartbeat(beat("web-01" as HostId)))
        expect(other._tag === "CpRejected" ? other.status : 0).toBe(403)
      }).pipe(Effect.provide(mtlsCp), startingAt(START))
    )
  })
})

describe("in-process ControlPlaneClient", () => {
  const inProcess = Effect.provide(
    ControlPlaneClient,
    layerInProcessClient({ credentials: CpCredentials.BearerToken({ token: Redacted.make(tokenOf(host)) }) })
  )

  it.effect("the long-poll runs on the CP's clock: the queued dispatch at once, nothing until the wait is over, and a re-queue wakes a waiting poll", () =>
    Effect.gen(function* () {
      const client = yield* inProcess
      const first = yield* client.pollDispatch(60)
      expect(Option.map(first, (d) => d.rolloutId)).toEqual(Option.some(fleet.release.manifests[0]!.rolloutId))
      // Nothing is queued until the CP's next plan tick (15 s) re-queues the unacked dispatch.
      const short = yield* Effect.fork(client.pollDispatch(10))
      yield* settle
      yield* TestClock.adjust("9 seconds")
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(short))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(yield* Fiber.join(short)).toEqual(Option.none())
      const long = yield* Effect.fork(client.pollDispatch(60))
      yield* settle
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(Option.map(yield* Fiber.join(long), (d) => d.hostname)).toEqual(Option.some(host))
    }).pipe(withCp(fleet))
  )

  it.effect("once the CP's scope is closed, requests fail as unavailable (as a refused connection), never hang", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const cp = yield* Layer.buildWithScope(cpFor(fleet), scope)
      const client = yield* Effect.provide(inProcess, cp)
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(client.heartbeat(beat(host)))
      expect(error._tag).toBe("CpUnavailable")
    }).pipe(startingAt(START))
  )
})
