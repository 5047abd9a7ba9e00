/**
 * What the agent checks before it acts on its CP's word: fleet.resolved verifies against the
 * agent's own trust.json (its channel policies give `onHealthFailure`), and a dispatch matches the
 * signed rollout manifest (the manifest verifies, binds to that fleet, and lists this host with
 * exactly the dispatched closure), so a compromised CP cannot make a host switch to anything CI
 * did not sign.
 *
 * Both verifications are memoised per process (see `remembered`): agents sharing a process (the
 * simulator's) are served the very same bytes by their CP and would each parse, canonicalise,
 * decode and check the signature of the same document; a memoised success is reused only while
 * the artifact is still fresh at `now`.
 *
 * Invariant: total, and pure as seen from outside (`now` is a parameter; the memo returns exactly
 * what verification would); a refusal says why and changes nothing.
 */
import { Data, Either } from "effect"
import type { FleetResolved } from "../domain/fleet.js"
import type { ChannelId, HostId } from "../domain/ids.js"
import { rolloutChannel } from "../domain/ids.js"
import type { OnHealthFailure } from "../domain/policy.js"
import type { Timestamp } from "../domain/time.js"
import type { TrustConfig } from "../domain/trust.js"
import type { DispatchEntry } from "../ports/storage.js"
import type { TrustedPubkey } from "../domain/trust.js"
import { CLOCK_SKEW_SLACK_SECS } from "../trust/errors.js"
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

/** A memoised verification success: the artifact's `signedAt` and what verification returned. */
interface Remembered<A> {
  readonly signedAt: number
  readonly value: A
}

/**
 * Verification successes per received bytes object (weakly held: gone with the bytes), then per
 * everything else verification reads except `now` (signature, keys, kill-switch, window, ...).
 */
const memo = new WeakMap<Uint8Array, Map<string, Remembered<unknown>>>()

/** Whether an artifact signed at `signedAt` is inside the freshness window at `now` (the sidecar's gate: window plus clock-skew slack, either side). */
const freshAt = (signedAt: number, now: number, windowSecs: number): boolean =>
  now - signedAt <= (windowSecs + CLOCK_SKEW_SLACK_SECS) * 1000 && signedAt - now <= CLOCK_SKEW_SLACK_SECS * 1000

/** The memo key of a verification's inputs other than the bytes and `now`. */
const inputsKey = (signature: Uint8Array, keys: ReadonlyArray<TrustedPubkey>, ...rest: ReadonlyArray<string | number | null>): string =>
  [Buffer.from(signature).toString("base64"), ...keys.map((k) => `${k.algorithm}:${k.public}`), ...rest.map(String)].join("|")

/**
 * `verify()`, or the success it returned for the same bytes object and `key` while still fresh at
 * `now` (a stale or failed one runs `verify` again, so errors are always verification's own).
 */
const remembered = <A, E>(
  bytes: Uint8Array,
  key: string,
  now: number,
  windowSecs: number,
  verify: () => Either.Either<Remembered<A>, E>
): Either.Either<A, E> => {
  const hit = memo.get(bytes)?.get(key) as Remembered<A> | undefined
  if (hit !== undefined && freshAt(hit.signedAt, now, windowSecs)) return Either.right(hit.value)
  const result = verify()
  if (Either.isRight(result)) {
    const perBytes = memo.get(bytes) ?? new Map<string, Remembered<unknown>>()
    perBytes.set(key, result.right)
    memo.set(bytes, perBytes)
  }
  return Either.map(result, (r) => r.value)
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
  return remembered(signed.artifact, inputsKey(signed.signature, keys, rejectBefore, windowSecs), now, windowSecs, () =>
    Either.mapBoth(verifyFleetSnapshot(signed.artifact, signed.signature, { keys, rejectBefore, now, windowSecs }), {
      onLeft: (error) => new FleetRefused({ reason: error.message }),
      onRight: (snapshot): Remembered<VerifiedFleet> => {
        const fleet = snapshot.fleet.inner()
        return { signedAt: snapshot.fleet.signedAt(), value: { fleet, fleetHash: snapshot.fleetResolvedHash, policies: channelPolicies(fleet) } }
      }
    })
  )
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
  const windowSecs = channelWindowSecs(fleet.fleet.channels, rolloutChannel(entry.rolloutId), options.windowSecs)
  const key = inputsKey(signed.signature, keys, rejectBefore, windowSecs, entry.rolloutId, fleet.fleetHash)
  const verified = remembered(signed.manifest, key, options.now, windowSecs, () =>
    Either.map(
      verifyRolloutManifest(signed.manifest, signed.signature, {
        keys,
        rejectBefore,
        now: options.now,
        windowSecs,
        requestedId: entry.rolloutId,
        fleetResolvedHash: fleet.fleetHash
      }),
      (manifest) => ({ signedAt: manifest.signedAt(), value: manifest.inner() })
    )
  )
  if (Either.isLeft(verified)) return refuse(verified.left.message)
  const host = verified.right.hostSet.find((h) => h.hostname === options.hostname)
  if (host === undefined) return refuse(`the manifest does not list host ${options.hostname}`)
  if (host.targetClosure !== entry.targetClosure) {
    return refuse(`the manifest's closure for ${options.hostname} is ${host.targetClosure}, not the dispatched ${entry.targetClosure}`)
  }
  return Either.void
}
