/**
 * The manifest poll (spec runtime §2.6): every 30 s (first run immediate, missed ticks skipped) it
 * re-reads trust.json, fetches and verifies fleet.resolved, then fetches and verifies each
 * channel's current rollout manifest, and hands the verified set to the CP reducer as
 * `ManifestSetUpdated`.
 *
 * Invariants:
 * - only values that passed verification reach the reducer: a fleet.resolved (or trust.json) that
 *   fails keeps the last good set and offers nothing; a channel whose manifest fails is dropped
 *   from the set, never the other channels;
 * - a verified update is never dropped: a full reducer queue is retried until it accepts;
 * - decision (spec §2.6 always sends): an update is offered only when it differs from the last one
 *   accepted — fleet hash, the set of channel manifests, or any signature bytes — so the reducer
 *   does not replan every 30 s on identical input (its own 15 s plan tick already covers that);
 * - polls never overlap (a semaphore), time comes only from Effect's Clock, and no poll failure,
 *   not even a defect, stops the loop.
 */
import { Clock, Context, Data, Duration, Effect, Either, Layer, Option, Ref, Schedule, Schema } from "effect"
import type { ChannelId, RolloutId } from "../domain/ids.js"
import type { RolloutManifest } from "../domain/manifest.js"
import type { Timestamp } from "../domain/time.js"
import { TrustConfig } from "../domain/trust.js"
import { ManifestSource, ManifestSourceError } from "../ports/manifestSource.js"
import type { ManifestError, SidecarError } from "../trust/errors.js"
import { sha256Hex } from "../trust/hash.js"
import type { SignedPair } from "../trust/layout.js"
import { expectedManifests, verifyManifestSet } from "../trust/manifestSet.js"
import { checkTrustRotations } from "../trust/rotation.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS, trustRootsAt } from "../trust/sidecar.js"
import { type FleetSnapshot, verifyFleetSnapshot } from "../trust/verify.js"
import { ReducerInput } from "./input.js"
import type { SignedBytes, VerifiedManifests } from "./manifests.js"
import { CpReducer } from "./reducer.js"

/** The reference's poll period. */
export const DEFAULT_POLL_INTERVAL: Duration.DurationInput = "30 seconds"
/** The reference's boot prime limit: one poll must finish within it before the CP serves. */
export const DEFAULT_PRIME_TIMEOUT: Duration.DurationInput = "20 seconds"
/** Manifest fetches in flight at once: a handful of channels, without hammering the forge. */
const FETCH_CONCURRENCY = 4
/** While the reducer's queue is full: retry soon, backing off to one attempt per second. */
const OFFER_RETRY = Schedule.exponential("10 millis").pipe(Schedule.union(Schedule.spaced("1 second")))

/** trust.json is not UTF-8 JSON, or not a valid trust configuration (schemaVersion 1). */
export class InvalidTrustConfig extends Schema.TaggedError<InvalidTrustConfig>()("InvalidTrustConfig", {
  detail: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `trust.json refused: ${this.detail}`
  }
}

/** Why a whole poll was refused (the previous set is kept). */
export type FleetRejection = ManifestSourceError | InvalidTrustConfig | SidecarError

/** Why one channel was dropped from the set: it could not be fetched, or it failed verification. */
export type ChannelDrop = ManifestSourceError | ManifestError

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

/** The last set the reducer accepted, with the fleet.resolved bytes it was verified from (routes serve them). */
export interface PolledRelease {
  /** What the reducer caches. */
  readonly manifests: VerifiedManifests
  /** fleet.resolved exactly as received, and its signature. */
  readonly fleetArtifact: SignedBytes
}

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
  /** The last release the reducer accepted; None until a poll succeeded (not "primed"). */
  readonly latest: Effect.Effect<Option.Option<PolledRelease>>
}

/** The CP's manifest poll. */
export class ManifestPoll extends Context.Tag("effect-fleet/ManifestPoll")<ManifestPoll, ManifestPollService>() {}

const toSignedBytes = (pair: SignedPair): SignedBytes => ({ artifact: pair.bytes, signature: pair.signature })

/** What decides "changed": every byte the reducer and the routes would hold. */
const releaseKey = (fleet: SignedPair, fleetHash: string, artifacts: ReadonlyMap<RolloutId, SignedBytes>): string =>
  [
    fleetHash,
    sha256Hex(fleet.signature),
    ...[...artifacts.entries()]
      .map(([id, a]) => `${id}=${sha256Hex(a.artifact)}:${sha256Hex(a.signature)}`)
      .sort()
  ].join("|")

const decodeTrust = (bytes: Uint8Array): Either.Either<TrustConfig, InvalidTrustConfig> => {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return Either.left(new InvalidTrustConfig({ detail: "not UTF-8" }))
  }
  return Either.mapLeft(
    Schema.decodeUnknownEither(Schema.parseJson(TrustConfig))(text, { onExcessProperty: "ignore" }),
    (e) => new InvalidTrustConfig({ detail: e.message })
  )
}

