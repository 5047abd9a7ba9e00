/**
 * One poll's worth of verification, as pure functions: which rollout manifests a verified fleet
 * expects, and the per-channel verification of the fetched manifests.
 *
 * Invariant: a channel appears in `rollouts` only if its manifest verified, was requested under
 * the id the verified fleet projects, and binds to that fleet's hash; every other expected
 * channel appears in `failures` with its reason (the planner then treats it as absent). A failing
 * channel never affects another one.
 */
import { Data, Either } from "effect"
import { type ChannelId, type RolloutId, rolloutChannel } from "../domain/ids.js"
import { compareStrings } from "../domain/fleet.js"
import type { FleetResolved } from "../domain/fleet.js"
import { currentRolloutIds, type RolloutManifest } from "../domain/manifest.js"
import type { Timestamp } from "../domain/time.js"
import type { TrustedPubkey } from "../domain/trust.js"
import type { ManifestError } from "./errors.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "./sidecar.js"
import type { Verified } from "./verified.js"
import { channelWindowSecs, type FleetSnapshot, verifyRolloutManifest } from "./verify.js"

/** The manifest a verified fleet expects for one channel. */
export interface ExpectedManifest {
  /** The channel. */
  readonly channel: ChannelId
  /** The id to fetch it under (`releases/rollouts/<rolloutId>.json`). */
  readonly rolloutId: RolloutId
}

/** The manifests a verified fleet expects, one per channel with a non-empty projection, sorted by channel. */
export const expectedManifests = (snapshot: FleetSnapshot): ReadonlyArray<ExpectedManifest> =>
  [...currentRolloutIds(snapshot.fleet.inner(), snapshot.fleetResolvedHash)]
    .map((rolloutId) => ({ channel: rolloutChannel(rolloutId), rolloutId }))
    .sort((a, b) => compareStrings(a.channel, b.channel))

/** The fetched bytes and raw signature of one manifest. */
export interface FetchedArtifact {
  /** The artifact bytes as received. */
  readonly bytes: string | Uint8Array
  /** The raw 64-byte signature sidecar. */
  readonly signature: Uint8Array
}

/** An expected manifest could not be fetched (missing on the source). */
export class ManifestMissing extends Data.TaggedError("ManifestMissing")<{ readonly rolloutId: RolloutId }> {
  /** The message of this error. */
  override get message(): string {
    return `rollout manifest ${this.rolloutId} not available`
  }
}

/** The per-channel outcome of one poll. */
export interface ManifestSetVerification {
  /** The verified fleet snapshot the manifests were checked against. */
  readonly snapshot: FleetSnapshot
  /** Channels whose manifest verified. */
  readonly rollouts: ReadonlyMap<ChannelId, Verified<RolloutManifest>>
  /** Expected channels whose manifest was missing or refused, with the reason. */
  readonly failures: ReadonlyMap<ChannelId, ManifestError | ManifestMissing>
}

/** Trust roots and clock for {@link verifyManifestSet}. */
export interface ManifestSetOptions {
  /** Trusted keys, in order. */
  readonly keys: ReadonlyArray<TrustedPubkey>
  /** The compromise kill-switch. */
  readonly rejectBefore?: Timestamp | null | undefined
  /** The current instant. */
  readonly now: Timestamp
  /** The window for channels without their own (default 1440 minutes). */
  readonly defaultWindowSecs?: number | undefined
}

/**
 * Verifies every manifest the fleet expects, each with its channel's freshness window. `fetched`
 * maps a rollout id to its bytes and signature (absent when the fetch failed).
 */
export const verifyManifestSet = (
  snapshot: FleetSnapshot,
  fetched: ReadonlyMap<string, FetchedArtifact>,
  options: ManifestSetOptions
): ManifestSetVerification => {
  const rollouts = new Map<ChannelId, Verified<RolloutManifest>>()
  const failures = new Map<ChannelId, ManifestError | ManifestMissing>()
  const channels = snapshot.fleet.inner().channels
  for (const { channel, rolloutId } of expectedManifests(snapshot)) {
    const artifact = fetched.get(rolloutId)
    if (artifact === undefined) {
      failures.set(channel, new ManifestMissing({ rolloutId }))
      continue
    }
    const result = verifyRolloutManifest(artifact.bytes, artifact.signature, {
      keys: options.keys,
      rejectBefore: options.rejectBefore,
      now: options.now,
      windowSecs: channelWindowSecs(channels, channel, options.defaultWindowSecs ?? DEFAULT_FRESHNESS_WINDOW_SECS),
      requestedId: rolloutId,
      fleetResolvedHash: snapshot.fleetResolvedHash
    })
    if (Either.isRight(result)) rollouts.set(channel, result.right)
    else failures.set(channel, result.left)
  }
  return { snapshot, rollouts, failures }
}

/**
 * The verified values, unwrapped for the planner (structurally the planner's `ManifestSet`):
 * the fleet and each channel's manifest that verified. Call it only on a verification result, so
 * everything handed on has passed verification.
 */
export const verifiedManifestValues = (
  verification: ManifestSetVerification
): { readonly fleet: FleetResolved; readonly rollouts: ReadonlyMap<ChannelId, RolloutManifest> } => ({
  fleet: verification.snapshot.fleet.inner(),
  rollouts: new Map([...verification.rollouts].map(([channel, manifest]) => [channel, manifest.inner()]))
})
