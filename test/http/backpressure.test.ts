/**
 * Back-pressure (spec §2.7): a full reducer queue answers 503 with Retry-After at once and drops
 * nothing it accepted; a reducer that does not reply within 5 s (TestClock) answers 503.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Ref, TestClock } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { CpReducer, type CpReducerService, DispatchNotifier, layer as controlPlaneLayer } from "../../src/cp/index.js"
import type { HostId } from "../../src/domain/index.js"
import { EventLog, Storage, type StorageService } from "../../src/ports/index.js"
import { T0 } from "../planner/builders.js"
import { dispatchAck, envelope, ioPause, postJson, publish, raw, RID, serverOn, snapshot, stillWaiting, VERIFIED } from "./support.js"

/** Blocks the first storage transaction after `armed` is set, until `open` completes. */
interface Gate {
  readonly armed: Ref.Ref<boolean>
  readonly entered: Deferred.Deferred<void>
  readonly open: Deferred.Deferred<void>
}

const gatedMemory = (gate: Gate) =>
  Layer.effectContext(
    Effect.gen(function* () {
      const base = yield* Storage
      const eventLog = yield* EventLog
      const storage: StorageService = {
        ...base,
        transaction: (effect) =>
          Effect.zipRight(
            Effect.whenEffect(Effect.zipRight(Deferred.succeed(gate.entered, undefined), Deferred.await(gate.open)), Ref.getAndSet(gate.armed, false)),
            base.transaction(effect)
          )
      }
      return Context.make(Storage, storage).pipe(Context.add(EventLog, eventLog))
    })
  ).pipe(Layer.provide(layerMemory))

const started = (seq: number) => ({ kind: "ActivationStarted", startedAt: "2026-05-16T01:00:20Z", switchMethod: "switch", seq })

describe("back-pressure", () => {
  it.effect("a full reducer queue → 503 + Retry-After; the accepted events are still applied, the refused one is not", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const gate: Gate = { armed: yield* Ref.make(false), entered: yield* Deferred.make<void>(), open: yield* Deferred.make<void>() }
      // Capacity 1: one input in flight inside the (blocked) transaction, one waiting, the next refused.
      const core = controlPlaneLayer({ planInterval: "15 seconds", queueCapacity: 1 }).pipe(Layer.provideMerge(gatedMemory(gate)))
      yield* Effect.gen(function* () {
        yield* publish()
        yield* Ref.set(gate.armed, true)
        const first = yield* Effect.fork(postJson("/v1/agent/events", envelope(dispatchAck())))
        yield* Deferred.await(gate.entered)
        const second = yield* Effect.fork(postJson("/v1/agent/events", envelope(dispatchAck(), "h2"), { token: "token-h2" }))
        const reducer = yield* CpReducer
        while ((yield* reducer.backlog) < 1) yield* ioPause
        const refused = yield* postJson("/v1/agent/events", envelope(started(2)))
        expect(refused.status).toBe(503)
        expect(refused.headers["retry-after"]).toBe("1")
        expect(refused.body).toEqual({ _tag: "Unavailable", reason: "reducer queue full", retryAfterSeconds: 1 })
        expect(yield* stillWaiting(first)).toBe(true)

        yield* Deferred.succeed(gate.open, undefined)
        expect((yield* Fiber.join(first)).status).toBe(204)
        expect((yield* Fiber.join(second)).status).toBe(204)
        const after = yield* snapshot
        expect(after.records.map((r) => [r.hostname, r.state, r.lastEventSeq])).toEqual([
          ["h1", "Activating", 1],
          ["h2", "Activating", 1]
        ])
        const metrics = yield* raw("GET", "/metrics")
        expect(metrics.text).toContain('effect_fleet_agent_events_total{outcome="queue_full"} 1')
        expect(metrics.text).toContain('effect_fleet_agent_events_total{outcome="applied"} 2')
      }).pipe(Effect.provide(serverOn(core)))
    })
  )

  /** A reducer that accepts everything and never replies. */
  const silentReducer = Layer.succeed(CpReducer, {
    offer: () => Effect.succeed(true),
    state: Effect.succeed({ manifests: VERIFIED, quarantines: new Map(), lastHeartbeatAt: new Map(), lastReportedClosure: new Map(), lastPlanAt: null }),
    backlog: Effect.succeed(0),
    barrier: Effect.void
  } satisfies CpReducerService)
  const silentCore = Layer.mergeAll(silentReducer, DispatchNotifier.layer, layerMemory)

  for (const [route, body] of [
    ["/v1/agent/events", envelope(dispatchAck())],
    ["/v1/agent/heartbeat", { hostname: "h1", at: "2026-05-16T01:00:10Z" }]
  ] as const) {
    it.effect(`${route}: no reply within 5 s → 503 + Retry-After, not before`, () =>
      Effect.gen(function* () {
        const waiting = yield* Effect.fork(postJson(route, body))
        expect(yield* stillWaiting(waiting)).toBe(true)
        yield* TestClock.adjust("4999 millis")
        expect(yield* stillWaiting(waiting)).toBe(true)
        yield* TestClock.adjust("1 millis")
        const response = yield* Fiber.join(waiting)
        expect(response.status).toBe(503)
        expect(response.headers["retry-after"]).toBe("1")
        expect(response.body).toMatchObject({ _tag: "Unavailable", reason: expect.stringMatching(/did not reply within 5s/) })
        expect(yield* Effect.flatMap(Storage, (s) => s.loadHostRecord(RID, "h1" as HostId))).toMatchObject({ _tag: "None" })
      }).pipe(Effect.provide(serverOn(silentCore)))
    )
  }
})
