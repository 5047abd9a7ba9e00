/**
 * Probe bookkeeping used by the host reducer: the `updateProbe` rule and the Converged
 * re-verification.
 *
 * Invariant: pure functions of their arguments; a probe map is never mutated, only copied.
 */
import type { HostRolloutState } from "../domain/hostState.js"
import type { ClosureHash, ProbeName } from "../domain/ids.js"
import type { ProbeMap, ProbeMode, ProbeRecord, ProbeStatus } from "../domain/probe.js"
import type { Timestamp } from "../domain/time.js"

/**
 * Records a probe result (spec §5.4): always overwrites status, mode and lastObservedAt (no
 * time-order check, as the reference); a pass stamps lastPassAt and clears the failure reason, a
 * fail keeps the previous lastPassAt and takes the event's reason.
 */
export const updateProbe = (
  probes: ProbeMap,
  name: ProbeName,
  mode: ProbeMode,
  status: ProbeStatus,
  observedAt: Timestamp,
  failureReason: string | null
): ProbeMap => {
  const next: Record<ProbeName, ProbeRecord> = {}
  for (const key in probes) next[key as ProbeName] = probes[key as ProbeName] as ProbeRecord
  next[name] =
    status === "pass"
      ? { status, mode, lastObservedAt: observedAt, lastPassAt: observedAt, failureReason: null }
      : { status, mode, lastObservedAt: observedAt, lastPassAt: probes[name]?.lastPassAt ?? null, failureReason }
  return next
}

/** Names of the enforce-mode probes whose latest status is `fail`, sorted. */
export const failingEnforceProbes = (probes: ProbeMap): ReadonlyArray<ProbeName> =>
  (Object.keys(probes) as Array<ProbeName>).filter((name) => {
    const record = probes[name]
    return record !== undefined && record.mode === "enforce" && record.status === "fail"
  }).sort()

/** Whether every enforce-mode probe passes (an empty map passes). */
export const allEnforceProbesPass = (probes: ProbeMap): boolean => {
  for (const name in probes) {
    const record = probes[name as ProbeName]
    if (record !== undefined && record.mode === "enforce" && record.status !== "pass") return false
  }
  return true
}

/**
 * Whether each of `required` (the enforce probes the agent declared) has a passing result in
 * `probes`. The agent resets its probe cache when a switch completes, so a result present here was
 * observed on the running closure; with no required probe this holds vacuously.
 */
export const requiredProbesPassed = (probes: ProbeMap, required: ReadonlyArray<ProbeName>): boolean => {
  for (const name of required) if (probes[name]?.status !== "pass") return false
  return true
}

/**
 * Re-verifies a Converged claim (spec §5.5), returning the first failed check's detail or
 * `undefined` when it holds: the closure must be the target, the claim must not precede the soak
 * deadline (a null deadline skips this), and every enforce probe must pass. Uses the event's
 * `convergedAt`, not the reducer's `now` (as the reference).
 */
export const verifyConverged = (
  state: HostRolloutState,
  currentClosure: ClosureHash,
  convergedAt: Timestamp
): string | undefined => {
  if (currentClosure !== state.targetClosure) return "current_closure != target_closure"
  if (state.soakDueAt !== null && convergedAt < state.soakDueAt) return "converged_at before soak_due_at"
  if (!allEnforceProbesPass(state.probes)) return "at least one enforce-mode probe is not Pass"
  return undefined
}
