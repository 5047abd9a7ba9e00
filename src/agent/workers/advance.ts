/**
 * The advance ticker: offers `AdvanceTick` on a fixed grid (every interval from its start), but
 * only at the grid instants where a tick can do something. `advanceTick` (src/machine/advance.ts)
 * proposes an event only for a Soaking record, once the sustained-failure threshold or the soak
 * deadline has passed, and that answer only changes with the record or as time passes those
 * thresholds; so the ticker sleeps until the first grid instant at or after the earliest such
 * deadline, and re-plans whenever the reducer changes a record. A tick it skips would have found
 * nothing to do, so the agent's events are the ones a plain every-interval ticker produces, at
 * the same instants, without waking thousands of idle agents every interval.
 *
 * Invariants: a tick happens only on the grid (start + k·interval, k ≥ 1), at most once per grid
 * instant; no grid instant at which some record is due is skipped; the loop never ends.
 */
import { Duration, Effect, Queue } from "effect"
import type { HostRolloutState } from "../../domain/hostState.js"
import type { ProbeName } from "../../domain/ids.js"
import type { Timestamp } from "../../domain/time.js"
import { advanceTick, SUSTAINED_FAILURE_THRESHOLD_MS } from "../../machine/advance.js"
import { now } from "../../ports/clock.js"
import { AgentInput } from "../input.js"
import type { AgentState } from "../reducer.js"

/**
 * The earliest instant at which `advanceTick` proposes an event for `record` as it is now, or
 * null when it never will until the record changes. Its proposals only switch on as time passes
 * one of two thresholds (failures since `probeFailureFirstAt` reach the sustained threshold; the
 * soak deadline passes), so the answer is the first of those thresholds at which it proposes one.
 * `requiredProbes` are the agent's declared enforce probes, as the reducer passes them to `advanceTick`.
 */
export const advanceDueAt = (record: HostRolloutState, requiredProbes: ReadonlyArray<ProbeName> = []): number | null => {
  if (record.state !== "Soaking") return null
  const thresholds: Array<number> = []
  if (record.probeFailureFirstAt !== null) thresholds.push(record.probeFailureFirstAt + SUSTAINED_FAILURE_THRESHOLD_MS)
  if (record.soakDueAt !== null) thresholds.push(record.soakDueAt)
  thresholds.sort((a, b) => a - b)
  return thresholds.find((at) => advanceTick(record, at as Timestamp, null, requiredProbes) !== undefined) ?? null
}

/** The earliest {@link advanceDueAt} over `records`, or null. */
export const earliestDue = (records: Iterable<HostRolloutState>, requiredProbes: ReadonlyArray<ProbeName> = []): number | null => {
  let due: number | null = null
  for (const record of records) {
    const at = advanceDueAt(record, requiredProbes)
    if (at !== null && (due === null || at < due)) due = at
  }
  return due
}

/** What the advance ticker uses. */
export interface AdvanceTickerDeps {
  readonly interval: Duration.Duration
  readonly state: Effect.Effect<AgentState>
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** Signalled by the reducer whenever it changed a record. */
  readonly recordsChanged: Queue.Dequeue<void>
  /** The declared enforce probes (as the reducer's `requiredProbes`). */
  readonly requiredProbes?: ReadonlyArray<ProbeName>
}

/** The ticker loop (see the module comment); the first grid instant is one interval after start. */
export const advanceTicker = (deps: AdvanceTickerDeps): Effect.Effect<never> =>
  Effect.gen(function* () {
    const interval = Math.max(1, Duration.toMillis(deps.interval))
    const start = yield* now
    // The next grid index that may tick (each grid instant ticks at most once).
    let next = 1
    while (true) {
      const due = earliestDue((yield* deps.state).records.values(), deps.requiredProbes ?? [])
      if (due === null) {
        yield* Queue.take(deps.recordsChanged)
        continue
      }
      const at = yield* now
      next = Math.max(next, Math.ceil((due - start) / interval), Math.ceil((at - start) / interval))
      const wait = start + next * interval - at
      if (wait > 0) {
        const elapsed = yield* Effect.raceFirst(Effect.as(Effect.sleep(Duration.millis(wait)), true), Effect.as(Queue.take(deps.recordsChanged), false))
        if (!elapsed) continue
      }
      next++
      yield* deps.offer(AgentInput.AdvanceTick())
    }
  })
