/**
 * The agent routes end to end over loopback HTTP, through the typed client the agent uses:
 * events answered 204 only once persisted, heartbeat bootstrap snapshots, the dispatch long-poll
 * (wakes on a kick, 204 at its deadline on the TestClock, wait clamped to 60 s) and the signed
 * manifest.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { DispatchNotifier } from "../../src/cp/index.js"
import type { ClosureHash, HostId } from "../../src/domain/index.js"
import { ts } from "../../src/domain/index.js"
import { Storage } from "../../src/ports/index.js"
import { T0 } from "../planner/builders.js"
import { apiClient, dispatchAck, envelope, FLEET_BYTES, MANIFEST_BYTES, postJson, publish, raw, RID, SIGNATURE_BYTES, stillWaiting, VERIFIED, withServer } from "./support.js"

const h1 = "h1" as HostId
const record = (host: HostId) => Effect.flatMap(Storage, (s) => s.loadHostRecord(RID, host)).pipe(Effect.map(Option.getOrThrow))


describe("POST /v1/agent/events", () => {
  it.effect("204 means applied and persisted: the record has moved when the response arrives", () =>
    Effect.gen(function* () {
      yield* publish()
      const client = yield* apiClient
      yield* client.agent.events({ payload: { hostname: h1, rolloutId: RID, event: { _tag: "DispatchAck", currentClosureAtDispatch: "prior" as ClosureHash, receivedAt: ts("2026-05-16T01:00:10Z"), seq: 1 } } })
      const r = yield* record(h1)
      expect(r.state).toBe("Activating")
      expect(r.lastEventSeq).toBe(1)
      expect(r.currentClosureAtDispatch).toBe("prior")
    }).pipe(withServer())
  )

  it.effect("the typed client decodes a 409 into Conflict carrying the TransitionError", () =>
    Effect.gen(function* () {
      yield* publish()
      const client = yield* apiClient
      const error = yield* client.agent
        .events({
          payload: { hostname: h1, rolloutId: RID, event: { _tag: "ActivationStarted", startedAt: ts("2026-05-16T01:00:10Z"), switchMethod: "switch", seq: 1 } }
        })
        .pipe(Effect.flip)
      expect(error._tag).toBe("Conflict")
      if (error._tag === "Conflict") expect(error.error._tag).toBe("IllegalForState")
      expect((yield* record(h1)).lastEventSeq).toBe(0)
    }).pipe(withServer())
  )
})

describe("POST /v1/agent/heartbeat", () => {
  it.effect("without a rollout id it returns the host's active records as bootstrap snapshots", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      const client = yield* apiClient
      const reply = yield* client.agent.heartbeat({ payload: { hostname: h1, rolloutId: null, currentClosure: null, at: ts("2026-05-16T01:01:00Z") } })
      expect(reply.receivedAt).toBe(T0)
      expect(reply.replayFrom).toBeNull()
      expect(reply.bootstrapRollouts).toHaveLength(1)
      expect(reply.bootstrapRollouts[0]).toMatchObject({ rolloutId: RID, hostname: "h1", state: "Activating", lastEventSeq: 1, targetClosure: "h1-closure" })
    }).pipe(withServer())
  )

  it.effect("with a rollout id there is no bootstrap; replayFrom reports the CP's seq when the closures differ", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      const response = yield* postJson("/v1/agent/heartbeat", { hostname: "h1", rolloutId: RID, currentClosure: "something-else", at: "2026-05-16T01:01:00Z" })
      expect(response.status).toBe(200)
      expect(response.body).toEqual({ receivedAt: "2026-05-16T01:00:00.000Z", replayFrom: 1, bootstrapRollouts: [] })
    }).pipe(withServer())
  )
})

describe("GET /v1/agent/dispatch", () => {
  it.effect("returns the queued dispatch at once (200), then long-polls and wakes on a kick", () =>
    Effect.gen(function* () {
      yield* publish()
      const client = yield* apiClient
      const first = yield* client.agent.dispatch({ urlParams: { wait: 30 } })
      expect(first).toMatchObject({ hostname: "h1", rolloutId: RID, targetClosure: "h1-closure" })

      const waiting = yield* Effect.fork(client.agent.dispatch({ urlParams: { wait: 30 } }))
      expect(yield* stillWaiting(waiting)).toBe(true)
      // The clock does not move: only the kick can wake the poll.
      const storage = yield* Storage
      yield* storage.enqueueDispatch({ hostname: h1, rolloutId: RID, targetClosure: "h1-closure-2" as ClosureHash, soakDueAt: T0, enqueuedAt: T0 })
      yield* Effect.flatMap(DispatchNotifier, (n) => n.kick(h1))
      const woke = yield* Fiber.join(waiting)
      expect(woke).toMatchObject({ hostname: "h1", targetClosure: "h1-closure-2" })
      expect(yield* storage.dispatchesForHost(h1)).toEqual([])
    }).pipe(withServer())
  )

  it.effect("a kick for another host does not answer the poll", () =>
    Effect.gen(function* () {
      yield* publish()
      const storage = yield* Storage
      yield* storage.takeDispatchForHost(h1)
      const waiting = yield* Effect.fork(raw("GET", "/v1/agent/dispatch?wait=30"))
      expect(yield* stillWaiting(waiting)).toBe(true)
      yield* Effect.flatMap(DispatchNotifier, (n) => n.kick("h2" as HostId))
      expect(yield* stillWaiting(waiting)).toBe(true)
      yield* Fiber.interrupt(waiting)
    }).pipe(withServer())
  )

  it.effect("answers 204 at its deadline (TestClock), and clamps wait to 60 s", () =>
    Effect.gen(function* () {
      yield* publish()
      // Acked, so plan ticks (every 15 s) do not queue h1 again while the clock moves.
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      yield* Effect.flatMap(Storage, (s) => s.takeDispatchForHost(h1))
      const waiting = yield* Effect.fork(raw("GET", "/v1/agent/dispatch?wait=600"))
      expect(yield* stillWaiting(waiting)).toBe(true)
      yield* TestClock.adjust("59 seconds")
      expect(yield* stillWaiting(waiting)).toBe(true)
      yield* TestClock.adjust("1 second")
      const response = yield* Fiber.join(waiting)
      expect(response.status).toBe(204)
      expect(response.text).toBe("")
    }).pipe(withServer())
  )

  it.effect("maxDispatchWaitSeconds raises the clamp: wait=600 answers 204 after 300 s, not 60 s", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* postJson("/v1/agent/events", envelope(dispatchAck()))).status).toBe(204)
      yield* Effect.flatMap(Storage, (s) => s.takeDispatchForHost(h1))
      const waiting = yield* Effect.fork(raw("GET", "/v1/agent/dispatch?wait=600"))
      yield* TestClock.adjust("299 seconds")
      expect(yield* stillWaiting(waiting)).toBe(true)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(waiting)).status).toBe(204)
    }).pipe(withServer({ http: { maxDispatchWaitSeconds: 300 } }))
  )

  it.effect("the hostname comes only from the credentials", () =>
    Effect.gen(function* () {
      yield* publish()
      const response = yield* raw("GET", "/v1/agent/dispatch?wait=0", { token: "token-h2" })
      expect(response.status).toBe(200)
      expect(response.body).toMatchObject({ hostname: "h2", rolloutId: RID, targetClosure: "h2-closure" })
    }).pipe(withServer())
  )
})

describe("GET /v1/rollouts/:rolloutId/manifest", () => {
  it.effect("serves the verified bytes and signature unchanged (base64 on the wire)", () =>
    Effect.gen(function* () {
      yield* publish()
      const client = yield* apiClient
      const signed = yield* client.agent.manifest({ path: { rolloutId: RID } })
      expect(signed.manifest).toEqual(MANIFEST_BYTES)
      expect(signed.signature).toEqual(SIGNATURE_BYTES)
      const wire = yield* raw("GET", `/v1/rollouts/${encodeURIComponent(RID)}/manifest`)
      expect(wire.body).toEqual({ rolloutId: RID, manifest: Buffer.from(MANIFEST_BYTES).toString("base64"), signature: Buffer.from(SIGNATURE_BYTES).toString("base64") })
    }).pipe(withServer())
  )

  it.effect("GET /v1/fleet.resolved serves the verified fleet bytes and signature; 404 when the CP holds none", () =>
    Effect.gen(function* () {
      yield* publish()
      const client = yield* apiClient
      const fleet = yield* client.agent.fleetResolved()
      expect(fleet.artifact).toEqual(FLEET_BYTES)
      expect(fleet.signature).toEqual(SIGNATURE_BYTES)
      const { fleetArtifact: _, ...withoutFleet } = VERIFIED
      yield* publish(withoutFleet)
      expect((yield* raw("GET", "/v1/fleet.resolved")).body).toMatchObject({ _tag: "NotFound" })
    }).pipe(withServer())
  )

  it.effect("404 for a rollout without a verified manifest", () =>
    Effect.gen(function* () {
      yield* publish()
      const response = yield* raw("GET", "/v1/rollouts/stable@ffff/manifest")
      expect(response.status).toBe(404)
      expect(response.body).toMatchObject({ _tag: "NotFound" })
    }).pipe(withServer())
  )
})
