/**
 * Heartbeat recovery: the events the CP synthesises when an agent's reported closure shows that
 * the CP missed transitions (seeds: `maybe_synthesize_recovery_completion`), and which of the
 * host's records a heartbeat reply carries back to the agent.
 *
 * Invariants: pure; synthesised events are ordinary Remote events with the next seqs, so they go
 * through the same `step()` and leave the same audit trail as real ones; a record that already
 * advanced matches no rule, which makes the synthesis idempotent; a record the CP settled (by
 * synthesis or otherwise) in the host's current rollout is still reported to the agent.
 */
import { compareStrings } from "../domain/fleet.js"
import type { RemoteEvent } from "../domain/events.js"
import type { HostRolloutState } from "../domain/hostState.js"
import { type ClosureHash, type HostId, makeRolloutId, type RolloutId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import type { ManifestSet } from "../planner/types.js"

/**
 * The events to synthesise for one active record when the agent reports `current` at `at`:
 * - Activating or Deferred at the target: the agent restarted mid-activation or rebooted after a
 *   deferral → ActivationCompleted;
 * - Pending at the target (the CP database was wiped): DispatchAck, ActivationCompleted and
 *   Converged at `max(at, soakDueAt)`, but only when no gate but the disruption budget would
 *   block the host (`gateBlocks` false; see `evaluateForRecovery`); the prior closure is unknown, so the ack records the current one —
 *   a rollback target equal to the running closure is a harmless no-op;
 * - Failed under `rollback-and-halt` with the prior closure running, seen no earlier than the
 *   failure: the rollback happened but its ack was lost → RollbackComplete.
 *
 * Decision (the reference matches the closure alone): under `halt` nothing rolls the host back,
 * and a heartbeat observed before the failure (a delayed or redelivered one) shows the closure
 * from before the switch, not a rollback; either used to settle a halted host Reverted and
 * quarantine its closure (sim, netReorder with a halting canary, seeds 3 and 11).
 */
export const synthesizeRecovery = (
  record: HostRolloutState,
  current: ClosureHash,
  at: Timestamp,
  gateBlocks: boolean
): ReadonlyArray<RemoteEvent> => {
  const seq = record.lastEventSeq
  if (record.state === "Failed") {
    const rolledBack =
      record.policyApplied === "rollback-and-halt" && record.failedAt !== null && at >= record.failedAt &&
      record.currentClosureAtDispatch === current && current !== record.targetClosure
    return rolledBack
      ? [{ _tag: "RemoteRollbackComplete", revertedToClosure: current, exitCode: 0, completedAt: at, seq: seq + 1 }]
      : []
  }
  if (record.targetClosure !== current) return []
  const completed = (n: number): RemoteEvent => ({
    _tag: "RemoteActivationCompleted",
    observedCurrentClosure: current,
    exitCode: 0,
    completedAt: at,
    seq: n
  })
  switch (record.state) {
    case "Activating":
    case "Deferred":
      return [completed(seq + 1)]
    case "Pending": {
      if (gateBlocks) return []
      const convergedAt = (record.soakDueAt !== null && record.soakDueAt > at ? record.soakDueAt : at) as Timestamp
      return [
        { _tag: "RemoteDispatchAck", currentClosureAtDispatch: current, receivedAt: at, seq: seq + 1 },
        completed(seq + 2),
        { _tag: "RemoteConverged", currentClosure: current, convergedAt, seq: seq + 3 }
      ]
    }
    default:
      return []
  }
}

/**
 * The `replayFrom` of a heartbeat that names its rollout: the record's `lastEventSeq` when the
 * closure the CP last saw differs from the reported one (the agent should resend from there),
 * otherwise `null`.
 */
export const replayFrom = (record: HostRolloutState, current: ClosureHash): number | null =>
  record.currentClosure !== current ? record.lastEventSeq : null

/** The rollout the verified manifests currently roll out to `host` (its channel's), null if none. */
export const currentRolloutOf = (set: ManifestSet, host: HostId): RolloutId | null => {
  const channel = set.fleet.hosts[host]?.channel
  const manifest = channel === undefined ? undefined : set.rollouts.get(channel)
  return channel === undefined || manifest === undefined ? null : makeRolloutId(channel, manifest.channelRef)
}

/**
 * The records a heartbeat reply carries (`bootstrapRollouts`), in rollout-id order: the host's
 * active records and, when it is not one of them, its record in its current rollout (`current`,
 * from {@link currentRolloutOf}; null when there is none).
 *
 * Decision (the reference lists active records only, spec §2.2 step 4): a record leaves the active
 * set when it settles (Converged, Reverted), and the CP settles records the agent never hears of —
 * recovery synthesis after a database wipe rebuilds a Pending record straight to Converged from
 * a heartbeat or at a plan tick. An agent holding that record (Pending from an earlier reply, or
 * Deferred) was never told and kept its stale copy forever (sim, all faults + wipe, seed 5). The
 * current rollout's settled record is one snapshot per heartbeat at most; older rollouts' settled
 * records stay out, so the reply does not grow with the host's history.
 */
export const heartbeatRecords = (active: ReadonlyArray<HostRolloutState>, current: HostRolloutState | null): ReadonlyArray<HostRolloutState> =>
  current === null || active.some((r) => r.rolloutId === current.rolloutId)
    ? active
    : [...active, current].sort((a, b) => compareStrings(a.rolloutId, b.rolloutId))
