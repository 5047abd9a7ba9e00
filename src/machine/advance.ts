/**
 * The agent's advance tick (spec state-machines §10): from a Soaking record and the current time,
 * decide whether sustained probe failure or soak completion should be reported.
 *
 * Invariant: pure; it only proposes a Local event (with the next seq), which still has to pass
 * `step()`; the fail gate is checked before the pass gate.
 */
import type { LocalEvent } from "../domain/events.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { OnHealthFailure } from "../domain/policy.js"
import type { ProbeName } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import { allEnforceProbesPass, failingEnforceProbes, requiredProbesPassed } from "./probes.js"

/** How long enforce probes must keep failing before the host is declared Failed: 120 s. */
export const SUSTAINED_FAILURE_THRESHOLD_MS = 120_000

/**
 * Proposes the event an advance tick would synthesise for `state` at `now`, or `undefined`:
 * `LocalSustainedFailureCrossed` when enforce probes have failed for at least the threshold since
 * `probeFailureFirstAt`; `LocalConvergedReached` when the soak deadline has passed, the running
 * closure is the target, every enforce probe passes and every probe in `requiredProbes` has passed
 * at least once. `policy` is the manifest's failure policy (`halt` when none is known).
 *
 * `requiredProbes` are the enforce probes the agent declared. The reference converges on an empty
 * probe map (spec state-machines §12.6): when a soak deadline passes while a slow switch is still
 * running, the host would converge at the first tick after the switch, before any probe ran — a
 * failing canary converged that way and was never quarantined (found by the simulator, cpWipe
 * seed 9). We need evidence: each declared enforce probe must have passed on the new closure.
 */
export const advanceTick = (
  state: HostRolloutState,
  now: Timestamp,
  policy: OnHealthFailure | null,
  requiredProbes: ReadonlyArray<ProbeName> = []
): LocalEvent | undefined => {
  if (state.state !== "Soaking") return undefined
  const seq = state.lastEventSeq + 1
  if (state.probeFailureFirstAt !== null && now - state.probeFailureFirstAt >= SUSTAINED_FAILURE_THRESHOLD_MS) {
    const failing = failingEnforceProbes(state.probes)
    if (failing.length > 0) {
      return {
        _tag: "LocalSustainedFailureCrossed",
        failedAt: now,
        sustainedDurationSecs: Math.floor((now - state.probeFailureFirstAt) / 1000),
        failingProbes: failing,
        policyApplied: policy ?? "halt",
        seq
      }
    }
  }
  if (
    state.soakDueAt !== null &&
    now >= state.soakDueAt &&
    state.currentClosure === state.targetClosure &&
    allEnforceProbesPass(state.probes) &&
    requiredProbesPassed(state.probes, requiredProbes)
  ) {
    return { _tag: "LocalConvergedReached", convergedAt: now, currentClosure: state.targetClosure, seq }
  }
  return undefined
}
