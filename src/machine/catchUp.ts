/**
 * Catch-up: the events an agent re-reports when the CP's record of one of its rollouts is behind
 * its own in another state, so that the agent's later events could not continue it — a CP rebuilt
 * from an empty database holds the host Pending (its ProbeResults are then refused from Pending,
 * sim cpWipe seed 68), or a refused event left the CP a transition behind.
 *
 * Invariants: pure and total. The events are the agent's own transitions, rebuilt from its
 * record's fields, one per transition of its path through the host state graph from the CP's
 * state; stepped by the CP through the same `step()` (as Remote events) they bring the CP's record
 * to the agent's state, with the CP-only effects those transitions carry (RollbackComplete's
 * quarantine, the rollout halting on Failed). The last event's seq is never below the agent's
 * own: seqs the CP has seen never go backwards, and when the CP's view was stale (it had the
 * events already) the re-reported ones are duplicates it answers 2xx. A CP state the agent's
 * history does not pass through (ahead of it, or a settled state it cannot leave) gives nothing.
 * Probe results are not replayed, except the latest of each enforce probe before a Converged.
 */
import type { OutboundAgentEvent } from "../domain/agentEvent.js"
import type { HostRolloutState, HostState } from "../domain/hostState.js"
import type { ProbeName } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import { failingEnforceProbes } from "./probes.js"

/** The CP's side of the comparison: its record's state and seq (a heartbeat snapshot has both). */
export interface CpView {
  readonly state: HostState
  readonly lastEventSeq: number
}

/** One transition of the agent's history: the state it leaves and the event (seq left to fill). */
interface Transition {
  readonly from: HostState
  readonly event: (seq: number) => OutboundAgentEvent
}

/** The first non-null time, else `fallback`. */
const firstOf = (fallback: Timestamp, ...times: ReadonlyArray<Timestamp | null>): Timestamp => times.find((t) => t !== null) ?? fallback

/**
 * The latest result of each enforce probe the agent holds, re-reported before its Converged: the
 * CP re-verifies a Converged against its own probe map (every enforce probe must pass), and the
 * results that passed on the agent may be among the events the CP lost.
 */
const probeResults = (r: HostRolloutState): ReadonlyArray<Transition> =>
  (Object.keys(r.probes) as Array<ProbeName>).sort().flatMap((name) => {
    const p = r.probes[name]
    if (p === undefined || p.mode !== "enforce") return []
    const event = (seq: number): OutboundAgentEvent => ({
      _tag: "ProbeResult",
      probeName: name,
      mode: p.mode,
      status: p.status,
      observedAt: p.lastObservedAt,
      failureReason: p.failureReason,
      subResults: null,
      seq
    })
    return [{ from: "Soaking", event } satisfies Transition]
  })

/**
 * The agent's path from Pending to its record's state, as the transitions it took, rebuilt from
 * the record: an activation failure (`activationFailedAt` set) fails from Activating, any other
 * failure is a sustained probe failure from Soaking. A deferral the host came out of leaves no
 * trace on the record and is not replayed (ActivationCompleted is legal from Activating too).
 */
const history = (r: HostRolloutState): ReadonlyArray<Transition> => {
  const acked = firstOf(r.dispatchedAt, r.dispatchAckedAt)
  const completedAt = firstOf(acked, r.activationCompletedAt)
  const ack: Transition = {
    from: "Pending",
    event: (seq) => ({ _tag: "DispatchAck", currentClosureAtDispatch: r.currentClosureAtDispatch ?? r.targetClosure, receivedAt: acked, seq })
  }
  const complete: Transition = {
    from: "Activating",
    event: (seq) => ({ _tag: "ActivationCompleted", observedCurrentClosure: r.targetClosure, exitCode: 0, completedAt, seq })
  }
  const failed = (): ReadonlyArray<Transition> => {
    if (r.activationFailedAt !== null) {
      const failedAt = r.activationFailedAt
      return [ack, { from: "Activating", event: (seq) => ({ _tag: "ActivationFailed", exitCode: 1, stderrTail: "", failedAt, seq }) }]
    }
    const failedAt = firstOf(completedAt, r.failedAt)
    const sustained = r.probeFailureFirstAt === null ? 0 : Math.max(0, Math.floor((failedAt - r.probeFailureFirstAt) / 1000))
    const policyApplied = r.policyApplied ?? "halt"
    return [
      ack,
      complete,
      {
        from: "Soaking",
        event: (seq) => ({ _tag: "Failed", failedAt, sustainedDurationSecs: sustained, failingProbes: failingEnforceProbes(r.probes), policyApplied, seq })
      }
    ]
  }
  switch (r.state) {
    case "Pending":
      return []
    case "Activating":
      return [ack]
    case "Deferred": {
      const deferredAt = firstOf(acked, r.activationStartedAt)
      return [ack, { from: "Activating", event: (seq) => ({ _tag: "ActivationDeferred", component: "re-reported", deferredAt, seq }) }]
    }
    case "Soaking":
      return [ack, complete]
    case "Converged": {
      const convergedAt = firstOf(firstOf(completedAt, r.soakDueAt), r.convergedAt)
      return [
        ack,
        complete,
        ...probeResults(r),
        { from: "Soaking", event: (seq) => ({ _tag: "Converged", convergedAt, currentClosure: r.targetClosure, seq }) }
      ]
    }
    case "Failed":
      return failed()
    case "Reverted": {
      const completedRollback = firstOf(firstOf(completedAt, r.failedAt), r.revertedAt)
      const revertedTo = r.revertedTo ?? r.currentClosureAtDispatch ?? r.targetClosure
      return [
        ...failed(),
        { from: "Failed", event: (seq) => ({ _tag: "RollbackComplete", revertedToClosure: revertedTo, exitCode: 0, completedAt: completedRollback, seq }) }
      ]
    }
  }
}

/**
 * The events that bring the CP's record (`cp`) level with the agent's (`agent`), in order, with
 * their seqs: none when the CP is in the agent's state, ahead of it, or in a state the agent's
 * path does not pass through. Seqs are consecutive and end at `max(agent.lastEventSeq,
 * cp.lastEventSeq + n)`: at the agent's own seq when the CP's gap leaves room, so a CP that
 * already had them answers duplicates and the agent's numbering is unchanged; above it otherwise
 * (the caller then moves its record's seq up to the last one).
 */
export const catchUpEvents = (cp: CpView, agent: HostRolloutState): ReadonlyArray<OutboundAgentEvent> => {
  if (cp.state === agent.state || cp.lastEventSeq >= agent.lastEventSeq) return []
  const path = history(agent)
  // From Deferred the CP takes what the agent took from Activating, except the deferral itself.
  const from = cp.state === "Deferred" ? "Activating" : cp.state
  const start = path.findIndex((t) => t.from === from)
  if (start < 0) return []
  const rest = path.slice(start).filter((t, i) => !(i === 0 && cp.state === "Deferred" && t.event(0)._tag === "ActivationDeferred"))
  const last = Math.max(agent.lastEventSeq, cp.lastEventSeq + rest.length)
  const first = last - rest.length + 1
  return rest.map((t, i) => t.event(first + i))
}
