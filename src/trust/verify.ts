/**
 * Typed verifiers for the three signed artifacts: fleet.resolved, rollout manifests and
 * revocations, all through {@link verifySignedSidecar}.
 *
 * Invariant: pure and total (`now` is a parameter). A rollout manifest is accepted only if,
 * after signature and freshness, it declares exactly the requested rollout id (checked first)
 * and binds to the verified fleet's `fleetResolvedHash`. A verified fleet carries its rollout
 * policies normalised (`normalizeRolloutPolicies`), in memory only.
 */
import { Either } from "effect"
import { type FleetChannel, FleetResolved, freshnessWindowSeconds, normalizeRolloutPolicies } from "../domain/fleet.js"
import { RolloutManifest } from "../domain/manifest.js"
import { Revocations } from "../domain/trust.js"
import { checkRolloutIdDiscriminator } from "./discriminator.js"
import { FleetHashMismatch, type ManifestError, type RolloutIdMismatch, type SidecarError } from "./errors.js"
import { sha256Hex } from "./hash.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS, verifySignedDocument, verifySignedSidecar, type VerifyOptions } from "./sidecar.js"
import { mintVerified, type Verified } from "./verified.js"

/** A verified fleet.resolved with the hash rollout manifests must bind to. */
export interface FleetSnapshot {
  /** The verified fleet, rollout policies normalised. */
  readonly fleet: Verified<FleetResolved>
  /** sha256 (lowercase hex) of the JCS of the received bytes. */
  readonly fleetResolvedHash: string
}

/** Verifies fleet.resolved and returns it with its `fleetResolvedHash` (one canonicalisation). */
export const verifyFleetSnapshot = (
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions
): Either.Either<FleetSnapshot, SidecarError> =>
  Either.map(verifySignedDocument(FleetResolved, bytes, signature, options), ({ canonical, verified }) => ({
    fleet: mintVerified(normalizeRolloutPolicies(verified.inner()), verified.signedAt()),
    fleetResolvedHash: sha256Hex(canonical)
  }))

/** Verifies fleet.resolved (see {@link verifyFleetSnapshot} for the variant that also returns the hash). */
export const verifyFleetResolved = (
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions
): Either.Either<Verified<FleetResolved>, SidecarError> =>
  Either.map(verifyFleetSnapshot(bytes, signature, options), (snapshot) => snapshot.fleet)

/** Verifies the signed revocations list. */
export const verifyRevocations = (
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions
): Either.Either<Verified<Revocations>, SidecarError> => verifySignedSidecar(Revocations, bytes, signature, options)

/** What a rollout manifest must bind to, besides the trust roots. */
export interface ManifestExpectation {
  /** The id the manifest was requested under (from `currentRolloutIds` of the verified fleet). */
  readonly requestedId: string
  /** The verified fleet's `fleetResolvedHash`. */
  readonly fleetResolvedHash: string
}

/** Checks a verified manifest's id (first) and fleet binding (second). */
export const checkManifestBinding = (
  manifest: RolloutManifest,
  expectation: ManifestExpectation
): Either.Either<RolloutManifest, RolloutIdMismatch | FleetHashMismatch> =>
  Either.flatMap(checkRolloutIdDiscriminator(manifest.channel, manifest.channelRef, expectation.requestedId), () =>
    manifest.fleetResolvedHash === expectation.fleetResolvedHash
      ? Either.right(manifest)
      : Either.left(new FleetHashMismatch({ expected: expectation.fleetResolvedHash, actual: manifest.fleetResolvedHash }))
  )

/**
 * Verifies a rollout manifest: signature, schema and freshness (as every sidecar), then the
 * rollout-id discriminator and the `fleetResolvedHash` binding.
 */
export const verifyRolloutManifest = (
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions & ManifestExpectation
): Either.Either<Verified<RolloutManifest>, ManifestError> =>
  Either.flatMap(verifySignedSidecar(RolloutManifest, bytes, signature, options), (verified) =>
    Either.map(checkManifestBinding(verified.inner(), options), () => verified)
  )

/**
 * The freshness window (seconds) for a channel's manifest. Decision (spec A4, DESIGN.md): the
 * channel's own `freshnessWindow` (minutes × 60) when the channel is known, else the global
 * default. fleet.resolved and revocations use the global window.
 */
export const channelWindowSecs = (
  channels: Readonly<Record<string, FleetChannel>>,
  channel: string,
  defaultSecs: number = DEFAULT_FRESHNESS_WINDOW_SECS
): number => {
  const def = Object.prototype.hasOwnProperty.call(channels, channel) ? channels[channel] : undefined
  return def === undefined ? defaultSecs : freshnessWindowSeconds(def)
}
