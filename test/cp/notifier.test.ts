/**
 * The dispatch notifier: a kick wakes its own host's waiters only, a kick before any wait is
 * kept (one pending), and a closed subscription (or an ended `listening` body) leaves nothing behind.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Scope } from "effect"
import { DispatchNotifier } from "../../src/cp/notifier.js"
import type { HostId } from "../../src/domain/ids.js"

const h1 = "h1" as HostId
const h2 = "h2" as HostId

/** Forks `take` and checks it is still waiting after a turn; returns its fiber. */
const stillWaiting = (take: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(take)
    yield* Effect.yieldNow()
    expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
    return fiber
  })

describe("DispatchNotifier", () => {
  it.scoped("a kick wakes the waiters of its host, not another host's", () =>
    Effect.gen(function* () {
      const notifier = yield* DispatchNotifier
      const a = yield* notifier.subscribe(h1)
      const b = yield* notifier.subscribe(h1)
      const other = yield* notifier.subscribe(h2)
      const waiting = yield* Effect.fork(Effect.all([a, b]))
      const otherWaiting = yield* Effect.fork(other)
      yield* notifier.kick(h1)
      yield* Fiber.join(waiting)
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Fiber.poll(otherWaiting))).toBe(true)
      yield* notifier.kick(h2)
      yield* Fiber.join(otherWaiting)
    }).pipe(Effect.provide(DispatchNotifier.layer)))

  it.scoped("a kick before the wait is kept; many kicks fold into one wake-up", () =>
    Effect.gen(function* () {
      const notifier = yield* DispatchNotifier
      const take = yield* notifier.subscribe(h1)
      yield* notifier.kick(h1)
      yield* notifier.kick(h1)
      yield* notifier.kick(h1)
      yield* take
      yield* Fiber.interrupt(yield* stillWaiting(take))
    }).pipe(Effect.provide(DispatchNotifier.layer)))

  it.effect("a closed subscription no longer receives kicks, and a kick without waiters is a no-op", () =>
    Effect.gen(function* () {
      const notifier = yield* DispatchNotifier
      yield* notifier.kick(h1)
      const scope = yield* Scope.make()
      const take = yield* notifier.subscribe(h1).pipe(Scope.extend(scope))
      yield* Scope.close(scope, Exit.void)
      yield* notifier.kick(h1)
      const after = yield* Effect.fork(take)
      yield* Effect.yieldNow()
      expect(Option.isNone(yield* Fiber.poll(after))).toBe(true)
      yield* Fiber.interrupt(after)
    }).pipe(Effect.provide(DispatchNotifier.layer)))

  it.effect("listening: a kick before the wait is kept, kicks fold, and the waiter is gone once the body ends", () =>
    Effect.gen(function* () {
      const notifier = yield* DispatchNotifier
      const leaked = yield* notifier.listening(h1, (take) =>
        Effect.gen(function* () {
          yield* notifier.kick(h2)
          yield* notifier.kick(h1)
          yield* notifier.kick(h1)
          yield* take
          const second = yield* stillWaiting(take)
          yield* notifier.kick(h1)
          yield* Fiber.join(second)
          return take
        })
      )
      yield* notifier.kick(h1)
      yield* Fiber.interrupt(yield* stillWaiting(leaked))
    }).pipe(Effect.provide(DispatchNotifier.layer)))
})
