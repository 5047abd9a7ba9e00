/**
 * The operator and health routes: fleet and rollout status, the trace in seq order with paging,
 * explain (every gate's verdict, read-only), Prometheus metrics, healthz/readyz, the operator
 * token, the generated OpenAPI document, and the rejection log.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, Redacted } from "effect"
import { HOST_STATES } from "../../src/domain/index.js"
import { OpenApi } from "@effect/platform"
import { GATES } from "../../src/planner/evaluate.js"
import { FleetApi } from "../../src/wire/index.js"
import { dispatchAck, envelope, postJson, publish, raw, RID, snapshot, withServer } from "./support.js"

const OPERATOR = "operator-secret"

describe("operator routes", () => {
  it.effect("fleet status and rollout status count hosts per state", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      const fleet = yield* raw("GET", "/v1/fleet/status")
      expect(fleet.status).toBe(200)
      expect(fleet.body).toMatchObject({
        ready: true,
        rollouts: [{ rolloutId: RID, state: "Active", currentWave: 0, hostCounts: { Pending: 1, Activating: 1, Converged: 0 } }]
      })
      const rollout = yield* raw("GET", `/v1/rollouts/${RID}`)
      expect(rollout.status).toBe(200)
      const body = rollout.body as { hosts: ReadonlyArray<{ hostname: string; state: string }>; hostCounts: Record<string, number> }
      expect(body.hosts.map((h) => [h.hostname, h.state])).toEqual([
        ["h1", "Activating"],
        ["h2", "Pending"]
      ])
      expect(Object.keys(body.hostCounts).sort()).toEqual([...HOST_STATES].sort())
      expect((yield* raw("GET", "/v1/rollouts/stable@ffff")).body).toMatchObject({ _tag: "NotFound" })
    }).pipe(withServer())
  )

  it.effect("the trace lists the rollout's log in seq order and pages with limit/afterSeq", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      yield* snapshot
      const all = (yield* raw("GET", `/v1/rollouts/${RID}/trace`)).body as { entries: ReadonlyArray<{ seq: number; kind: string }>; nextAfterSeq?: number }
      const seqs = all.entries.map((e) => e.seq)
      expect(seqs.length).toBeGreaterThan(2)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      expect(all.entries.map((e) => e.kind)).toContain("agent_event")
      expect(all.nextAfterSeq).toBeUndefined()

      const page1 = (yield* raw("GET", `/v1/rollouts/${RID}/trace?limit=2`)).body as { entries: ReadonlyArray<{ seq: number }>; nextAfterSeq: number }
      expect(page1.entries.map((e) => e.seq)).toEqual(seqs.slice(0, 2))
      expect(page1.nextAfterSeq).toBe(seqs[1])
      const page2 = (yield* raw("GET", `/v1/rollouts/${RID}/trace?limit=2&afterSeq=${page1.nextAfterSeq}`)).body as {
        entries: ReadonlyArray<{ seq: number }>
      }
      expect(page2.entries.map((e) => e.seq)).toEqual(seqs.slice(2, 4))
      expect((yield* raw("GET", "/v1/rollouts/stable@ffff/trace")).status).toBe(404)
      expect((yield* raw("GET", `/v1/rollouts/${RID}/trace?limit=0`)).status).toBe(400)
    }).pipe(withServer())
  )

  it.effect("explain gives all six gates' verdicts and changes nothing", () =>
    Effect.gen(function* () {
      yield* publish()
      const before = yield* snapshot
      const response = yield* raw("GET", "/v1/hosts/h2/explain")
      expect(response.status).toBe(200)
      expect(response.body).toMatchObject({ host: "h2", rolloutId: RID, state: "Pending", considered: true })
      const body = response.body as { verdicts: ReadonlyArray<{ gate: string; block?: unknown }> }
      expect(body.verdicts.map((v) => v.gate)).toEqual(GATES.map((g) => g.name))
      expect(yield* snapshot).toEqual(before)
      expect((yield* raw("GET", "/v1/hosts/nobody/explain")).body).toMatchObject({ _tag: "NotFound" })
    }).pipe(withServer())
  )

  it.effect("metrics: event counters by outcome, reducer backlog, hosts and rollouts per state", () =>
    Effect.gen(function* () {
      yield* publish()
      yield* postJson("/v1/agent/events", envelope(dispatchAck()))
      yield* postJson("/v1/agent/events", envelope(dispatchAck()))
      yield* postJson("/v1/agent/events", envelope({ kind: "ActivationStarted", startedAt: "2026-05-16T01:00:20Z", switchMethod: "s", seq: 1 }, "h2"), {
        token: "token-h2"
      })
      const metrics = yield* raw("GET", "/metrics", { protocol: null })
      expect(metrics.status).toBe(200)
      expect(metrics.headers["content-type"]).toMatch(/^text\/plain/)
      for (const line of [
        'effect_fleet_agent_events_total{outcome="applied"} 1',
        'effect_fleet_agent_events_total{outcome="duplicate"} 1',
        'effect_fleet_agent_events_total{outcome="rejected"} 1',
        'effect_fleet_http_rejections_total{status="409"} 1',
        "effect_fleet_ready 1",
        "effect_fleet_reducer_backlog 0",
        'effect_fleet_host_records{state="Activating"} 1',
        'effect_fleet_host_records{state="Pending"} 1',
        'effect_fleet_rollouts{state="Active"} 1'
      ]) {
        expect(metrics.text).toContain(line)
      }
      expect((yield* raw("GET", "/metrics", { token: null })).status).toBe(401)
    }).pipe(withServer())
  )

  it.effect("the operator token reads operator routes but acts for no host", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* raw("GET", "/v1/fleet/status", { token: OPERATOR })).status).toBe(200)
      expect((yield* raw("GET", "/v1/fleet/status", { token: "wrong" })).status).toBe(401)
      const agent = yield* postJson("/v1/agent/events", envelope(dispatchAck()), { token: OPERATOR })
      expect(agent.status).toBe(401)
    }).pipe(withServer({ http: { operatorToken: Redacted.make(OPERATOR) } }))
  )

  it.effect("every rejection is logged as a warning with its typed error", () => {
    const lines: Array<string> = []
    const capture = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") lines.push(JSON.stringify(message))
    })
    return Effect.gen(function* () {
      yield* publish()
      yield* postJson("/v1/agent/events", envelope(dispatchAck(), "h2"))
      expect(lines.some((l) => l.includes("request rejected") && l.includes("403") && l.includes("Forbidden"))).toBe(true)
    }).pipe(withServer(), Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
  })
})

describe("health and OpenAPI", () => {
  it.effect("healthz needs no credentials; readyz is 503 with a reason until manifests are verified", () =>
    Effect.gen(function* () {
      const health = yield* raw("GET", "/healthz", { token: null, protocol: null })
      expect(health.status).toBe(200)
      expect(health.body).toMatchObject({ ok: true })
      const notReady = yield* raw("GET", "/readyz", { token: null, protocol: null })
      expect(notReady.status).toBe(503)
      expect(notReady.headers["retry-after"]).toBe("30")
      expect(notReady.body).toMatchObject({ _tag: "Unavailable", reason: expect.stringMatching(/awaiting verified manifests/) })
      yield* publish()
      const ready = yield* raw("GET", "/readyz", { token: null, protocol: null })
      expect(ready.status).toBe(200)
      expect(ready.body).toMatchObject({ ready: true })
    }).pipe(withServer())
  )

  it.effect("/openapi.json is the document generated from FleetApi and lists every route", () =>
    Effect.gen(function* () {
      const response = yield* raw("GET", "/openapi.json", { token: null, protocol: null })
      expect(response.status).toBe(200)
      const doc = response.body as { paths: Record<string, Record<string, unknown>> }
      expect(doc).toEqual(JSON.parse(JSON.stringify(OpenApi.fromApi(FleetApi))))
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          "/healthz",
          "/metrics",
          "/readyz",
          "/v1/agent/dispatch",
          "/v1/agent/events",
          "/v1/agent/heartbeat",
          "/v1/fleet.resolved",
          "/v1/fleet/status",
          "/v1/hosts/{hostname}/explain",
          "/v1/rollouts/{rolloutId}",
          "/v1/rollouts/{rolloutId}/manifest",
          "/v1/rollouts/{rolloutId}/trace"
        ].sort()
      )
      expect(Object.keys(doc.paths["/v1/agent/events"] ?? {})).toEqual(["post"])
    }).pipe(withServer())
  )
})
