/**
 * Asking the reducer: offer an input that carries a reply Deferred, then wait for the reply with
 * a deadline.
 *
 * Invariants: the offer never waits (a full queue is `QueueFull` at once, spec §2.7); the wait is
 * bounded by the reply timeout. A timed-out input may still be processed later: callers answer
 * 503 and the agent's retry is then a harmless duplicate.
 */
import { Data, Deferred, Effect, type Duration } from "effect"
import type { StorageError } from "../../ports/errors.js"
import { Unavailable } from "../../wire/errors.js"
import type { ReducerInput } from "../input.js"
import type { CpReducerService } from "../reducer.js"

/** The reducer's queue was full; nothing was offered. */
export class QueueFull extends Data.TaggedError("QueueFull")<{}> {}

/** The reducer did not reply in time. */
export class ReplyTimeout extends Data.TaggedError("ReplyTimeout")<{}> {}

/** Offers `make(reply)` and waits up to `timeout` for the reply. */
export const ask = <A, E>(
  reducer: CpReducerService,
  timeout: Duration.Duration,
  make: (reply: Deferred.Deferred<A, E>) => ReducerInput
): Effect.Effect<A, E | QueueFull | ReplyTimeout> =>
  Effect.gen(function* () {
    const reply = yield* Deferred.make<A, E>()
    if (!(yield* reducer.offer(make(reply)))) return yield* new QueueFull()
    return yield* Deferred.await(reply).pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new ReplyTimeout() }))
  })

/** A storage failure answered as 503 (the agent retries; nothing was changed by the read). */
export const storageUnavailable = (retryAfterSeconds: number) => (error: StorageError): Unavailable =>
  new Unavailable({ reason: `storage unavailable: ${error.message}`, retryAfterSeconds })
