/**
 * Host reducer acceptance tests, ported one per line from spec state-machines §11 (1–28).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { HostEffect, HostEvent, HostRolloutState, HostState, OnHealthFailure } from "../../src/domain/index.js"
import { rehydrationEffects, step } from "../../src/machine/index.js"
import { left, right } from "../support/either.js"
import { allEvents, at, CHANNEL, event, HOST, inState, pending, PRIOR, probe, ROLLOUT, T0, TARGET } from "../support/host.js"

const HALT = { onHealthFailure: "halt" } as const
const RAH = { onHealthFailure: "rollback-and-halt" } as const
const run = (state: HostRolloutState, e: HostEvent, policy: { onHealthFailure: OnHealthFailure } = HALT) => step(state, e, T0, policy)
const tags = (effects: ReadonlyArray<HostEffect>) => effects.map((e) => e._tag)

/** Steps through a list of events, failing on the first error. */
const runAll = (state: HostRolloutState, events: ReadonlyArray<HostEvent>, policy: { onHealthFailure: OnHealthFailure } = HALT) =>
  events.reduce(
    (acc, e) => {
      const t = right(run(acc.state, e, policy))
      return { state: t.state, effects: [...acc.effects, ...t.effects] }
    },
    { state, effects: [] as ReadonlyArray<HostEffect> }
  )

const soaking = (seq = 3) => runAll(pending(), [event("LocalActivate", 1), event("LocalActivationStarted", 2), event("LocalActivationCompleted", seq)]).state

describe("host step: pending.rs", () => {
  it("1: LocalActivate → Activating; ccad and dispatchAckedAt set; lastEventSeq = 1; effects [RecordTransition, LocalEmitEvent, LocalFireSwitch]", () => {
    const t = right(run(pending(), event("LocalActivate", 1)))
    expect(t.state.state).toBe("Activating")
    expect(t.state.currentClosureAtDispatch).toBe(PRIOR)
    expect(t.state.dispatchAckedAt).toBe(at(1))
    expect(t.state.lastEventSeq).toBe(1)
    expect(tags(t.effects)).toEqual(["RecordTransition", "LocalEmitEvent", "LocalFireSwitch"])
    expect(t.effects[1]).toEqual({
      _tag: "LocalEmitEvent",
      rolloutId: ROLLOUT,
      durable: true,
      payload: { _tag: "DispatchAck", currentClosureAtDispatch: PRIOR, receivedAt: at(1), seq: 1 }
    })
  })

  it("2: RemoteDispatchAck → Activating; effects [RemoteAppendEventLog, RecordTransition]", () => {
    const t = right(run(pending(), event("RemoteDispatchAck", 1)))
    expect(t.state.state).toBe("Activating")
    expect(tags(t.effects)).toEqual(["RemoteAppendEventLog", "RecordTransition"])
    expect(t.effects[1]).toEqual({ _tag: "RecordTransition", host: HOST, rolloutId: ROLLOUT, from: "Pending", to: "Activating", at: at(1) })
  })

  it("3: LocalActivationCompleted in Pending → IllegalForState", () => {
    const e = left(run(pending(), event("LocalActivationCompleted", 1)))
    expect(e._tag).toBe("IllegalForState")
    expect(e.message).toBe("event LocalActivationCompleted not legal from state Pending (rollout stable@r1, host web-01)")
  })

  it("4: seq equal to lastEventSeq (5 and 5) → SeqRegression", () => {
    const e = left(run(pending({ lastEventSeq: 5 }), event("LocalActivate", 5)))
    expect(e).toMatchObject({ _tag: "SeqRegression", got: 5, last: 5 })
    expect(e.message).toBe("event seq 5 is not > last_event_seq 5 (rollout stable@r1, host web-01)")
  })
})

describe("host step: rehydration.rs", () => {
  it("5: Pending → no effects", () => {
    expect(rehydrationEffects(pending())).toEqual([])
  })

  it("6: every other state → LocalResetProbeCache with the record's rolloutId", () => {
    for (const s of ["Activating", "Deferred", "Soaking", "Converged", "Failed", "Reverted"] as const) {
      expect(rehydrationEffects(inState(s))).toEqual([{ _tag: "LocalResetProbeCache", rolloutId: ROLLOUT }])
    }
  })
})

