/**
 * The agent fast path (src/cp/http/fastPath.ts): it is the one answering `POST /v1/agent/events`
 * and `POST /v1/agent/heartbeat` (and nothing else), and it answers byte for byte what the HttpApi
 * path answers: the same request sequence against a server with the fast path and one without
 * gives the same statuses, bodies and headers, successes and refusals alike.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { makeBearerTokenAuth } from "../../adapters/memory/agentAuth.js"
import { LeanServerRequest } from "../../src/cp/http/index.js"
import { AgentAuth } from "../../src/ports/index.js"
import { T0 } from "../planner/builders.js"
import { cpLayer } from "../cp/support.js"
import { dispatchAck, envelope, postJson, publish, raw, type RawResponse, recordingTracer, serverOn, TOKENS } from "./support.js"

const EVENTS = "/v1/agent/events"
const HEARTBEAT = "/v1/agent/heartbeat"

/** Bearer-token auth that records, per request, whether it was handed the fast path's lean request. */
const recordingAuth = (seen: Array<{ readonly url: string; readonly lean: boolean }>) => {
  const inner = makeBearerTokenAuth(TOKENS)
  return Layer.succeed(AgentAuth, {
    authenticate: (request) => {
      seen.push({ url: request.url, lean: request instanceof LeanServerRequest })
      return inner.authenticate(request)
    }
  })
}

/** The comparable parts of an answer: status, body bytes and the headers the API defines. */
const answerOf = (r: RawResponse) => ({
  status: r.status,
  text: r.text,
  contentType: r.headers["content-type"] ?? null,
  retryAfter: r.headers["retry-after"] ?? null
})

const started = (seq: number) => ({ kind: "ActivationStarted", startedAt: "2026-05-16T01:00:20Z", switchMethod: "switch", seq })

/** A sequence of requests covering every answer of the two routes (run against a fresh server). */
const sequence = Effect.gen(function* () {
  const out: Array<readonly [string, ReturnType<typeof answerOf>]> = []
  const record = (name: string, r: RawResponse) => out.push([name, answerOf(r)])
  record("event before ready", yield* postJson(EVENTS, envelope(dispatchAck())))
  record("heartbeat before ready", yield* postJson(HEARTBEAT, { hostname: "h1", at: "2026-05-16T01:00:10Z" }))
  yield* publish()
  record("event", yield* postJson(EVENTS, envelope(dispatchAck())))
  record("duplicate", yield* postJson(EVENTS, envelope(dispatchAck())))
  record("next event, query string", yield* postJson(`${EVENTS}?via=test`, envelope(started(2))))
  record("boot heartbeat", yield* postJson(HEARTBEAT, { hostname: "h1", at: "2026-05-16T01:00:10Z" }))
  record("rollout heartbeat", yield* postJson(HEARTBEAT, { hostname: "h1", rolloutId: "stable@r1", currentClosure: "prior-closure", at: "2026-05-16T01:00:10Z" }))
  record("malformed", yield* raw("POST", EVENTS, { body: '{"hostname": "h1",' }))
  record("empty", yield* raw("POST", HEARTBEAT, { body: "" }))
  record("schema", yield* postJson(EVENTS, envelope({ kind: "DispatchAck", receivedAt: "2026-05-16T01:00:10Z" })))
  record("heartbeat schema", yield* postJson(HEARTBEAT, { hostname: "h1", at: "yesterday" }))
  record("content type", yield* raw("POST", EVENTS, { body: "{}", contentType: "text/plain" }))
  record("too large", yield* postJson(EVENTS, { ...envelope(dispatchAck(9)), padding: "x".repeat(8 * 1024) }))
  record("forbidden", yield* postJson(EVENTS, envelope(dispatchAck(), "h2")))
  record("forbidden heartbeat", yield* postJson(HEARTBEAT, { hostname: "h2", at: "2026-05-16T01:00:10Z" }))
  record("protocol 2", yield* postJson(EVENTS, envelope(dispatchAck()), { protocol: "2" }))
  record("protocol one", yield* postJson(HEARTBEAT, { hostname: "h1", at: "2026-05-16T01:00:10Z" }, { protocol: "one" }))
  record("no token", yield* postJson(EVENTS, envelope(dispatchAck()), { token: null }))
  record("no token, bad body", yield* postJson(EVENTS, { nothing: true }, { token: null }))
  record("unknown token", yield* postJson(HEARTBEAT, { hostname: "h1", at: "2026-05-16T01:00:10Z" }, { token: "token-h9" }))
  record("unknown rollout", yield* postJson(EVENTS, envelope(dispatchAck(), "h1", "stable@0000")))
  record("conflict", yield* postJson(EVENTS, envelope({ kind: "Converged", convergedAt: "2026-05-16T02:00:00Z", currentClosure: "h1-closure", seq: 7 })))
  record("trailing slash", yield* postJson(`${EVENTS}/`, envelope(started(3))))
  record("GET events", yield* raw("GET", EVENTS))
  return out
})

