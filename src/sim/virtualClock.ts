/**
 * A virtual Clock for the simulator: time moves only when the driver calls `advanceTo`, which
 * wakes sleepers in deadline order (ties in sleep order), letting the woken fibers and their
 * in-process requests run before moving on. Unlike TestClock it never waits on real timers, so a
 * simulated hour costs only the work done in it.
 *
 * Sleepers sit in a binary min-heap keyed by (deadline, sleep order); an interrupted sleep is
 * only marked cancelled and dropped when it reaches the top (O(log n) either way, which matters
 * with tens of thousands of agents each holding a few sleeps). "Settling" runs event-loop turns
 * until a turn passes in which no fiber touched the clock (read it, slept, or cancelled a
 * sleep): every request, reducer group and worker step reads the clock, so a quiet turn means
 * the work woken at this instant has run, however long its chain of turns.
 *
 * Invariant: `now` never decreases; a sleeper is woken exactly once, at its deadline, unless
 * its fiber was interrupted first (then it is forgotten).
 */
import { Clock, Duration, Effect } from "effect"

interface Sleeper {
  readonly at: number
  readonly order: number
  readonly wake: () => void
  cancelled: boolean
}

/** The virtual clock and its driver. */
export interface VirtualClock {
  readonly clock: Clock.Clock
  /** Current virtual time (epoch millis). */
  readonly now: () => number
  /** Wakes every sleeper due up to `at` in order, settling after each instant, and sets the time to `at`. */
  readonly advanceTo: (at: number) => Effect.Effect<void>
  /** Lets woken fibers and in-flight in-process requests run, until a turn passes without clock activity. */
  readonly settle: Effect.Effect<void>
  /** How many sleeps fibers have started on this clock so far (each a timer wake-up unless interrupted). */
  readonly sleeps: () => number
}

const turn: Effect.Effect<void> = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

const before = (a: Sleeper, b: Sleeper) => a.at < b.at || (a.at === b.at && a.order < b.order)

/** A binary min-heap of sleepers ordered by (at, order). */
const makeHeap = () => {
  const items: Array<Sleeper> = []
  const push = (s: Sleeper) => {
    items.push(s)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >>> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  const pop = (): Sleeper | undefined => {
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && before(items[l]!, items[m]!)) m = l
      if (r < items.length && before(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
  /** The earliest live sleeper, dropping cancelled ones on the way. */
  const peek = (): Sleeper | undefined => {
    while (items.length > 0 && items[0]!.cancelled) pop()
    return items[0]
  }
  return { push, pop, peek }
}

/**
 * Makes a virtual clock starting at `start`. `maxSettleTurns` bounds the event-loop turns of one
 * settle (a safety net against a fiber that reads the clock in a loop; default 10,000).
 */
export const makeVirtualClock = (start: number, maxSettleTurns = 10_000): VirtualClock => {
  let now = start
  // Also the sleep counter: every sleep takes the next order.
  let order = 0
  // Bumped by every clock interaction; a turn that leaves it unchanged was quiet.
  let activity = 0
  const heap = makeHeap()
  const settle = Effect.gen(function* () {
    for (let i = 0; i < maxSettleTurns; i++) {
      const seen = activity
      yield* Effect.yieldNow()
      yield* turn
      if (activity === seen) return
    }
  })
  const read = () => {
    activity++
    return now
  }
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: read,
    currentTimeMillis: Effect.sync(read),
    unsafeCurrentTimeNanos: () => BigInt(read()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(read()) * 1_000_000n),
    sleep: (duration: Duration.Duration) =>
      Effect.async<void>((resume) => {
        activity++
        const sleeper: Sleeper = { at: now + Math.max(0, Duration.toMillis(duration)), order: order++, wake: () => resume(Effect.void), cancelled: false }
        heap.push(sleeper)
        return Effect.sync(() => {
          activity++
          sleeper.cancelled = true
        })
      })
  }
  const advanceTo = (at: number): Effect.Effect<void> =>
    Effect.gen(function* () {
      yield* settle
      for (let next = heap.peek(); next !== undefined && next.at <= at; next = heap.peek()) {
        const instant = next.at
        now = Math.max(now, instant)
        for (let s = heap.peek(); s !== undefined && s.at <= instant; s = heap.peek()) {
          heap.pop()
          s.cancelled = true
          s.wake()
        }
        yield* settle
      }
      now = Math.max(now, at)
    })
  return { clock, now: () => now, advanceTo, settle, sleeps: () => order }
}
