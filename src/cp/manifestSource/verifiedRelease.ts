/**
 * One read of a verified release from a ManifestSource: re-read trust.json, fetch and verify
 * fleet.resolved (signature, global freshness window, rejectBefore), then fetch and verify each
 * channel's current rollout manifest (its channel's window, rebuilt id = requested id,
 * `fleetResolvedHash` = the hash of the received fleet bytes).
 *
 * Invariants: `now` is read once from Effect's Clock; nothing unverified leaves this module — a
 * refused trust.json or fleet.resolved fails the whole read, a refused or missing manifest only
 * removes its channel (listed in `dropped` with the reason); the result carries the exact bytes
 * received, never a re-encoding.
 */
import { Effect, Either, Schema } from "effect"
import type { ChannelId, RolloutId } from "../../domain/ids.js"
import type { RolloutManifest } from "../../domain/manifest.js"
import { TrustConfig } from "../../domain/trust.js"
import { ManifestSourceError, type ManifestSourceService } from "../../ports/manifestSource.js"
import type { ManifestError, SidecarError } from "../../trust/errors.js"
import { sha256Hex } from "../../trust/hash.js"
import type { SignedPair } from "../../trust/layout.js"
import { expectedManifests, verifyManifestSet } from "../../trust/manifestSet.js"
import { checkTrustRotations } from "../../trust/rotation.js"
import { trustRootsAt } from "../../trust/sidecar.js"
import { type FleetSnapshot, verifyFleetSnapshot } from "../../trust/verify.js"
import type { SignedBytes, VerifiedManifests } from "../manifests.js"
import { now as currentTime } from "../../ports/clock.js"

/** Manifest fetches in flight at once: a handful of channels, without hammering the forge. */
const FETCH_CONCURRENCY = 4

/** trust.json is not UTF-8 JSON, or not a valid trust configuration (schemaVersion 1). */
export class InvalidTrustConfig extends Schema.TaggedError<InvalidTrustConfig>()("InvalidTrustConfig", {
  detail: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `trust.json refused: ${this.detail}`
  }
}

/** Why a whole read was refused (the caller keeps its previous set). */
export type FleetRejection = ManifestSourceError | InvalidTrustConfig | SidecarError

/** Why one channel was dropped from the set: it could not be fetched, or it failed verification. */
export type ChannelDrop = ManifestSourceError | ManifestError

/** A verified release: what the reducer caches, and the fleet.resolved bytes it came from. */
export interface PolledRelease {
  /** What the reducer caches. */
  readonly manifests: VerifiedManifests
  /** fleet.resolved exactly as received, and its signature (the routes serve them). */
  readonly fleetArtifact: SignedBytes
}

/** The outcome of {@link readVerifiedRelease}. */
export interface VerifiedRelease {
  /** The verified release. */
  readonly release: PolledRelease
  /** Equal keys ⇔ identical bytes everywhere: fleet, signatures, and the set of channel manifests. */
  readonly key: string
  /** Expected channels left out, with the reason. */
  readonly dropped: ReadonlyMap<ChannelId, ChannelDrop>
}

const toSignedBytes = (pair: SignedPair): SignedBytes => ({ artifact: pair.bytes, signature: pair.signature })

const releaseKey = (fleet: SignedPair, fleetHash: string, artifacts: ReadonlyMap<RolloutId, SignedBytes>): string =>
  [
    fleetHash,
    sha256Hex(fleet.signature),
    ...[...artifacts.entries()].map(([id, a]) => `${id}=${sha256Hex(a.artifact)}:${sha256Hex(a.signature)}`).sort()
  ].join("|")

/** Decodes trust.json bytes (UTF-8 JSON, `schemaVersion` 1; unknown fields ignored). */
export const decodeTrustConfig = (bytes: Uint8Array): Either.Either<TrustConfig, InvalidTrustConfig> => {
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

/** Fetches every manifest the verified fleet expects; a failed fetch is recorded, not raised. */
const fetchManifests = (source: ManifestSourceService, snapshot: FleetSnapshot) =>
  Effect.forEach(
    expectedManifests(snapshot),
    ({ channel, rolloutId }) => Effect.map(Effect.either(source.rolloutManifest(rolloutId)), (result) => ({ channel, rolloutId, result })),
    { concurrency: FETCH_CONCURRENCY }
  )

/**
 * Reads and verifies one release from `source`. `defaultWindowSecs` is fleet.resolved's freshness
 * window and that of channels without their own `freshnessWindow` (DESIGN.md: per-channel windows
 * are honoured). A due key rotation (trust.json `retireAt` passed) is logged as a warning.
 */
export const readVerifiedRelease = (
  source: ManifestSourceService,
  defaultWindowSecs: number
): Effect.Effect<VerifiedRelease, FleetRejection> =>
  Effect.gen(function* () {
    const now = (yield* currentTime)
    const trust = yield* Effect.flatMap(source.trustJson, decodeTrustConfig)
    for (const r of checkTrustRotations(trust, now)) {
      yield* Effect.logWarning("trust root rotation due: promote the successor key", { which: r.which, retireAt: new Date(r.retireAt).toISOString() })
    }
    const { keys, rejectBefore } = trustRootsAt(trust, now)
    const fleetPair = yield* source.fleetResolved
    const snapshot = yield* verifyFleetSnapshot(fleetPair.bytes, fleetPair.signature, { keys, rejectBefore, now, windowSecs: defaultWindowSecs })
    const fetched = yield* fetchManifests(source, snapshot)
    const received = new Map<RolloutId, SignedPair>()
    const fetchFailures = new Map<ChannelId, ManifestSourceError>()
    for (const { channel, rolloutId, result } of fetched) {
      if (Either.isRight(result)) received.set(rolloutId, result.right)
      else fetchFailures.set(channel, result.left)
    }
    const verified = verifyManifestSet(snapshot, received, { keys, rejectBefore, now, defaultWindowSecs })
    const dropped = new Map<ChannelId, ChannelDrop>()
    for (const [channel, error] of verified.failures) {
      // ManifestMissing means the fetch failed: report the fetch's own error.
      dropped.set(
        channel,
        error._tag !== "ManifestMissing"
          ? error
          : (fetchFailures.get(channel) ?? new ManifestSourceError({ reason: "NotFound", location: error.rolloutId, detail: error.message }))
      )
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
      rolloutArtifacts,
      fleetArtifact: toSignedBytes(fleetPair)
    }
    return {
      release: { manifests, fleetArtifact: toSignedBytes(fleetPair) },
      key: releaseKey(fleetPair, snapshot.fleetResolvedHash, rolloutArtifacts),
      dropped
    }
  }).pipe(Effect.withSpan("ManifestSource.readVerifiedRelease"))