describe("host step: scenarios.rs", () => {
  it("7: happy path Pending→Activating→Soaking→Converged; the Activate event's targetClosure is ignored", () => {
    const activate = { ...event("LocalActivate", 1), targetClosure: "some-other-closure" as typeof TARGET }
    const { state, effects } = runAll(pending(), [
      activate,
      event("LocalActivationStarted", 2),
      event("LocalActivationCompleted", 3),
      event("LocalConvergedReached", 4)
    ])
    expect(state.state).toBe("Converged")
    expect(effects).toContainEqual({ _tag: "LocalFireSwitch", rolloutId: ROLLOUT, target: TARGET })
    expect(effects.filter((e) => e._tag === "RecordTransition").map((e) => (e as { to: HostState }).to)).toEqual([
      "Activating",
      "Soaking",
      "Converged"
    ])
  })

  it("8: rollback-and-halt: sustained failure → Failed plus LocalFireRollbackTo(prior-closure); then LocalRollbackCompleted → Reverted with revertedTo", () => {
    const failed = right(run(soaking(), event("LocalSustainedFailureCrossed", 4), RAH))
    expect(failed.state.state).toBe("Failed")
    expect(failed.state.policyApplied).toBe("rollback-and-halt")
    expect(failed.effects).toContainEqual({ _tag: "LocalFireRollbackTo", rolloutId: ROLLOUT, closure: PRIOR })
    const reverted = right(run(failed.state, event("LocalRollbackCompleted", 5), RAH))
    expect(reverted.state.state).toBe("Reverted")
    expect(reverted.state.revertedTo).toBe(PRIOR)
    expect(reverted.state.currentClosure).toBe(PRIOR)
  })

  it("9: halt: sustained failure → Failed with no rollback effect", () => {
    const e = { ...event("LocalSustainedFailureCrossed", 4), policyApplied: "halt" as const }
    const t = right(run(soaking(), e, HALT))
    expect(t.state.state).toBe("Failed")
    expect(t.state.policyApplied).toBe("halt")
    expect(tags(t.effects)).not.toContain("LocalFireRollbackTo")
  })

  it("10: ConvergedReached with the wrong closure → Invariant", () => {
    const e = left(run(soaking(), { ...event("LocalConvergedReached", 4), currentClosure: "wrong" as typeof TARGET }))
    expect(e).toMatchObject({ _tag: "Invariant", detail: "current_closure != target_closure" })
  })

  it("11: ActivationFailed under rollback-and-halt fires the rollback immediately", () => {
    const activating = right(run(pending(), event("LocalActivate", 1))).state
    const t = right(run(activating, event("LocalActivationFailed", 2), RAH))
    expect(t.state).toMatchObject({ state: "Failed", policyApplied: "rollback-and-halt", activationFailedAt: at(4), failedAt: at(4) })
    expect(tags(t.effects)).toEqual(["LocalEmitEvent", "RecordTransition", "LocalFireRollbackTo"])
  })

  it("12: ActivationCompleted clears probes; ProbeResult(pass) adds one record, stays Soaking, emits an outbound ProbeResult", () => {
    const activating = { ...inState("Activating", 2), probes: { stale: { status: "fail" as const, mode: "enforce" as const, lastObservedAt: T0, lastPassAt: null, failureReason: "x" } } }
    const completed = right(run(activating, event("LocalActivationCompleted", 3)))
    expect(completed.state.probes).toEqual({})
    const t = right(run(completed.state, event("LocalProbeResult", 4)))
    expect(t.state.state).toBe("Soaking")
    expect(t.state.probes).toEqual({ http: { status: "pass", mode: "enforce", lastObservedAt: at(5), lastPassAt: at(5), failureReason: null } })
    expect(t.effects).toEqual([
      {
        _tag: "LocalEmitEvent",
        rolloutId: ROLLOUT,
        durable: false,
        payload: { _tag: "ProbeResult", probeName: "http", mode: "enforce", status: "pass", observedAt: at(5), failureReason: null, subResults: null, seq: 4 }
      }
    ])
  })

  it("13: LocalActivationDeferred → Deferred; lastEventSeq = 2; currentClosure and activationCompletedAt stay null; durable ActivationDeferred(systemd) and RT(→Deferred)", () => {
    const activating = right(run(pending(), event("LocalActivate", 1))).state
    const t = right(run(activating, event("LocalActivationDeferred", 2)))
    expect(t.state).toMatchObject({ state: "Deferred", lastEventSeq: 2, currentClosure: null, activationCompletedAt: null })
    expect(t.effects).toEqual([
      { _tag: "LocalEmitEvent", rolloutId: ROLLOUT, durable: true, payload: { _tag: "ActivationDeferred", component: "systemd", deferredAt: at(3), seq: 2 } },
      { _tag: "RecordTransition", host: HOST, rolloutId: ROLLOUT, from: "Activating", to: "Deferred", at: at(3) }
    ])
  })

  it("14: RemoteActivationDeferred → Deferred; RemoteAppendEventLog(ActivationDeferred dbus)", () => {
    const t = right(run(inState("Activating", 1), { ...event("RemoteActivationDeferred", 2), component: "dbus" }))
    expect(t.state.state).toBe("Deferred")
    expect(t.effects[0]).toEqual({
      _tag: "RemoteAppendEventLog",
      host: HOST,
      rolloutId: ROLLOUT,
      payload: { _tag: "ActivationDeferred", component: "dbus", deferredAt: at(3), seq: 2 }
    })
  })

  it("15: Deferred + RemoteActivationCompleted → Soaking; currentClosure and activationCompletedAt set", () => {
    const t = right(run(inState("Deferred", 2), event("RemoteActivationCompleted", 3)))
    expect(t.state).toMatchObject({ state: "Soaking", currentClosure: TARGET, activationCompletedAt: at(3) })
    expect(tags(t.effects)).toEqual(["RemoteAppendEventLog", "RecordTransition"])
  })

  it("16: LocalProbeResult passes subResults (with effectiveMode and overrideReason) unchanged to the outbound ProbeResult", () => {
    const subResults = [
      { controlId: "CIS-1.1", status: "fail" as const, framework: "cis", article: "1.1", effectiveMode: "observe" as const, overrideReason: "waiver 42" },
      { controlId: "CIS-1.2", status: "pass" as const, framework: "cis", article: null, effectiveMode: "enforce" as const, overrideReason: null }
    ]
    const t = right(run(soaking(), { ...event("LocalProbeResult", 4), subResults }))
    const emitted = t.effects[0]
    expect(emitted?._tag === "LocalEmitEvent" && emitted.payload._tag === "ProbeResult" ? emitted.payload.subResults : undefined).toEqual(subResults)
  })
})

