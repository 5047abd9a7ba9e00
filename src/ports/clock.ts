/**
 * Time, read from Effect's own Clock (the port every test replaces with TestClock) as a
 * {@link Timestamp}.
 *
 * Invariant: always whole milliseconds (a Timestamp is an integer); a clock that reports
 * fractions (a TestClock moved by jittered sleeps) is floored, never passed on.
 */
import { Clock, Effect } from "effect"
import type { Timestamp } from "../domain/time.js"

/** Now, from Effect's Clock, in whole epoch milliseconds. */
export const now: Effect.Effect<Timestamp> = Effect.map(Clock.currentTimeMillis, (millis) => Math.floor(millis) as Timestamp)