const runSequence = (fastPath: boolean, seen: Array<{ readonly url: string; readonly lean: boolean }> = []) =>
  Effect.zipRight(TestClock.setTime(T0), Effect.provide(sequence, serverOn(cpLayer(), { maxBodyBytes: 4096, fastPath }, recordingAuth(seen))))

describe("agent fast path", () => {
  it.effect("answers every request of the sequence exactly as the HttpApi path does", () =>
    Effect.gen(function* () {
      const fast = yield* runSequence(true)
      const api = yield* runSequence(false)
      expect(fast.map(([name]) => name)).toEqual(api.map(([name]) => name))
      for (const [i, [name, answer]] of fast.entries()) expect({ name, answer }).toEqual({ name, answer: api[i]?.[1] })
      // The sequence does reach every kind of answer.
      expect(new Set(fast.map(([, a]) => a.status))).toEqual(new Set([200, 204, 400, 401, 403, 404, 409, 413, 426, 503]))
    })
  )

  it.effect("takes exactly the two hot routes (lean request at the AgentAuth port); fastPath: false takes none", () =>
    Effect.gen(function* () {
      const seen: Array<{ readonly url: string; readonly lean: boolean }> = []
      yield* runSequence(true, seen)
      const lean = seen.filter((s) => s.lean).map((s) => s.url)
      expect(lean.length).toBeGreaterThan(0)
      for (const url of lean) expect(url.split("?")[0]).toMatch(/^\/v1\/agent\/(events|heartbeat)$/)
      // The trailing-slash spelling is routed by the HttpApi, which authenticates with its own request.
      expect(seen.some((s) => !s.lean && s.url === `${EVENTS}/`)).toBe(true)
      const off: Array<{ readonly url: string; readonly lean: boolean }> = []
      yield* runSequence(false, off)
      expect(off.length).toBeGreaterThan(0)
      expect(off.some((s) => s.lean)).toBe(false)
    })
  )

  /** The names of the spans started while a server answers one event. */
  const spansOfEvent = (traceRequests: boolean) => {
    const names: Array<string> = []
    const tracer = recordingTracer(names)
    return Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson(EVENTS, envelope(dispatchAck()))).status).toBe(204)
      return names
    }).pipe(
      Effect.provide(serverOn(cpLayer(), { traceRequests }).pipe(Layer.provide(Layer.setTracer(tracer)))),
      Effect.zipLeft(TestClock.setTime(T0))
    )
  }

  it.effect("opens the http.server POST span the platform would, only when traceRequests is on", () =>
    Effect.gen(function* () {
      expect(yield* spansOfEvent(true)).toContain("http.server POST")
      const untraced = yield* spansOfEvent(false)
      expect(untraced).toContain("http.client POST")
      expect(untraced).not.toContain("http.server POST")
    })
  )
})