/** What one poll verified, before it is compared with the last accepted set. */
interface Verification {
  readonly release: PolledRelease
  readonly key: string
  readonly dropped: ReadonlyMap<ChannelId, ChannelDrop>
}

/** Fetches every manifest the verified fleet expects; a failed fetch is recorded, not raised. */
const fetchManifests = (source: ManifestSource["Type"], snapshot: FleetSnapshot) =>
  Effect.forEach(
    expectedManifests(snapshot),
    ({ channel, rolloutId }) => Effect.either(source.rolloutManifest(rolloutId)).pipe(Effect.map((r) => ({ channel, rolloutId, r }))),
    { concurrency: FETCH_CONCURRENCY }
  )

/** One poll's reads and verification (no reducer, no state). */
const verifyRelease = (
  source: ManifestSource["Type"],
  defaultWindowSecs: number
): Effect.Effect<Verification, FleetRejection> =>
  Effect.gen(function* () {
    const now = (yield* Clock.currentTimeMillis) as Timestamp
    const trust = yield* Effect.flatMap(source.trustJson, decodeTrust)
    for (const r of checkTrustRotations(trust, now)) {
      yield* Effect.logWarning("trust root rotation due: promote the successor key", { which: r.which, retireAt: new Date(r.retireAt).toISOString() })
    }
    const { keys, rejectBefore } = trustRootsAt(trust, now)
    const fleetPair = yield* source.fleetResolved
    const snapshot = yield* verifyFleetSnapshot(fleetPair.bytes, fleetPair.signature, { keys, rejectBefore, now, windowSecs: defaultWindowSecs })
    const fetched = yield* fetchManifests(source, snapshot)
    const received = new Map<RolloutId, SignedPair>()
    const fetchFailures = new Map<ChannelId, ManifestSourceError>()
    for (const { channel, rolloutId, r } of fetched) {
      if (Either.isRight(r)) received.set(rolloutId, r.right)
      else fetchFailures.set(channel, r.left)
    }
    const verified = verifyManifestSet(snapshot, received, { keys, rejectBefore, now, defaultWindowSecs })
    const dropped = new Map<ChannelId, ChannelDrop>()
    for (const [channel, error] of verified.failures) {
      // ManifestMissing means the fetch failed: report the fetch's own error.
      const missing = error._tag === "ManifestMissing"
        ? (fetchFailures.get(channel) ?? new ManifestSourceError({ reason: "NotFound", location: error.rolloutId, detail: error.message }))
        : error
      dropped.set(channel, missing)
    }
    const rollouts = new Map<ChannelId, RolloutManifest>()
    const rolloutArtifacts = new Map<RolloutId, SignedBytes>()
    for (const { channel, rolloutId } of fetched) {
      const manifest = verified.rollouts.get(channel)
      const pair = received.get(rolloutId)
      if (manifest === undefined || pair === undefined) continue
      rollouts.set(channel, manifest.inner())
      rolloutArtifacts.set(rolloutId, toSignedBytes(pair))
    }
    const manifests: VerifiedManifests = {
      set: { fleet: snapshot.fleet.inner(), rollouts },
      fleetHash: snapshot.fleetResolvedHash,
      signedAt: snapshot.fleet.signedAt(),
      rolloutArtifacts
    }
    return {
      release: { manifests, fleetArtifact: toSignedBytes(fleetPair) },
      key: releaseKey(fleetPair, snapshot.fleetResolvedHash, rolloutArtifacts),
      dropped
    }
  })

/** The last accepted release and its change key. */
interface Accepted {
  readonly release: PolledRelease
  readonly key: string
}

/**
 * The poll as a service value that hands accepted updates to `offer` (the reducer's `offer`:
 * `false` means "queue full, try again"). {@link layer} wires it to the {@link CpReducer}.
 */
export const make = (
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
      const result = yield* Effect.either(verifyRelease(source, windowSecs))
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

/**
 * Polls now and then every `interval`; a run longer than the interval is followed at once by the
 * next, and missed ticks are not replayed. Never fails; a defect is logged and the next tick runs.
 */
export const run = (poll: ManifestPollService, interval: Duration.DurationInput = DEFAULT_POLL_INTERVAL): Effect.Effect<never> =>
  poll.pollOnce.pipe(
    Effect.catchAllCause((cause) => Effect.logError("manifest poll failed unexpectedly; the next tick retries", cause)),
    Effect.repeat(Schedule.fixed(interval)),
    Effect.zipRight(Effect.never)
  )

/**
 * The manifest poll of the CP: primes once (bounded by `primeTimeout`, spec §2.7 startup step 4)
 * while the layer is built, then forks the loop in the layer's scope. A prime that produced a
 * verified set counts as the loop's first run; otherwise the loop starts at once.
 */
export const layer = (config: ManifestPollConfig = {}): Layer.Layer<ManifestPoll, never, ManifestSource | CpReducer> =>
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
