/**
 * Heartbeat recovery: the events the CP synthesises when an agent's reported closure shows that
 * the CP missed transitions (seeds: `maybe_synthesize_recovery_completion`).
 *
 * Invariant: pure; synthesised events are ordinary Remote events with the next seqs, so they go
 * through the same `step()` and leave the same audit trail as real ones; a record that already
 * advanced matches no rule, which makes the synthesis idempotent.
 */
import type { RemoteEvent } from "../domain/events.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { ClosureHash } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"

/**
 * The events to synthesise for one active record when the agent reports `current` at `at`:
 * - Activating or Deferred at the target: the agent restarted mid-activation or rebooted after a
 *   deferral → ActivationCompleted;
 * - Pending at the target (the CP database was wiped): DispatchAck, ActivationCompleted and
 *   Converged at `max(at, soakDueAt)`, but only when no dispatch gate would block the host
 *   (`gateBlocks` false); the prior closure is unknown, so the ack records the current one —
 *   a rollback target equal to the running closure is a harmless no-op;
 * - Failed with the prior closure running: the rollback happened but its ack was lost →
 *   RollbackComplete.
 */
export const synthesizeRecovery = (
  record: HostRolloutState,
  current: ClosureHash,
  at: Timestamp,
  gateBlocks: boolean
): ReadonlyArray<RemoteEvent> => {
  const seq = record.lastEventSeq
  if (record.state === "Failed") {
    return record.currentClosureAtDispatch === current && current !== record.targetClosure
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
