/**
 * `catchUpEvents`: what an agent re-reports when the CP's record is behind its own in another
 * state. Examples pin the events and their seqs; the property steps them through the CP's own
 * `step()` from every earlier point of a random legal history and checks the CP ends level.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  type HostEffect,
  type HostRolloutState,
  type LocalEvent,
  type OnHealthFailure,
  toRemoteEvent
} from "../../src/domain/index.js"
import { catchUpEvents, step } from "../../src/machine/index.js"
import { at, pending, PRIOR, probe, TARGET } from "../support/host.js"

/** Steps `events` (Local) from `from`, failing the test on a refusal; every record on the way. */
const walk = (from: HostRolloutState, events: ReadonlyArray<LocalEvent>, policy: OnHealthFailure = "rollback-and-halt") => {
  const records = [from]
  let record = from
  for (const event of events) {
    const result = step(record, { ...event, seq: record.lastEventSeq + 1 } as LocalEvent, at(0), { onHealthFailure: policy })
    if (Either.isLeft(result)) throw new Error(`${event._tag} refused: ${result.left.message}`)
    record = result.right.state
    records.push(record)
  }
  return records
}

/** Steps the catch-up (as the CP does: Remote events) from the CP's record; its state and effects. */
const mirror = (cp: HostRolloutState, agent: HostRolloutState, policy: OnHealthFailure = "rollback-and-halt") => {
  let record = cp
  const effects: Array<HostEffect> = []
  for (const payload of catchUpEvents(cp, agent)) {
    const result = step(record, toRemoteEvent(payload), at(0), { onHealthFailure: policy })
    if (Either.isLeft(result)) return { record, effects, refused: result.left.message }
    record = result.right.state
    effects.push(...result.right.effects)
  }
  return { record, effects, refused: null }
}

const ack: LocalEvent = { _tag: "LocalActivate", currentClosureAtDispatch: PRIOR, receivedAt: at(5), targetClosure: TARGET, soakDueAt: at(600), seq: 0 }
const started: LocalEvent = { _tag: "LocalActivationStarted", startedAt: at(6), switchMethod: "switch", seq: 0 }
const completed: LocalEvent = { _tag: "LocalActivationCompleted", observedCurrentClosure: TARGET, exitCode: 0, completedAt: at(20), seq: 0 }
const pass = (t: number): LocalEvent => ({ _tag: "LocalProbeResult", probeName: probe("web"), mode: "enforce", status: "pass", observedAt: at(t), failureReason: null, subResults: null, seq: 0 })
const fail = (t: number): LocalEvent => ({ _tag: "LocalProbeResult", probeName: probe("web"), mode: "enforce", status: "fail", observedAt: at(t), failureReason: "down", subResults: null, seq: 0 })
const failureFirst: LocalEvent = { _tag: "LocalProbeFailureFirst", probeName: probe("web"), mode: "enforce", firstFailedAt: at(50), seq: 0 }
const sustained: LocalEvent = { _tag: "LocalSustainedFailureCrossed", failedAt: at(170), sustainedDurationSecs: 120, failingProbes: ["web"], policyApplied: "rollback-and-halt", seq: 0 }
const rolledBack: LocalEvent = { _tag: "LocalRollbackCompleted", revertedToClosure: PRIOR, exitCode: 0, completedAt: at(180), seq: 0 }
const converged: LocalEvent = { _tag: "LocalConvergedReached", convergedAt: at(600), currentClosure: TARGET, seq: 0 }

