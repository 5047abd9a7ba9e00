/**
 * The simulator's virtual clock: sleepers wake in deadline order (ties in sleep order), time only
 * moves when the driver advances it and never backwards, an interrupted sleep is never woken, and
 * the sleep counter counts every sleep started.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { makeVirtualClock } from "../../src/sim/virtualClock.js"

const START = 1_000_000

describe("simulator: virtual clock", () => {
  it.live("wakes sleepers in deadline order, ties in sleep order, each at its deadline; counts the sleeps", () =>
    Effect.gen(function* () {
      const virtual = makeVirtualClock(START)
      const woke: Array<string> = []
      const sleeper = (name: string, millis: number) =>
        Effect.sleep(millis).pipe(
          Effect.zipRight(Effect.clockWith((clock) => clock.currentTimeMillis)),
          Effect.map((at) => woke.push(`${name}@${at - START}`)),
          Effect.withClock(virtual.clock)
        )
      const fibers = yield* Effect.forEach(
        [["c", 300], ["a", 100], ["b1", 200], ["b2", 200]] as const,
        ([name, millis]) => Effect.fork(sleeper(name, millis))
      )
      yield* virtual.settle
      expect(virtual.sleeps()).toBe(4)
      yield* virtual.advanceTo(START + 250)
      expect(woke).toEqual(["a@100", "b1@200", "b2@200"])
      expect(virtual.now()).toBe(START + 250)
      yield* virtual.advanceTo(START + 100)
      expect(virtual.now()).toBe(START + 250)
      yield* virtual.advanceTo(START + 1_000)
      yield* Fiber.joinAll(fibers)
      expect(woke).toEqual(["a@100", "b1@200", "b2@200", "c@300"])
      expect(virtual.sleeps()).toBe(4)
    }))

  it.live("an interrupted sleep is forgotten: never woken, and the others still are", () =>
    Effect.gen(function* () {
      const virtual = makeVirtualClock(START)
      const woke: Array<number> = []
      const sleeper = (millis: number) => Effect.sleep(millis).pipe(Effect.map(() => woke.push(millis)), Effect.withClock(virtual.clock))
      const early = yield* Effect.fork(sleeper(100))
      const late = yield* Effect.fork(sleeper(200))
      yield* virtual.settle
      yield* Fiber.interrupt(early)
      yield* virtual.advanceTo(START + 500)
      yield* Fiber.join(late)
      expect(woke).toEqual([200])
      expect(virtual.now()).toBe(START + 500)
    }))
})
