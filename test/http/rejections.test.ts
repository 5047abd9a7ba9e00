/**
 * Bad requests (spec §3.1/§3.3 and the table): each is answered with its status and
 * typed body, and none changes the CP's state (records, rollouts, dispatches, quarantines, the
 * event log are identical before and after). The whole table runs twice: with the agent fast path
 * in front of the HttpApi (the default) and with everything on the HttpApi (`fastPath: false`).
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Either, Stream } from "effect"
import type { CpHttpOptions } from "../../src/cp/http/index.js"
import { dispatchAck, envelope, postJson, publish, raw, type RawOptions, RID, snapshot, withServer as withServerOf } from "./support.js"

interface Case {
  readonly name: string
  readonly send: ReturnType<typeof raw>
  readonly status: number
  readonly tag: string
  readonly check?: (body: Record<string, unknown>) => void
}

const EVENTS = "/v1/agent/events"
const ack = envelope(dispatchAck())
const post = (value: unknown, options: RawOptions = {}) => postJson(EVENTS, value, options)

const cases: ReadonlyArray<Case> = [
  {
    name: "malformed JSON",
    send: raw("POST", EVENTS, { body: '{"hostname": "h1",' }),
    status: 400,
    tag: "BadRequest",
    check: (b) => expect(b.reason).toMatch(/malformed JSON/)
  },
  {
    name: "empty body",
    send: raw("POST", EVENTS, { body: "" }),
    status: 400,
    tag: "BadRequest"
  },
  {
    name: "schema-invalid body (seq missing)",
    send: post(envelope({ kind: "DispatchAck", currentClosureAtDispatch: "c", receivedAt: "2026-05-16T01:00:10Z" })),
    status: 400,
    tag: "BadRequest",
    check: (b) => expect(b.reason).toMatch(/seq/)
  },
  {
    name: "schema-invalid body (timestamp not RFC 3339)",
    send: post(envelope({ ...dispatchAck(), receivedAt: "yesterday" })),
    status: 400,
    tag: "BadRequest"
  },
  {
    name: "unknown event kind",
    send: post(envelope({ kind: "Teleported", seq: 1 })),
    status: 400,
    tag: "BadRequest",
    check: (b) => expect(b.reason).toMatch(/Teleported|kind/)
  },
  {
    name: "not JSON content type",
    send: raw("POST", EVENTS, { body: "hostname=h1", contentType: "application/x-www-form-urlencoded" }),
    status: 400,
    tag: "BadRequest",
    check: (b) => expect(b.reason).toMatch(/content-type/)
  },
  {
    name: "oversized body",
    send: post({ ...ack, padding: "x".repeat(8 * 1024) }),
    status: 413,
    tag: "PayloadTooLarge",
    check: (b) => expect(b.limitBytes).toBe(4096)
  },
  {
    name: "an agent reporting for another host",
    send: post(envelope(dispatchAck(), "h2")),
    status: 403,
    tag: "Forbidden",
    check: (b) => expect(b.reason).toMatch(/h1.*h2/)
  },
  {
    name: "a heartbeat for another host",
    send: postJson("/v1/agent/heartbeat", { hostname: "h2", at: "2026-05-16T01:00:10Z" }),
    status: 403,
    tag: "Forbidden"
  },
  {
    name: "another protocol version",
    send: post(ack, { protocol: "2" }),
    status: 426,
    tag: "ProtocolMismatch",
    check: (b) => expect(b).toMatchObject({ expected: 1, got: 2 })
  },
  {
    name: "a protocol header that is not an integer",
    send: post(ack, { protocol: "one" }),
    status: 400,
    tag: "BadRequest",
    check: (b) => expect(b.reason).toMatch(/x-nixfleet-protocol/)
  },
  {
    name: "no bearer token",
    send: post(ack, { token: null }),
    status: 401,
    tag: "Unauthorized"
  },
  {
    name: "an unknown bearer token",
    send: post(ack, { token: "token-h9" }),
    status: 401,
    tag: "Unauthorized"
  },
  {
    name: "no token on an operator route",
    send: raw("GET", "/v1/fleet/status", { token: null }),
    status: 401,
    tag: "Unauthorized"
  },
  {
    name: "an unknown rollout",
    send: post(envelope(dispatchAck(), "h1", "stable@0000")),
    status: 404,
    tag: "NotFound",
    check: (b) => expect(b.reason).toMatch(/stable@0000/)
  },
  {
    name: "an event illegal for the recorded state (Converged while Pending)",
    send: post(envelope({ kind: "Converged", convergedAt: "2026-05-16T02:00:00Z", currentClosure: "h1-closure", seq: 1 })),
    status: 409,
    tag: "Conflict",
    check: (b) => expect(b.error).toMatchObject({ _tag: "IllegalForState", from: "Pending", event: "RemoteConverged" })
  },
  {
    name: "a bad dispatch wait",
    send: raw("GET", "/v1/agent/dispatch?wait=soon"),
    status: 400,
    tag: "BadRequest"
  },
  {
    name: "an unknown route",
    send: raw("GET", "/v1/nothing-here"),
    status: 404,
    tag: "NotFound"
  }
]

for (const fastPath of [true, false]) describe(`HTTP rejections change nothing (fastPath: ${fastPath})`, () => {
  const withServer = (options: { readonly http?: CpHttpOptions } = {}) => withServerOf({ http: { ...options.http, fastPath } })
  for (const c of cases) {
    it.effect(`${c.name} → ${c.status} ${c.tag}`, () =>
      Effect.gen(function* () {
        yield* publish()
        const before = yield* snapshot
        const response = yield* c.send
        expect(response.status).toBe(c.status)
        const body = response.body as Record<string, unknown>
        expect(body._tag).toBe(c.tag)
        c.check?.(body)
        expect(yield* snapshot).toEqual(before)
      }).pipe(withServer({ http: { maxBodyBytes: 4096 } }))
    )
  }

  it.effect("a stale seq (an event already applied) → 204, idempotent, nothing changes", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* post(ack)).status).toBe(204)
      const before = yield* snapshot
      expect(before.records.find((r) => r.hostname === "h1" && r.rolloutId === RID)?.lastEventSeq).toBe(1)
      const again = yield* post(ack)
      expect(again.status).toBe(204)
      expect(again.text).toBe("")
      expect(yield* snapshot).toEqual(before)
    }).pipe(withServer())
  )

  it.effect("an oversized chunked body (no content-length) is cut off at the limit and changes nothing", () =>
    Effect.gen(function* () {
      yield* publish()
      const before = yield* snapshot
      const client = yield* HttpClient.HttpClient
      const chunk = new TextEncoder().encode("x".repeat(1024))
      const request = HttpClientRequest.post("/v1/agent/events").pipe(
        HttpClientRequest.bearerToken("token-h1"),
        HttpClientRequest.bodyStream(Stream.make(...Array.from({ length: 16 }, () => chunk)), { contentType: "application/json" })
      )
      const result = yield* Effect.either(Effect.scoped(Effect.flatMap(client.execute(request), (r) => Effect.succeed(r.status))))
      // The server stops reading past the limit and closes the stream: the client sees either the
      // 413 or a reset connection, never a success.
      if (Either.isRight(result)) expect(result.right).toBe(413)
      else expect(result.left._tag).toBe("RequestError")
      expect(yield* snapshot).toEqual(before)
    }).pipe(withServer({ http: { maxBodyBytes: 4096 } }))
  )

  it.effect("strict protocol: a missing header → 400 BadRequest; present → accepted", () =>
    Effect.gen(function* () {
      yield* publish()
      const before = yield* snapshot
      const missing = yield* post(ack, { protocol: null })
      expect(missing.status).toBe(400)
      expect(missing.body).toMatchObject({ _tag: "BadRequest", reason: expect.stringMatching(/strict/) })
      expect(yield* snapshot).toEqual(before)
      expect((yield* post(ack)).status).toBe(204)
    }).pipe(withServer({ http: { strictProtocol: true } }))
  )

  it.effect("a missing protocol header is allowed when not strict", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* post(ack, { protocol: null })).status).toBe(204)
    }).pipe(withServer())
  )

  it.effect("before the CP is ready every /v1 route answers 503 with Retry-After: 30 and changes nothing", () =>
    Effect.gen(function* () {
      const before = yield* snapshot
      for (const response of [yield* post(ack), yield* raw("GET", "/v1/agent/dispatch?wait=0"), yield* raw("GET", "/v1/fleet/status")]) {
        expect(response.status).toBe(503)
        expect(response.headers["retry-after"]).toBe("30")
        expect(response.body).toMatchObject({ _tag: "Unavailable", retryAfterSeconds: 30 })
      }
      expect(yield* snapshot).toEqual(before)
    }).pipe(withServer())
  )
})