describe("catchUpEvents", () => {
  it("a soaking agent and a CP rebuilt Pending at seq 0: the ack and the completion, from the agent's record, ending at its seq", () => {
    const agent = walk(pending(), [ack, started, completed, pass(50), pass(80)]).at(-1)!
    expect(agent).toMatchObject({ state: "Soaking", lastEventSeq: 5 })
    expect(catchUpEvents(pending(), agent)).toEqual([
      { _tag: "DispatchAck", currentClosureAtDispatch: PRIOR, receivedAt: at(5), seq: 4 },
      { _tag: "ActivationCompleted", observedCurrentClosure: TARGET, exitCode: 0, completedAt: at(20), seq: 5 }
    ])
    const cp = mirror(pending(), agent)
    expect(cp.refused).toBeNull()
    expect(cp.record).toMatchObject({ state: "Soaking", lastEventSeq: 5, currentClosureAtDispatch: PRIOR, dispatchAckedAt: at(5), activationCompletedAt: at(20) })
  })

  it("a rolled-back agent: the CP is stepped through Failed to Reverted and quarantines the closure again", () => {
    const agent = walk(pending(), [ack, completed, fail(50), failureFirst, sustained, rolledBack]).at(-1)!
    expect(agent.state).toBe("Reverted")
    expect(catchUpEvents(pending(), agent).map((e) => e._tag)).toEqual(["DispatchAck", "ActivationCompleted", "Failed", "RollbackComplete"])
    const cp = mirror(pending(), agent)
    expect(cp.record).toMatchObject({ state: "Reverted", revertedTo: PRIOR, policyApplied: "rollback-and-halt", lastEventSeq: agent.lastEventSeq })
    expect(cp.effects).toContainEqual({ _tag: "RemoteInsertQuarantine", channel: agent.channel, closure: TARGET })
  })

  it("a host failed under halt: the CP learns Failed (never Converged)", () => {
    const agent = walk(pending(), [ack, completed, fail(50), failureFirst, { ...sustained, policyApplied: "halt" }], "halt").at(-1)!
    const cp = mirror(pending(), agent, "halt")
    expect(cp.record).toMatchObject({ state: "Failed", policyApplied: "halt" })
    expect(cp.effects.some((e) => e._tag === "RemoteInsertQuarantine")).toBe(false)
  })

  it("nothing when the CP is level, ahead by seq, in the agent's state, or in a state the agent's path does not pass through", () => {
    const records = walk(pending(), [ack, completed, pass(50), converged])
    const agent = records.at(-1)!
    expect(catchUpEvents(agent, agent)).toEqual([])
    expect(catchUpEvents({ state: "Activating", lastEventSeq: agent.lastEventSeq }, agent)).toEqual([])
    expect(catchUpEvents({ state: "Converged", lastEventSeq: 1 }, agent)).toEqual([])
    const failed = walk(pending(), [ack, { _tag: "LocalActivationFailed", exitCode: 1, stderrTail: "x", failedAt: at(9), seq: 0 }]).at(-1)!
    expect(catchUpEvents({ state: "Soaking", lastEventSeq: 0 }, failed)).toEqual([])
  })

  it("a gap too small for the chain (a Converged re-reports each enforce probe's latest result first): the seqs run past the agent's (the caller moves its record up), never below the CP's", () => {
    const agent = walk(pending(), [ack, completed, pass(50), converged]).at(-1)!
    expect(agent.lastEventSeq).toBe(4)
    expect(catchUpEvents({ state: "Activating", lastEventSeq: 3 }, agent).map((e) => [e._tag, e.seq])).toEqual([
      ["ActivationCompleted", 4],
      ["ProbeResult", 5],
      ["Converged", 6]
    ])
  })

  it("from Deferred the CP gets what the agent did after its deferral", () => {
    const deferred: LocalEvent = { _tag: "LocalActivationDeferred", component: "kernel", deferredAt: at(7), seq: 0 }
    const records = walk(pending(), [ack, deferred, completed, pass(50)])
    const cp = records[2]!
    expect(cp.state).toBe("Deferred")
    expect(catchUpEvents(cp, records.at(-1)!).map((e) => e._tag)).toEqual(["ActivationCompleted"])
    expect(mirror(cp, records.at(-1)!).record.state).toBe("Soaking")
  })

  // A random legal history; the CP's record is any earlier point of it (a refused or lost tail),
  // or a fresh Pending record (a wipe). Stepped from there, the catch-up brings the CP to the
  // agent's state, at a seq never below either side's.
  const arbHistory = fc.record({
    deferral: fc.boolean(),
    probes: fc.array(fc.boolean(), { maxLength: 4 }),
    end: fc.constantFrom("Activating", "Deferred", "Soaking", "Converged", "ActivationFailed", "Failed", "Reverted"),
    policy: fc.constantFrom<OnHealthFailure>("halt", "rollback-and-halt"),
    cut: fc.nat()
  })
  it.prop("property: stepped by the CP from any earlier point, the catch-up ends in the agent's state", [arbHistory], ([h]) => {
    const events: Array<LocalEvent> = [ack, started]
    if (h.deferral || h.end === "Deferred") events.push({ _tag: "LocalActivationDeferred", component: "kernel", deferredAt: at(7), seq: 0 })
    if (h.end === "ActivationFailed") events.push({ _tag: "LocalActivationFailed", exitCode: 2, stderrTail: "boom", failedAt: at(9), seq: 0 })
    else if (h.end !== "Activating" && h.end !== "Deferred") {
      events.push(completed, ...h.probes.map((ok, i) => (ok ? pass(30 + i) : fail(30 + i))))
      if (h.end === "Converged") events.push(pass(590), converged)
      if (h.end === "Failed" || h.end === "Reverted") events.push(failureFirst, { ...sustained, policyApplied: h.policy })
      if (h.end === "Reverted") events.push(rolledBack)
    }
    const records = walk(pending(), events, h.policy)
    const agent = records.at(-1)!
    const cps = [pending(), records[h.cut % records.length]!]
    for (const cp of cps) {
      const result = mirror(cp, agent, h.policy)
      expect(result.refused).toBeNull()
      expect(result.record.state).toBe(agent.state)
      const sent = catchUpEvents(cp, agent)
      if (sent.length > 0) expect(result.record.lastEventSeq).toBe(Math.max(agent.lastEventSeq, cp.lastEventSeq + sent.length))
    }
  })
})
