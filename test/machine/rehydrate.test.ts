/**
 * Snapshot rehydration (spec state-machines §8), with our stricter rule that seq numbers never go
 * backwards (DESIGN.md).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { type HostRolloutState, toSnapshot } from "../../src/domain/index.js"
import { mergeSnapshot, rehydrationEffects, step } from "../../src/machine/index.js"
import { at, event, inState, pending, T0 } from "../support/host.js"

const soakingWithFailure = (): HostRolloutState => {
  const s = [event("LocalActivate", 1), event("LocalActivationCompleted", 2), event("LocalProbeFailureFirst", 3), { ...event("LocalProbeResult", 4), status: "fail" as const, failureReason: "503" }].reduce(
    (acc, e) => {
      const r = step(acc, e, T0, { onHealthFailure: "halt" })
      if (Either.isLeft(r)) throw new Error(r.left.message)
      return r.right.state
    },
    pending()
  )
  return s
}

describe("rehydration", () => {
  it("a snapshot with no existing entry gives the snapshot's fields and defaulted agent-only fields", () => {
    const cp = { ...inState("Soaking", 7), activationCompletedAt: at(3), failedAt: at(9), probeFailureFirstAt: at(5) }
    const merged = mergeSnapshot(undefined, toSnapshot(cp))
    expect(merged).toEqual({ ...cp, failedAt: null, probeFailureFirstAt: null })
    expect(rehydrationEffects(merged)).toEqual([{ _tag: "LocalResetProbeCache", rolloutId: cp.rolloutId }])
  })

  it("snapshot fields win, agent-only fields (probes, probeFailureFirstAt, ...) survive a warm merge", () => {
    const agent = soakingWithFailure()
    const cp = { ...agent, state: "Soaking" as const, lastEventSeq: agent.lastEventSeq, currentClosure: null, probes: {} }
    const merged = mergeSnapshot(agent, toSnapshot(cp))
    expect(merged.currentClosure).toBeNull()
    expect(merged.probeFailureFirstAt).toBe(agent.probeFailureFirstAt)
    expect(merged.probes).toBe(agent.probes)
  })

  it("seq never goes backwards: an agent record ahead of the snapshot is kept unchanged", () => {
    const agent = soakingWithFailure()
    const stale = toSnapshot({ ...agent, state: "Activating", lastEventSeq: 1 })
    expect(mergeSnapshot(agent, stale)).toBe(agent)
  })

  it.prop("after any merge, lastEventSeq >= both the snapshot's and the existing record's", [fc.nat({ max: 50 }), fc.nat({ max: 50 })], ([mine, theirs]) => {
    const merged = mergeSnapshot(inState("Soaking", mine), toSnapshot(inState("Activating", theirs)))
    expect(merged.lastEventSeq).toBe(Math.max(mine, theirs))
  })
})