describe("host step: invariants.rs", () => {
  const legacyStates = ["Pending", "Activating", "Soaking", "Converged", "Failed", "Reverted"] as const
  const legacyEvents = allEvents(11).filter((e) => !/Deferred|Topology/.test(e._tag))
  const legal: Record<(typeof legacyStates)[number], ReadonlyArray<string>> = {
    Pending: ["LocalActivate", "RemoteDispatchAck"],
    Activating: ["LocalActivationStarted", "RemoteActivationStarted", "LocalActivationCompleted", "RemoteActivationCompleted", "LocalActivationFailed", "RemoteActivationFailed"],
    Soaking: ["LocalProbeObservedFirst", "RemoteProbeObservedFirst", "LocalProbeResult", "RemoteProbeResult", "LocalProbeFailureFirst", "RemoteProbeFailureFirst", "LocalSustainedFailureCrossed", "RemoteFailed", "LocalConvergedReached", "RemoteConverged"],
    Converged: [],
    Failed: ["LocalRollbackCompleted", "RemoteRollbackComplete"],
    Reverted: []
  }

  it("17: 6 states × 20 events: the 20 legal pairs never give IllegalForState; the other 100 always do", () => {
    expect(legacyEvents).toHaveLength(20)
    let legalCount = 0
    for (const s of legacyStates) {
      for (const e of legacyEvents) {
        const result = run(inState(s, 10), e, RAH)
        const isIllegal = Either.isLeft(result) && result.left._tag === "IllegalForState"
        const expectedLegal = legal[s].includes(e._tag)
        if (expectedLegal) legalCount++
        expect(isIllegal, `${s} × ${e._tag}`).toBe(!expectedLegal)
      }
    }
    expect(legalCount).toBe(20)
  })

  it("18: with lastEventSeq = 10, every legal event with seq 10 or 5 → SeqRegression (Pending, Activating, Soaking, Failed)", () => {
    for (const s of ["Pending", "Activating", "Soaking", "Failed"] as const) {
      for (const seq of [10, 5]) {
        for (const e of allEvents(seq).filter((x) => legal[s].includes(x._tag))) {
          expect(left(run(inState(s, 10), e))._tag, `${s} × ${e._tag} seq ${seq}`).toBe("SeqRegression")
        }
      }
    }
  })

  it("19: Converged with the wrong closure → Invariant", () => {
    const e = left(run(soaking(), { ...event("RemoteConverged", 4), currentClosure: "other" as typeof TARGET }))
    expect(e._tag).toBe("Invariant")
  })

  it("20: Converged before soakDueAt → Invariant", () => {
    const e = left(run(soaking(), { ...event("RemoteConverged", 4), convergedAt: at(599) }))
    expect(e).toMatchObject({ _tag: "Invariant", detail: "converged_at before soak_due_at" })
    expect(right(run(soaking(), { ...event("RemoteConverged", 4), convergedAt: at(600) })).state.state).toBe("Converged")
  })

  it("21: a failing observe probe beside a passing enforce probe → Converged accepted", () => {
    const withProbes = runAll(soaking(), [
      { ...event("LocalProbeResult", 4), probeName: probe("enforced"), mode: "enforce", status: "pass" },
      { ...event("LocalProbeResult", 5), probeName: probe("observed"), mode: "observe", status: "fail", failureReason: "slow" }
    ]).state
    expect(right(run(withProbes, event("LocalConvergedReached", 6))).state.state).toBe("Converged")
  })

  it("22: a failing enforce probe → Invariant", () => {
    const withProbes = right(run(soaking(), { ...event("LocalProbeResult", 4), status: "fail", failureReason: "503" })).state
    expect(left(run(withProbes, event("LocalConvergedReached", 5)))).toMatchObject({
      _tag: "Invariant",
      detail: "at least one enforce-mode probe is not Pass"
    })
  })

  it("27: ActivationCompleted emits LocalResetProbeCache", () => {
    expect(right(run(inState("Activating", 1), event("LocalActivationCompleted", 2))).effects[0]).toEqual({
      _tag: "LocalResetProbeCache",
      rolloutId: ROLLOUT
    })
  })

  it("28: RemoteRollbackComplete emits RemoteInsertQuarantine with closure = targetClosure", () => {
    const t = right(run(inState("Failed", 5), event("RemoteRollbackComplete", 6)))
    expect(t.effects).toContainEqual({ _tag: "RemoteInsertQuarantine", channel: CHANNEL, closure: TARGET })
    expect(tags(t.effects)).toEqual(["RemoteAppendEventLog", "RemoteInsertQuarantine", "RecordTransition"])
  })
})

