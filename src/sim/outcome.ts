/**
 * The demo's expected outcome, checked on a final snapshot: every channel Terminal with all its
 * hosts Converged, except (when the canary fails) the failing canary's channel, which is Failed
 * with no other host dispatched and, under its policy's `rollback-and-halt`, its canary Reverted
 * and the closure quarantined on that channel; under `halt`, its canary Failed (policy `halt`)
 * and nothing quarantined (only a completed rollback quarantines).
 *
 * Broken simulator invariants count as deviations too.
 *
 * Invariant: pure; lists every deviation rather than stopping at the first.
 */
import { CANARY_POLICY, type SignedSampleFleet } from "./sampleFleet.js"
import type { Violation } from "./invariants.js"
import type { Snapshot } from "./snapshot.js"

/** The verdict: ok, or the deviations found. */
export interface Outcome {
  readonly ok: boolean
  readonly problems: ReadonlyArray<string>
}

/** Checks `final` against the expected outcome for `fleet`. */
export const verifyOutcome = (fleet: SignedSampleFleet, final: Snapshot, canaryFails: boolean, violations: ReadonlyArray<Violation> = []): Outcome => {
  const problems: Array<string> = violations.map((v) => `invariant ${v.invariant} broken at t+${v.atSecond}s (seed ${v.seed}): ${v.detail}`)
  const failing = fleet.failingCanary
  const halts = fleet.fleet.rolloutPolicies[CANARY_POLICY]?.onHealthFailure === "halt"
  for (const channel of fleet.channels) {
    const rollout = final.rollouts.find((r) => r.channel === channel)
    const records = final.records.filter((r) => r.channel === channel)
    const expectFailure = canaryFails && channel === failing.channel
    if (rollout === undefined) {
      problems.push(`${channel}: no rollout opened`)
      continue
    }
    if (!expectFailure) {
      if (rollout.state !== "Terminal") problems.push(`${channel}: rollout ${rollout.state}, expected Terminal`)
      const stray = records.filter((r) => r.state !== "Converged")
      if (stray.length > 0) problems.push(`${channel}: ${stray.length} host(s) not Converged (${stray.map((r) => `${r.hostname}=${r.state}`).join(", ")})`)
      continue
    }
    if (rollout.state !== "Failed") problems.push(`${channel}: rollout ${rollout.state}, expected Failed`)
    const canary = records.find((r) => r.hostname === failing.host)
    const expected = halts ? "Failed" : "Reverted"
    if (canary?.state !== expected) problems.push(`${channel}: canary ${failing.host} ${canary?.state ?? "absent"}, expected ${expected}`)
    else if (halts && canary.policyApplied !== "halt") problems.push(`${channel}: canary ${failing.host} Failed under ${canary.policyApplied}, expected halt`)
    const closure = fleet.fleet.hosts[failing.host]?.closureHash
    const quarantined = final.quarantines.some((q) => q.channel === channel && q.closureHash === closure)
    if (quarantined === halts) problems.push(`${channel}: canary closure ${halts ? "quarantined after a halt" : "not quarantined"}`)
    const dispatched = records.filter((r) => r.hostname !== failing.host && r.state !== "Pending")
    if (dispatched.length > 0) problems.push(`${channel}: ${dispatched.length} host(s) dispatched after the canary failed`)
  }
  return { ok: problems.length === 0, problems }
}
