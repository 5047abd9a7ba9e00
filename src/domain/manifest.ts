/**
 * The per-channel rollout manifest (`releases/rollouts/<rolloutId>.json`) and its pure projection
 * from `fleet.resolved`, shared by the producer (signing) and the CP (re-derivation).
 *
 * Invariant: `projectManifest` is pure and deterministic: the same fleet, channel, hash and
 * metadata always give the same manifest, with `hostSet` sorted by hostname and every budget's
 * `hosts` sorted, so its canonical JSON (and hence its signature) is stable. No crypto here.
 */
import { Data, Either, Schema } from "effect"
import { ArtifactMeta, compareStrings, firstWaveIndex, type FleetResolved, resolveSelector } from "./fleet.js"
import { ChannelId, ChannelRef, ClosureHash, HostId, makeRolloutId, type RolloutId } from "./ids.js"
import { HealthGate, Selector } from "./policy.js"
import { WaveIndex } from "./rollout.js"
import type { Timestamp } from "./time.js"

/** A lowercase hex sha256 (64 characters): the hash binding a manifest to one fleet snapshot. */
export const Sha256Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/), Schema.annotations({ identifier: "Sha256Hex" }))

/** One host of a rollout: its fleet wave position and the closure it moves to. */
export const ManifestHost = Schema.Struct({
  hostname: HostId,
  waveIndex: WaveIndex,
  targetClosure: ClosureHash
}).annotations({ identifier: "ManifestHost" })
/** One host of a rollout. */
export type ManifestHost = typeof ManifestHost.Type

/** A disruption budget frozen at projection time: the selector resolved to sorted hostnames. */
export const RolloutBudget = Schema.Struct({
  selector: Selector,
  /** Every fleet host (any channel) the selector picked when the manifest was projected, sorted. */
  hosts: Schema.Array(HostId),
  maxInFlight: Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.nonNegative())),
  maxInFlightPct: Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.nonNegative()))
}).annotations({ identifier: "RolloutBudget" })
/** A frozen disruption budget. */
export type RolloutBudget = typeof RolloutBudget.Type

/** The signed per-channel rollout manifest. Its identity is `makeRolloutId(channel, channelRef)`. */
export const RolloutManifest = Schema.Struct({
  schemaVersion: Schema.Number.pipe(Schema.int()),
  /** Display only: `channel@` + the first 8 characters of the CI commit, or `channel@unknown`. */
  displayName: Schema.String,
  channel: ChannelId,
  channelRef: ChannelRef,
  /** sha256 of the JCS of the received fleet.resolved bytes. */
  fleetResolvedHash: Sha256Hex,
  /** Sorted by hostname by the producer; decoding keeps the received order. */
  hostSet: Schema.Array(ManifestHost),
  healthGate: HealthGate,
  disruptionBudgets: Schema.optionalWith(Schema.Array(RolloutBudget), { default: () => [] }),
  meta: ArtifactMeta
}).annotations({ identifier: "RolloutManifest" })
/** The signed per-channel rollout manifest. */
export type RolloutManifest = typeof RolloutManifest.Type

/** The projection could not run: the channel, or its rollout policy, is not in the fleet. */
export class ManifestProjectionError extends Data.TaggedError("ManifestProjectionError")<{
  readonly channel: string
  readonly reason: "unknown-channel" | "unknown-policy"
  readonly policy: string | null
}> {
  /** The message of this error. */
  override get message(): string {
    return this.reason === "unknown-channel"
      ? `channel ${this.channel} missing from fleet.channels`
      : `rollout policy ${String(this.policy)} for channel ${this.channel} not found in fleet.rolloutPolicies`
  }
}

/**
 * Projects one channel of a fleet into its rollout manifest (spec §2.2). Right(null) when no host
 * on the channel has a closure (no manifest, no rollout); Left when the channel or its policy is
 * missing. `signatureAlgorithm` is written when given and omitted when `undefined`.
 */
export const projectManifest = (
  fleet: FleetResolved,
  channel: ChannelId,
  fleetHash: string,
  signedAt: Timestamp,
  ciCommit: string | null,
  signatureAlgorithm: string | undefined
): Either.Either<RolloutManifest | null, ManifestProjectionError> => {
  const channelDef = fleet.channels[channel]
  if (channelDef === undefined) return Either.left(new ManifestProjectionError({ channel, reason: "unknown-channel", policy: null }))
  const policy = fleet.rolloutPolicies[channelDef.rolloutPolicy]
  if (policy === undefined) {
    return Either.left(new ManifestProjectionError({ channel, reason: "unknown-policy", policy: channelDef.rolloutPolicy }))
  }
  const firstWave = firstWaveIndex(fleet.waves[channel] ?? [])
  const hostSet: Array<ManifestHost> = []
  for (const hostname of Object.keys(fleet.hosts) as Array<HostId>) {
    const host = fleet.hosts[hostname]
    if (host === undefined || host.channel !== channel || host.closureHash === null) continue
    hostSet.push({ hostname, waveIndex: firstWave.get(hostname) ?? 0, targetClosure: host.closureHash })
  }
  if (hostSet.length === 0) return Either.right(null)
  hostSet.sort((a, b) => compareStrings(a.hostname, b.hostname))
  const meta: ArtifactMeta = {
    schemaVersion: 1,
    signedAt,
    ciCommit,
    ...(signatureAlgorithm === undefined ? {} : { signatureAlgorithm })
  }
  return Either.right({
    schemaVersion: 1,
    displayName: `${channel}@${ciCommit === null ? "unknown" : [...ciCommit].slice(0, 8).join("")}`,
    channel,
    channelRef: (ciCommit ?? "") as ChannelRef,
    fleetResolvedHash: fleetHash,
    hostSet,
    healthGate: policy.healthGate,
    disruptionBudgets: fleet.disruptionBudgets.map((b) => ({
      selector: b.selector,
      hosts: resolveSelector(fleet, b.selector),
      maxInFlight: b.maxInFlight,
      maxInFlightPct: b.maxInFlightPct
    })),
    meta
  })
}

/**
 * The rollout ids the fleet expects now: one per channel whose projection is non-null, projected
 * with the fleet's own `signedAt`, `ciCommit` and algorithm (default `ed25519`). An unsigned fleet
 * (`signedAt: null`) or a channel whose projection fails contributes nothing.
 */
export const currentRolloutIds = (fleet: FleetResolved, fleetHash: string): ReadonlySet<RolloutId> => {
  const ids = new Set<RolloutId>()
  const signedAt = fleet.meta.signedAt
  if (signedAt === null) return ids
  const alg = fleet.meta.signatureAlgorithm ?? "ed25519"
  for (const channel of (Object.keys(fleet.channels) as Array<ChannelId>).sort(compareStrings)) {
    const projected = projectManifest(fleet, channel, fleetHash, signedAt, fleet.meta.ciCommit, alg)
    if (Either.isRight(projected) && projected.right !== null) {
      ids.add(makeRolloutId(projected.right.channel, projected.right.channelRef))
    }
  }
  return ids
}

/** The rollout id a manifest declares: `makeRolloutId(channel, channelRef)`. */
export const manifestRolloutId = (manifest: RolloutManifest): RolloutId => makeRolloutId(manifest.channel, manifest.channelRef)