describe("host step: rows the reference leaves to comments", () => {
  it("§12.2: ActivationFailed from Deferred sets no policyApplied and fires no rollback, even under rollback-and-halt", () => {
    const t = right(run(inState("Deferred", 2), event("LocalActivationFailed", 3), RAH))
    expect(t.state).toMatchObject({ state: "Failed", policyApplied: null, activationFailedAt: at(4), failedAt: at(4) })
    expect(tags(t.effects)).toEqual(["LocalEmitEvent", "RecordTransition"])
  })

  it("§12.4: rollback-and-halt with a null ccad → Failed with policyApplied but no rollback effect", () => {
    const t = right(run({ ...inState("Activating", 1), currentClosureAtDispatch: null }, event("LocalActivationFailed", 2), RAH))
    expect(t.state.policyApplied).toBe("rollback-and-halt")
    expect(tags(t.effects)).not.toContain("LocalFireRollbackTo")
  })

  it("RemoteActivationFailed records the CP's policy but never fires a rollback", () => {
    const t = right(run(inState("Activating", 1), event("RemoteActivationFailed", 2), RAH))
    expect(t.state.policyApplied).toBe("rollback-and-halt")
    expect(tags(t.effects)).toEqual(["RemoteAppendEventLog", "RecordTransition"])
  })

  it("ProbeObservedFirst and ProbeFailureFirst keep the first value; ProbeResult fail keeps lastPassAt", () => {
    const s = runAll(soaking(), [
      event("LocalProbeObservedFirst", 4),
      { ...event("LocalProbeObservedFirst", 5), observedAt: at(50) },
      event("LocalProbeFailureFirst", 6),
      { ...event("LocalProbeFailureFirst", 7), firstFailedAt: at(60) },
      event("LocalProbeResult", 8),
      { ...event("LocalProbeResult", 9), status: "fail", observedAt: at(70), failureReason: "timeout" }
    ]).state
    expect(s.probeObservedFirstAt).toBe(at(5))
    expect(s.probeFailureFirstAt).toBe(at(5))
    expect(s.probes["http" as keyof typeof s.probes]).toEqual({ status: "fail", mode: "enforce", lastObservedAt: at(70), lastPassAt: at(5), failureReason: "timeout" })
  })

  it("durable flag: false only for ProbeObservedFirst, ProbeResult and ProbeFailureFirst", () => {
    const durability = (e: HostEvent, from: HostState, policy = HALT) => {
      const t = right(run(inState(from, 0), e, policy))
      const emit = t.effects.find((x) => x._tag === "LocalEmitEvent")
      return emit?._tag === "LocalEmitEvent" ? emit.durable : undefined
    }
    expect(durability(event("LocalProbeObservedFirst", 1), "Soaking")).toBe(false)
    expect(durability(event("LocalProbeResult", 1), "Soaking")).toBe(false)
    expect(durability(event("LocalProbeFailureFirst", 1), "Soaking")).toBe(false)
    expect(durability(event("LocalProbeTopologyDeclared", 1), "Soaking")).toBe(true)
    expect(durability(event("LocalActivationStarted", 1), "Activating")).toBe(true)
    expect(durability(event("LocalSustainedFailureCrossed", 1), "Soaking")).toBe(true)
    expect(durability(event("LocalRollbackCompleted", 1), "Failed")).toBe(true)
    expect(durability(event("LocalConvergedReached", 1), "Soaking")).toBe(true)
  })
})
