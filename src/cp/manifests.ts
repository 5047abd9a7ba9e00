/**
 * The CP's view of the verified manifest set: the planner's input plus what the HTTP routes serve
 * (the signed bytes of each rollout manifest) and how a channel's policy is resolved.
 *
 * Invariant: values here were produced by signature verification (src/trust) and are only read;
 * a channel that failed verification is absent.
 */
import type { ChannelId, RolloutId } from "../domain/ids.js"
import type { RolloutPolicy } from "../domain/policy.js"
import type { ManifestSet } from "../planner/types.js"

/** A signed artifact as served to agents: the exact bytes and the detached signature. */
export interface SignedBytes {
  readonly artifact: Uint8Array
  readonly signature: Uint8Array
}

/** The verified manifest set the reducer caches, with the bytes the routes serve. */
export interface VerifiedManifests {
  readonly set: ManifestSet
  /** sha256 (hex) of the canonical fleet.resolved the set was verified against. */
  readonly fleetHash: string
  /** When the fleet artifact was signed (epoch ms). */
  readonly signedAt: number
  /** Signed rollout manifests by rollout id, as received. */
  readonly rolloutArtifacts: ReadonlyMap<RolloutId, SignedBytes>
  /** fleet.resolved as received and its signature (served to agents); absent when not known. */
  readonly fleetArtifact?: SignedBytes
}

/**
 * The policy of a channel: `fleet.rolloutPolicies[fleet.channels[channel].rolloutPolicy]`, or
 * `undefined` when the channel or its policy is missing.
 */
export const resolvePolicy = (manifests: VerifiedManifests, channel: ChannelId): RolloutPolicy | undefined => {
  const fleet = manifests.set.fleet
  const name = fleet.channels[channel]?.rolloutPolicy
  return name === undefined ? undefined : fleet.rolloutPolicies[name]
}
