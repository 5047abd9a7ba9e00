/**
 * What the agent checks before it acts on its CP's word: fleet.resolved verifies against the
 * agent's own trust.json (its channel policies give `onHealthFailure`), and a dispatch matches the
 * signed rollout manifest (the manifest verifies, binds to that fleet, and lists this host with
 * exactly the dispatched closure), so a compromised CP cannot make a host switch to anything CI
 * did not sign.
 *
 * Invariant: pure and total (`now` is a parameter); a refusal says why and changes nothing.
 */
import { Data, Either } from "effect"
import type { FleetResolved } from "../domain/fleet.js"
import type { ChannelId, HostId } from "../domain/ids.js"
import { rolloutChannel } from "../domain/ids.js"
import type { OnHealthFailure } from "../domain/policy.js"
import type { Timestamp } from "../domain/time.js"
import type { TrustConfig } from "../domain/trust.js"
import type { DispatchEntry } from "../ports/storage.js"
import { trustRootsAt } from "../trust/sidecar.js"
import { channelWindowSecs, verifyFleetSnapshot, verifyRolloutManifest } from "../trust/verify.js"
import type { SignedFleet, SignedManifest } from "../wire/schemas.js"

/** fleet.resolved did not verify against the agent's trust roots. */
export class FleetRefused extends Data.TaggedError("FleetRefused")<{ readonly reason: string }> {
  /** The message of this error. */
  override get message(): string {
    return `fleet.resolved refused: ${this.reason}`
  }
}

/** A dispatch does not match the signed rollout manifest (or the manifest did not verify). */
export class DispatchRefused extends Data.TaggedError("DispatchRefused")<{ readonly rolloutId: string; readonly reason: string }> {
  /** The message of this error. */
  override get message(): string {
    return `dispatch of ${this.rolloutId} refused: ${this.reason}`
  }
}

/** A verified fleet.resolved, reduced to what the agent uses. */
export interface VerifiedFleet {
  readonly fleet: FleetResolved
  /** The hash rollout manifests must bind to. */
  readonly fleetHash: string
  /** `onHealthFailure` of every channel whose policy resolves. */
  readonly policies: ReadonlyMap<ChannelId, OnHealthFailure>
}

/** `fleet.rolloutPolicies[fleet.channels[channel].rolloutPolicy].onHealthFailure` for every channel that has one. */
export const channelPolicies = (fleet: FleetResolved): ReadonlyMap<ChannelId, OnHealthFailure> => {
  const policies = new Map<ChannelId, OnHealthFailure>()
  for (const [channel, def] of Object.entries(fleet.channels)) {
    const policy = fleet.rolloutPolicies[def.rolloutPolicy]
    if (policy !== undefined) policies.set(channel as ChannelId, policy.onHealthFailure)
  }
  return policies
}

/** Verifies the served fleet.resolved (signature, freshness, kill-switch) against `trust` at `now`. */
export const verifyFleet = (
  signed: SignedFleet,
  trust: TrustConfig,
  now: Timestamp,
  windowSecs: number
): Either.Either<VerifiedFleet, FleetRefused> => {
  const { keys, rejectBefore } = trustRootsAt(trust, now)
  return Either.mapBoth(verifyFleetSnapshot(signed.artifact, signed.signature, { keys, rejectBefore, now, windowSecs }), {
    onLeft: (error) => new FleetRefused({ reason: error.message }),
    onRight: (snapshot) => {
      const fleet = snapshot.fleet.inner()
      return { fleet, fleetHash: snapshot.fleetResolvedHash, policies: channelPolicies(fleet) }
    }
  })
}

/**
 * Checks a dispatch against its signed rollout manifest: the manifest verifies (the channel's own
 * freshness window), declares the dispatched rollout id, binds to `fleet`, and lists `hostname`
 * with the dispatched target closure.
 */
export const verifyDispatch = (
  entry: DispatchEntry,
  signed: SignedManifest,
  fleet: VerifiedFleet,
  options: { readonly trust: TrustConfig; readonly now: Timestamp; readonly windowSecs: number; readonly hostname: HostId }
): Either.Either<void, DispatchRefused> => {
  const refuse = (reason: string) => Either.left(new DispatchRefused({ rolloutId: entry.rolloutId, reason }))
  const { keys, rejectBefore } = trustRootsAt(options.trust, options.now)
  const verified = verifyRolloutManifest(signed.manifest, signed.signature, {
    keys,
    rejectBefore,
    now: options.now,
    windowSecs: channelWindowSecs(fleet.fleet.channels, rolloutChannel(entry.rolloutId), options.windowSecs),
    requestedId: entry.rolloutId,
    fleetResolvedHash: fleet.fleetHash
  })
  if (Either.isLeft(verified)) return refuse(verified.left.message)
  const host = verified.right.inner().hostSet.find((h) => h.hostname === options.hostname)
  if (host === undefined) return refuse(`the manifest does not list host ${options.hostname}`)
  if (host.targetClosure !== entry.targetClosure) {
    return refuse(`the manifest's closure for ${options.hostname} is ${host.targetClosure}, not the dispatched ${entry.targetClosure}`)
  }
  return Either.void
}
