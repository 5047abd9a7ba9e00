/**
 * The manifest poll (spec runtime §2.6): every 30 s (first run immediate, missed ticks skipped) it
 * reads a verified release from the ManifestSource (`readVerifiedRelease`: trust.json re-read,
 * fleet.resolved and each channel's manifest verified) and hands it to the CP reducer as
 * `ManifestSetUpdated`.
 *
 * Invariants:
 * - only verified values reach the reducer: a refused trust.json or fleet.resolved keeps the last
 *   good set and offers nothing; a refused channel is dropped from the set, never the others;
 * - a verified update is never dropped: while the reducer's queue is full the offer is retried;
 * - decision (the reference sends on every poll): an update is offered only when it differs from
 *   the last one accepted — fleet hash, the set of channel manifests, or any signature bytes — so
 *   the reducer does not replan every 30 s on identical input (its own 15 s plan tick covers that);
 * - polls never overlap (a semaphore), time comes only from Effect's Clock, and no poll failure,
 *   not even a defect, stops the loop.
 */
import { Context, Data, type Duration, Effect, Either, Layer, Option, Ref, Schedule } from "effect"
import type { ChannelId } from "../domain/ids.js"
import { ManifestSource } from "../ports/manifestSource.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../trust/sidecar.js"
import { ReducerInput } from "./input.js"
import {
  type ChannelDrop,
  type FleetRejection,
  type PolledRelease,
  readVerifiedRelease
} from "./manifestSource/verifiedRelease.js"
import type { VerifiedManifests } from "./manifests.js"
import { CpReducer } from "./reducer.js"

/** The reference's poll period. */
export const DEFAULT_POLL_INTERVAL: Duration.DurationInput = "30 seconds"
/** The reference's boot prime limit: one poll must finish within it before the CP serves. */
export const DEFAULT_PRIME_TIMEOUT: Duration.DurationInput = "20 seconds"
/** While the reducer's queue is full: retry soon, backing off to one attempt per second. */
const OFFER_RETRY = Schedule.exponential("10 millis").pipe(Schedule.union(Schedule.spaced("1 second")))

/** The outcome of one poll. */
export type PollOutcome = Data.TaggedEnum<{
  /** A verified set that differs from the last one was accepted by the reducer. */
  Updated: { readonly manifests: VerifiedManifests; readonly dropped: ReadonlyMap<ChannelId, ChannelDrop> }
  /** The verified set equals the last one accepted; nothing was offered. */
  Unchanged: { readonly manifests: VerifiedManifests; readonly dropped: ReadonlyMap<ChannelId, ChannelDrop> }
  /** trust.json or fleet.resolved could not be read or verified; the last good set stays. */
  FleetRejected: { readonly error: FleetRejection }
}>
/** Constructors and matchers of {@link PollOutcome}. */
export const PollOutcome = Data.taggedEnum<PollOutcome>()

/** Settings of the manifest poll. */
export interface ManifestPollConfig {
  /** The poll period (default {@link DEFAULT_POLL_INTERVAL}). */
  readonly interval?: Duration.DurationInput
  /**
   * The freshness window (seconds) of fleet.resolved and of channels without their own
   * `freshnessWindow` (default 1440 minutes). Channels with one use theirs (DESIGN.md).
   */
  readonly defaultWindowSecs?: number
  /** The boot prime's limit, or `null` to skip the prime (default {@link DEFAULT_PRIME_TIMEOUT}). */
  readonly primeTimeout?: Duration.DurationInput | null
}

/** The manifest poll's interface. */
export interface ManifestPollService {
  /** Runs one poll now (after any poll in progress) and reports what it did. Never fails. */
  readonly pollOnce: Effect.Effect<PollOutcome>
  /** The last release the reducer accepted; None until a poll succeeded (the CP is not "primed"). */
  readonly latest: Effect.Effect<Option.Option<PolledRelease>>
}

/** The last accepted release and its change key. */
interface Accepted {
  readonly release: PolledRelease
  readonly key: string
}

