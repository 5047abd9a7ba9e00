/**
 * Rehydration: rebuilding agent state from the CP's heartbeat snapshots (spec state-machines §8).
 *
 * Invariants: pure; agent-only fields (probes, failure and convergence times, policy applied)
 * survive a merge, so the sustained-failure timer is not reset by every heartbeat; and — where we
 * deliberately differ from the reference — seq numbers never go backwards: when the agent's own
 * record is ahead of the snapshot (its newer events have not reached the CP yet), the agent's
 * record is kept as it is and its outbound queue brings the CP up to date.
 */
import type { HostEffect } from "../domain/effects.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { HostRolloutSnapshot } from "../domain/snapshot.js"

/** Effects to run after a record is rehydrated: none for Pending, a probe-cache reset otherwise. */
export const rehydrationEffects = (state: HostRolloutState): ReadonlyArray<HostEffect> =>
  state.state === "Pending" ? [] : [{ _tag: "LocalResetProbeCache", rolloutId: state.rolloutId }]

/**
 * Merges a CP snapshot into the agent's record for the same rollout (or builds one when there is
 * none). Snapshot fields win, agent-only fields are kept from `existing` or defaulted; an
 * `existing` record with a higher `lastEventSeq` than the snapshot is returned unchanged.
 */
export const mergeSnapshot = (existing: HostRolloutState | undefined, snapshot: HostRolloutSnapshot): HostRolloutState => {
  if (existing !== undefined && existing.lastEventSeq > snapshot.lastEventSeq) return existing
  return {
    rolloutId: snapshot.rolloutId,
    hostname: snapshot.hostname,
    channel: snapshot.channel,
    state: snapshot.state,
    targetClosure: snapshot.targetClosure,
    currentClosureAtDispatch: snapshot.currentClosureAtDispatch,
    currentClosure: snapshot.currentClosure,
    dispatchedAt: snapshot.dispatchedAt,
    dispatchAckedAt: snapshot.dispatchAckedAt,
    activationStartedAt: snapshot.activationStartedAt,
    activationCompletedAt: snapshot.activationCompletedAt,
    soakDueAt: snapshot.soakDueAt,
    lastEventSeq: snapshot.lastEventSeq,
    probes: existing?.probes ?? {},
    probeObservedFirstAt: existing?.probeObservedFirstAt ?? null,
    probeFailureFirstAt: existing?.probeFailureFirstAt ?? null,
    activationFailedAt: existing?.activationFailedAt ?? null,
    failedAt: existing?.failedAt ?? null,
    convergedAt: existing?.convergedAt ?? null,
    revertedTo: existing?.revertedTo ?? null,
    revertedAt: existing?.revertedAt ?? null,
    policyApplied: existing?.policyApplied ?? null
  }
}
