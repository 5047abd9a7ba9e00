/**
 * A virtual Clock for the simulator: time moves only when the driver calls `advanceTo`, which
 * wakes sleepers in deadline order (ties in sleep order), letting the woken fibers and their
 * in-process requests run before moving on. Unlike TestClock it never waits on real timers, so a
 * simulated hour costs only the work done in it.
 *
 * Invariant: `now` never decreases; a sleeper is woken exactly once, at its deadline, unless
 * its fiber was interrupted first (then it is forgotten).
 */
import { Clock, Duration, Effect } from "effect"

interface Sleeper {
  readonly at: number
  readonly order: number
  readonly wake: () => void
}

/** The virtual clock and its driver. */
export interface VirtualClock {
  readonly clock: Clock.Clock
  /** Current virtual time (epoch millis). */
  readonly now: () => number
  /** Wakes every sleeper due up to `at` in order, settling after each instant, and sets the time to `at`. */
  readonly advanceTo: (at: number) => Effect.Effect<void>
  /** Lets woken fibers and in-flight in-process requests run (a few event-loop turns). */
  readonly settle: Effect.Effect<void>
}

const turn: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Makes a virtual clock starting at `start`; `settleTurns` event-loop turns are run after each wake-up instant. */
export const makeVirtualClock = (start: number, settleTurns = 3): VirtualClock => {
  let now = start
  let order = 0
  // Kept sorted by (at, order); inserts are binary-searched.
  const sleepers: Array<Sleeper> = []
  const insert = (s: Sleeper) => {
    let lo = 0
    let hi = sleepers.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const m = sleepers[mid]!
      if (m.at < s.at || (m.at === s.at && m.order < s.order)) lo = mid + 1
      else hi = mid
    }
    sleepers.splice(lo, 0, s)
  }
  const settle = Effect.gen(function* () {
    for (let i = 0; i < settleTurns; i++) {
      yield* Effect.yieldNow()
      yield* turn
    }
  })
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration: Duration.Duration) =>
      Effect.async<void>((resume) => {
        const sleeper: Sleeper = { at: now + Math.max(0, Duration.toMillis(duration)), order: order++, wake: () => resume(Effect.void) }
        insert(sleeper)
        return Effect.sync(() => {
          const i = sleepers.indexOf(sleeper)
          if (i >= 0) sleepers.splice(i, 1)
        })
      })
  }
  const advanceTo = (at: number): Effect.Effect<void> =>
    Effect.gen(function* () {
      yield* settle
      while (sleepers.length > 0 && sleepers[0]!.at <= at) {
        const instant = sleepers[0]!.at
        now = Math.max(now, instant)
        while (sleepers.length > 0 && sleepers[0]!.at <= instant) sleepers.shift()!.wake()
        yield* settle
      }
      now = Math.max(now, at)
    })
  return { clock, now: () => now, advanceTo, settle }
}
