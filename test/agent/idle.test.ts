/**
 * Idle agents do not wake: the advance ticker ticks only on its grid at instants where a record
 * can advance (and then exactly as an every-interval ticker would), the drainer sleeps until a
 * kick, and a probe ticker stops once its record has left Soaking.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, FastCheck as fc, Fiber, Queue, Ref, TestClock } from "effect"
import { advanceDueAt, advanceTicker } from "../../src/agent/workers/advance.js"
import { makeDrainer } from "../../src/agent/workers/drainer.js"
import { type AgentInput, type AgentState } from "../../src/agent/index.js"
import { makeMemoryOutboundQueue } from "../../adapters/memory/index.js"
import type { HostEvent, HostRolloutState } from "../../src/domain/index.js"
import { advanceTick, step } from "../../src/machine/index.js"
import { ProbeRunner } from "../../src/ports/index.js"
import { at, event, pending, T0 } from "../support/host.js"
import { bothIn, launch, rolloutOf, runFor, runUntil, simulatedHost, smallFleet, withCp } from "./support.js"

/** A Pending record taken through `events` by step() (each must be legal). */
const through = (events: ReadonlyArray<HostEvent>): HostRolloutState => {
  let record = pending()
  for (const e of events) record = Either.getOrThrow(step(record, e, T0, { onHealthFailure: "halt" })).state
  return record
}

/** A Soaking record: soak due at `soakSeconds`, optionally a failing enforce probe since `failedSince`, optionally on the wrong closure. */
const soaking = (soakSeconds: number, failedSince: number | null, wrongClosure: boolean, passLater: boolean): HostRolloutState => {
  const completed = { ...event("LocalActivationCompleted", 2), ...(wrongClosure ? { observedCurrentClosure: "other" } : {}) } as HostEvent
  const events: Array<HostEvent> = [event("LocalActivate", 1), completed]
  if (failedSince !== null) {
    events.push({ ...event("LocalProbeFailureFirst", 3), firstFailedAt: at(failedSince) } as HostEvent)
    events.push({ ...event("LocalProbeResult", 4), status: "fail", failureReason: "503", observedAt: at(failedSince) } as HostEvent)
    if (passLater) events.push({ ...event("LocalProbeResult", 5), status: "pass", failureReason: null, observedAt: at(failedSince + 1) } as HostEvent)
  } else {
    events.push({ ...event("LocalProbeResult", 3), status: "pass", failureReason: null, observedAt: at(5) } as HostEvent)
  }
  return { ...through(events), soakDueAt: at(soakSeconds) }
}

