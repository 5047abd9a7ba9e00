/**
 * How the agent waits after a failed control-plane call: jittered exponential backoff from 1 s,
 * capped at 60 s, and never sooner than the CP's Retry-After.
 *
 * Invariant: only `CpUnavailable` is retried by {@link retryUnavailable}; any other failure (a
 * `CpRejected` is the CP's final answer for that request) is returned at once.
 */
import { Duration, Effect, Schedule } from "effect"
import { CpUnavailable } from "../ports/controlPlaneClient.js"

/** The longest wait between two attempts. */
export const MAX_BACKOFF: Duration.DurationInput = "60 seconds"

/**
 * The wait before the next attempt, given the failure of the last one: it never ends (callers
 * bound it), and a `CpUnavailable` with a Retry-After waits at least that long.
 */
export const cpBackoff: Schedule.Schedule<unknown, unknown> = Schedule.exponential("1 second", 2).pipe(
  Schedule.jittered,
  // union keeps the shorter delay of the two: the exponential, capped at MAX_BACKOFF.
  Schedule.union(Schedule.spaced(MAX_BACKOFF)),
  Schedule.intersect(Schedule.identity<unknown>()),
  Schedule.modifyDelay(([, error], delay) => {
    const floor = error instanceof CpUnavailable && error.retryAfterSeconds !== null ? Duration.seconds(error.retryAfterSeconds) : Duration.zero
    // Whole milliseconds: jitter gives fractions, and a clock moved by fractional sleeps (a
    // TestClock) would then report instants that are not valid Timestamps.
    return Duration.millis(Math.ceil(Duration.toMillis(Duration.max(delay, floor))))
  }),
  Schedule.map(([, error]) => error)
)

/** Whether a failure is `CpUnavailable` (worth retrying later). */
export const isUnavailable = (error: unknown): error is CpUnavailable => error instanceof CpUnavailable

/** Retries `effect` while it fails with `CpUnavailable`, on {@link cpBackoff}; at most `times` retries when given. */
export const retryUnavailable = <A, E, R>(effect: Effect.Effect<A, E, R>, times?: number): Effect.Effect<A, E, R> =>
  Effect.retry(effect, {
    schedule: times === undefined ? cpBackoff : Schedule.intersect(cpBackoff, Schedule.recurs(times)),
    while: isUnavailable
  })
