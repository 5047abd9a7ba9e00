/**
 * Asking the reducer: offer an input that carries a reply Deferred, then wait for the reply with
 * a deadline.
 *
 * Invariants: the offer never waits (a full queue is `QueueFull` at once, spec §2.7); the wait is
 * bounded by the reply timeout. A timed-out input may still be processed later: callers answer
 * 503 and the agent's retry is then a harmless duplicate.
 *
 * The deadline is kept by one sweeper fiber per {@link Asker} instead of a timer per ask: a
 * per-ask `Effect.timeoutFail` races two fibers and cost ~165 µs of CPU per request on the bench
 * machine, more than the rest of the ask. Asks share one timeout, so their deadlines grow in
 * registration order; the sweeper sleeps (on the Clock, so TestClock drives it) until the oldest
 * pending deadline, and completes every reply still pending at its deadline with a private
 * {@link ReplyTimeout} defect that the asker turns back into the typed failure. The reducer's
 * later reply to such a Deferred is a no-op.
 */
import { Cause, Data, Deferred, Duration, Effect, Exit, FiberId, Option, type Scope } from "effect"
import type { StorageError } from "../../ports/errors.js"
import { Unavailable } from "../../wire/errors.js"
import type { ReducerInput } from "../input.js"
import type { CpReducerService } from "../reducer.js"

/** The reducer's queue was full; nothing was offered. */
export class QueueFull extends Data.TaggedError("QueueFull")<{}> {}

/** The reducer did not reply in time. */
export class ReplyTimeout extends Data.TaggedError("ReplyTimeout")<{}> {}

/** Asks the reducer with a fixed reply timeout. */
export interface Asker {
  /** Offers `make(reply)` and waits up to the timeout for the reply. */
  readonly ask: <A, E>(make: (reply: Deferred.Deferred<A, E>) => ReducerInput) => Effect.Effect<A, E | QueueFull | ReplyTimeout>
}

/** A pending ask: its reply and the time (Clock millis) after which it is answered with a timeout. */
interface Pending {
  readonly reply: Deferred.Deferred<unknown, unknown>
  readonly deadline: number
}

/** The exit a late reply is completed with: a defect only the asker that created the reply sees. */
const timedOutDefect = new ReplyTimeout()
const timedOut = Exit.die(timedOutDefect)

/**
 * An Asker over `reducer` whose sweeper fiber lives in the scope. Its state (the pending asks in
 * registration order, and the sweeper's wake-up while none is pending) is touched only in
 * synchronous steps, by the asking fibers and the sweeper.
 */
export const makeAsker = (reducer: CpReducerService, timeout: Duration.Duration): Effect.Effect<Asker, never, Scope.Scope> =>
  Effect.gen(function* () {
    const timeoutMillis = Duration.toMillis(timeout)
    const clock = yield* Effect.clock
    // A Set iterates in insertion order: the first entry is the oldest pending ask.
    const pending = new Set<Pending>()
    let wake: Deferred.Deferred<void> | null = null

    const sweep = Effect.suspend((): Effect.Effect<void> => {
      const oldest = pending.values().next()
      if (oldest.done === true) {
        wake = Deferred.unsafeMake<void>(FiberId.none)
        return Deferred.await(wake)
      }
      const now = clock.unsafeCurrentTimeMillis()
      if (oldest.value.deadline > now) return Effect.sleep(Duration.millis(oldest.value.deadline - now))
      const expired: Array<Pending> = []
      for (const entry of pending) {
        if (entry.deadline > now) break
        expired.push(entry)
      }
      for (const entry of expired) pending.delete(entry)
      // Exit.die, not Deferred.die: the latter wraps the defect in a span-carrying proxy.
      return Effect.forEach(expired, (entry) => Deferred.done(entry.reply, timedOut), { discard: true })
    })
    yield* Effect.forkScoped(Effect.forever(sweep))

    const register = (reply: Deferred.Deferred<unknown, unknown>): Pending => {
      const entry = { reply, deadline: clock.unsafeCurrentTimeMillis() + timeoutMillis }
      pending.add(entry)
      if (wake !== null) {
        Deferred.unsafeDone(wake, Effect.void)
        wake = null
      }
      return entry
    }

    return {
      ask: <A, E>(make: (reply: Deferred.Deferred<A, E>) => ReducerInput) =>
        Effect.suspend(() => {
          const reply = Deferred.unsafeMake<A, E>(FiberId.none)
          return Effect.flatMap(reducer.offer(make(reply)), (accepted): Effect.Effect<A, E | QueueFull | ReplyTimeout> => {
            if (!accepted) return Effect.fail(new QueueFull())
            const entry = register(reply as Deferred.Deferred<unknown, unknown>)
            // One match for both outcomes (this runs per request). An interrupted asker leaves its
            // entry to the sweeper, which drops it at its deadline.
            return Effect.matchCauseEffect(Deferred.await(reply), {
              onFailure: (cause): Effect.Effect<never, E | ReplyTimeout> => {
                pending.delete(entry)
                return Option.getOrUndefined(Cause.dieOption(cause)) === timedOutDefect ? Effect.fail(new ReplyTimeout()) : Effect.failCause(cause)
              },
              onSuccess: (value) => {
                pending.delete(entry)
                return Effect.succeed(value)
              }
            })
          })
        })
    }
  })

/** Offers `make(reply)` and waits up to `timeout` for the reply (a one-off Asker; prefer {@link makeAsker} per service). */
export const ask = <A, E>(
  reducer: CpReducerService,
  timeout: Duration.Duration,
  make: (reply: Deferred.Deferred<A, E>) => ReducerInput
): Effect.Effect<A, E | QueueFull | ReplyTimeout> => Effect.scoped(Effect.flatMap(makeAsker(reducer, timeout), (asker) => asker.ask(make)))

/** A storage failure answered as 503 (the agent retries; nothing was changed by the read). */
export const storageUnavailable = (retryAfterSeconds: number) => (error: StorageError): Unavailable =>
  new Unavailable({ reason: `storage unavailable: ${error.message}`, retryAfterSeconds })