describe("advance ticker", () => {
  it.prop(
    "advanceDueAt is exactly where advanceTick starts proposing: nothing before it, something at and after it",
    [fc.integer({ min: 0, max: 900 }), fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2000 })],
    ([soak, failedSince, wrong, passLater, t]) => {
      const record = soaking(soak, failedSince, wrong, passLater)
      const due = advanceDueAt(record)
      const proposes = advanceTick(record, at(t), "halt") !== undefined
      expect(proposes).toBe(due !== null && at(t) >= due)
      if (due !== null) expect(advanceTick(record, at((due - T0) / 1000), "halt")).toBeDefined()
    }
  )

  it("a record outside Soaking is never due", () => {
    expect(advanceDueAt(pending())).toBeNull()
    expect(advanceDueAt(through([event("LocalActivate", 1)]))).toBeNull()
  })

  /** Runs the ticker over `records` (changed by `script` at given seconds) and returns the seconds at which it ticked. */
  const ticksOver = (seconds: number, initial: ReadonlyArray<HostRolloutState>, script: ReadonlyMap<number, ReadonlyArray<HostRolloutState>>) =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      const state = yield* Ref.make<AgentState>({ records: new Map(initial.map((r) => [r.rolloutId, r])), policies: new Map(), seqFloors: new Map(), refusedConverged: new Map() })
      const changed = yield* Queue.sliding<void>(1)
      const ticks: Array<number> = []
      const offer = (input: AgentInput) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => input._tag === "AdvanceTick" && ticks.push((now - T0) / 1000)))
      const fiber = yield* Effect.fork(advanceTicker({ interval: Duration.seconds(20), state: Ref.get(state), offer: (i) => Effect.asVoid(offer(i)), recordsChanged: changed }))
      for (let s = 1; s <= seconds; s++) {
        yield* TestClock.adjust("1 second")
        const next = script.get(s)
        if (next !== undefined) {
          yield* Ref.set(state, { records: new Map(next.map((r) => [r.rolloutId, r])), policies: new Map(), seqFloors: new Map(), refusedConverged: new Map() })
          yield* Queue.offer(changed, undefined)
        }
        yield* Effect.yieldNow()
      }
      yield* Fiber.interrupt(fiber)
      return ticks
    })

  it.effect("ticks only at the first grid instant at or after the soak deadline, not every interval", () =>
    Effect.gen(function* () {
      const ticks = yield* ticksOver(200, [soaking(47, null, false, false)], new Map())
      // Refused or not, a due record is re-checked every interval, as a plain ticker would.
      expect(ticks).toEqual([60, 80, 100, 120, 140, 160, 180, 200])
    })
  )

  it.effect("no tick while nothing can advance; a record change re-plans on the same grid", () =>
    Effect.gen(function* () {
      const soaked = soaking(90, null, false, false)
      const converged: HostRolloutState = { ...soaked, state: "Converged" }
      const ticks = yield* ticksOver(300, [pending()], new Map([[30, [soaked]], [105, [converged]]]))
      expect(ticks).toEqual([100])
    })
  )

  it.effect("a failing enforce probe is ticked at the grid instant after the sustained-failure threshold", () =>
    Effect.gen(function* () {
      const ticks = yield* ticksOver(200, [soaking(900, 10, false, false)], new Map([[141, [{ ...soaking(900, 10, false, false), state: "Failed" }]]]))
      expect(ticks).toEqual([140])
    })
  )
})

describe("drainer and probes of an idle agent", () => {
  it.effect("the drainer does not look at its queue until kicked, then delivers at once", () =>
    Effect.gen(function* () {
      const queue = yield* makeMemoryOutboundQueue
      const peeks = yield* Ref.make(0)
      const counted = { ...queue, peek: (n: number) => Effect.zipRight(Ref.update(peeks, (k) => k + 1), queue.peek(n)) }
      const kicks = yield* Queue.sliding<void>(1)
      const sent = yield* Ref.make(0)
      const client = {
        postEvent: () => Ref.update(sent, (k) => k + 1),
        heartbeat: () => Effect.die("unused"),
        pollDispatch: () => Effect.die("unused"),
        rolloutManifest: () => Effect.die("unused"),
        fleetResolved: Effect.die("unused")
      }
      const drainer = yield* makeDrainer({ outbound: counted, client, kicks, interval: Duration.seconds(15), onDelivered: () => Effect.void })
      const fiber = yield* Effect.fork(drainer.worker)
      yield* TestClock.adjust("10 minutes")
      expect(yield* Ref.get(peeks)).toBe(0)
      yield* queue.enqueue({
        hostname: pending().hostname,
        rolloutId: pending().rolloutId,
        createdAt: T0,
        event: { _tag: "ActivationStarted", startedAt: T0, switchMethod: "switch-to-configuration", seq: 1 }
      })
      yield* Queue.offer(kicks, undefined)
      for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
      expect(yield* Ref.get(sent)).toBe(1)
      expect(yield* queue.size).toBe(0)
      yield* Fiber.interrupt(fiber)
    })
  )

  const one = smallFleet(1)
  const host = one.hosts[0]!

  it.effect("a probe ticker stops once its record is Converged (its runs could only be refused)", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      const runs = yield* Ref.make(0)
      const probeRunner = ProbeRunner.of({ run: (name, declaration) => Effect.zipRight(Ref.update(runs, (n) => n + 1), sim.probeRunner.run(name, declaration)) })
      const { agent, kill } = yield* launch(one, host, { sim: { ...sim, probeRunner } })
      yield* runUntil(bothIn(agent, rolloutOf(one, host), "Converged"), 15 * 60)
      const atConvergence = yield* Ref.get(runs)
      expect(atConvergence).toBeGreaterThan(1)
      yield* runFor(5 * 60)
      expect(yield* Ref.get(runs)).toBeLessThanOrEqual(atConvergence + 1)
      yield* kill
    }).pipe(withCp(one))
  )
})