const make = (
  offer: (input: ReducerInput) => Effect.Effect<boolean>,
  config: ManifestPollConfig = {}
): Effect.Effect<ManifestPollService, never, ManifestSource> =>
  Effect.gen(function* () {
    const source = yield* ManifestSource
    const windowSecs = config.defaultWindowSecs ?? DEFAULT_FRESHNESS_WINDOW_SECS
    const last = yield* Ref.make(Option.none<Accepted>())
    const lock = yield* Effect.makeSemaphore(1)

    const offerUntilAccepted = (manifests: VerifiedManifests) =>
      offer(ReducerInput.ManifestSetUpdated({ manifests })).pipe(
        Effect.tap((accepted) => (accepted ? Effect.void : Effect.logWarning("manifest poll: reducer queue full; retrying the update"))),
        Effect.repeat({ until: (accepted) => accepted, schedule: OFFER_RETRY })
      )

    const poll = Effect.gen(function* () {
      const result = yield* Effect.either(readVerifiedRelease(source, windowSecs))
      if (Either.isLeft(result)) {
        yield* Effect.logError("manifest poll: fleet refused; keeping the last good set", { reason: result.left.message })
        return PollOutcome.FleetRejected({ error: result.left })
      }
      const { release, key, dropped } = result.right
      const previous = yield* Ref.get(last)
      if (Option.isSome(previous) && previous.value.key === key) {
        return PollOutcome.Unchanged({ manifests: previous.value.release.manifests, dropped })
      }
      for (const [channel, error] of dropped) {
        yield* Effect.logWarning("manifest poll: channel dropped from the set", { channel, reason: error.message })
      }
      yield* offerUntilAccepted(release.manifests)
      yield* Ref.set(last, Option.some({ release, key }))
      yield* Effect.logInfo("manifest poll: verified set offered", {
        fleetHash: release.manifests.fleetHash,
        channels: [...release.manifests.set.rollouts.keys()]
      })
      return PollOutcome.Updated({ manifests: release.manifests, dropped })
    })

    return {
      pollOnce: lock.withPermits(1)(poll).pipe(Effect.withSpan("ManifestPoll.pollOnce")),
      latest: Effect.map(Ref.get(last), Option.map((a) => a.release))
    } satisfies ManifestPollService
  })

const run = (poll: ManifestPollService, interval: Duration.DurationInput = DEFAULT_POLL_INTERVAL): Effect.Effect<never> =>
  poll.pollOnce.pipe(
    Effect.catchAllCause((cause) => Effect.logError("manifest poll failed unexpectedly; the next tick retries", cause)),
    Effect.repeat(Schedule.fixed(interval)),
    Effect.zipRight(Effect.never)
  )

const layer = (config: ManifestPollConfig = {}): Layer.Layer<ManifestPoll, never, ManifestSource | CpReducer> =>
  Layer.scoped(
    ManifestPoll,
    Effect.gen(function* () {
      const reducer = yield* CpReducer
      const poll = yield* make(reducer.offer, config)
      const interval = config.interval ?? DEFAULT_POLL_INTERVAL
      const primeTimeout = config.primeTimeout === undefined ? DEFAULT_PRIME_TIMEOUT : config.primeTimeout
      let primed = false
      if (primeTimeout !== null) {
        const outcome = yield* Effect.timeoutOption(poll.pollOnce, primeTimeout)
        if (Option.isNone(outcome)) yield* Effect.logWarning("manifest poll: boot prime timed out; serving without a verified set")
        primed = Option.isSome(outcome) && outcome.value._tag !== "FleetRejected"
      }
      yield* Effect.forkScoped(primed ? Effect.zipRight(Effect.sleep(interval), run(poll, interval)) : run(poll, interval))
      return poll
    })
  )

/** The CP's manifest poll. */
export class ManifestPoll extends Context.Tag("effect-fleet/ManifestPoll")<ManifestPoll, ManifestPollService>() {
  /**
   * The poll wired to the {@link CpReducer}: primes once while the layer is built (bounded by
   * `primeTimeout`; spec §2.7 startup step 4, so provide it before the HTTP listener), then forks
   * the loop in the layer's scope. A prime that produced a verified set counts as the loop's first
   * run; otherwise the loop starts at once.
   */
  static readonly layer = layer
  /**
   * The poll as a service value handing accepted updates to `offer` (`false` = "queue full, try
   * again"); no loop. For tests and for runtimes other than {@link ManifestPoll.layer}.
   */
  static readonly make = make
  /**
   * The loop: polls now, then every `interval`; a run longer than the interval is followed at once
   * by the next, missed ticks are not replayed. Never fails; a defect is logged, the next tick runs.
   */
  static readonly run = run
}
