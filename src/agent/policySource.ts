/**
 * Where the agent's channel policies come from: the CP serves fleet.resolved and the rollout
 * manifests, the agent verifies them against its own trust.json (src/agent/trust.ts) and hands
 * every channel's `onHealthFailure` to the reducer (`PolicyUpdated`).
 *
 * Invariant: nothing unverified reaches the reducer; a dispatch is accepted only once its policy
 * has been offered, so the reducer always knows the policy before the `LocalActivate` that needs
 * it (one FIFO queue).
 */
import { Effect, Either } from "effect"
import type { OnHealthFailure } from "../domain/policy.js"
import { rolloutChannel } from "../domain/ids.js"
import { now } from "../ports/clock.js"
import type { ControlPlaneClientService, CpError } from "../ports/controlPlaneClient.js"
import type { DispatchEntry } from "../ports/storage.js"
import type { ResolvedAgentConfig } from "./config.js"
import { AgentInput } from "./input.js"
import { type DispatchRefused, type FleetRefused, verifyDispatch, verifyFleet, type VerifiedFleet } from "./trust.js"

/** The agent's policy source. */
export interface PolicySource {
  /** Fetches and verifies fleet.resolved, then offers every channel's policy to the reducer. */
  readonly refresh: Effect.Effect<VerifiedFleet, CpError | FleetRefused>
  /**
   * Checks a dispatch against the verified fleet and its signed manifest, offers the channel's
   * policy, and returns it.
   */
  readonly forDispatch: (entry: DispatchEntry) => Effect.Effect<OnHealthFailure, CpError | FleetRefused | DispatchRefused>
}

/** Builds the policy source over the client, offering to the reducer. */
export const makePolicySource = (
  config: ResolvedAgentConfig,
  client: ControlPlaneClientService,
  offer: (input: AgentInput) => Effect.Effect<void>
): PolicySource => {
  const refresh = Effect.gen(function* () {
    const signed = yield* client.fleetResolved
    const verified = yield* Either.match(verifyFleet(signed, config.trust, yield* now, config.freshnessWindowSecs), {
      onLeft: Effect.fail,
      onRight: Effect.succeed
    })
    for (const [channel, onHealthFailure] of verified.policies) yield* offer(AgentInput.PolicyUpdated({ channel, onHealthFailure }))
    return verified
  }).pipe(Effect.withSpan("Agent.refreshPolicies"))

  const forDispatch = (entry: DispatchEntry) =>
    Effect.gen(function* () {
      const fleet = yield* refresh
      const manifest = yield* client.rolloutManifest(entry.rolloutId)
      const options = { trust: config.trust, now: yield* now, windowSecs: config.freshnessWindowSecs, hostname: config.hostname }
      yield* Either.match(verifyDispatch(entry, manifest, fleet, options), { onLeft: Effect.fail, onRight: Effect.succeed })
      const policy = fleet.policies.get(rolloutChannel(entry.rolloutId))
      // A verified manifest implies its channel is in the verified fleet; "halt" only if the fleet has no policy for it.
      return policy ?? "halt"
    }).pipe(Effect.withSpan("Agent.verifyDispatch"))

  return { refresh, forDispatch }
}
