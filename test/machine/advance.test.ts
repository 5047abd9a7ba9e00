/**
 * The agent's advance tick (spec state-machines §10): sustained-failure and soak-complete gates.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { HostEvent, HostRolloutState } from "../../src/domain/index.js"
import { advanceTick, step } from "../../src/machine/index.js"
import { at, event, pending, probe, T0, TARGET } from "../support/host.js"

const through = (events: ReadonlyArray<HostEvent>): HostRolloutState =>
  events.reduce((s, e) => {
    const r = step(s, e, T0, { onHealthFailure: "halt" })
    if (Either.isLeft(r)) throw new Error(r.left.message)
    return r.right.state
  }, pending())

const soaking = () => through([event("LocalActivate", 1), event("LocalActivationCompleted", 2)])
const failing = () =>
  through([
    event("LocalActivate", 1),
    event("LocalActivationCompleted", 2),
    { ...event("LocalProbeFailureFirst", 3), firstFailedAt: at(10) },
    { ...event("LocalProbeResult", 4), status: "fail", failureReason: "503", observedAt: at(10) }
  ])

describe("advance tick", () => {
  it("nothing before the soak deadline when probes pass", () => {
    expect(advanceTick(soaking(), at(599), "halt")).toBeUndefined()
  })

  it("converges at the soak deadline, and the proposed event is accepted by step()", () => {
    const s = soaking()
    const proposed = advanceTick(s, at(600), "halt")
    expect(proposed).toEqual({ _tag: "LocalConvergedReached", convergedAt: at(600), currentClosure: TARGET, seq: 3 })
    const r = step(s, proposed as HostEvent, at(600), { onHealthFailure: "halt" })
    expect(Either.isRight(r) && r.right.state.state).toBe("Converged")
  })

  it("does not converge when the running closure is not the target", () => {
    const s = through([event("LocalActivate", 1), { ...event("LocalActivationCompleted", 2), observedCurrentClosure: "other" as typeof TARGET }])
    expect(advanceTick(s, at(900), "halt")).toBeUndefined()
  })

  it("sustained failure fires at exactly 120 s after the first failure, with the failing enforce probes and the policy", () => {
    expect(advanceTick(failing(), at(129), "rollback-and-halt")).toBeUndefined()
    expect(advanceTick(failing(), at(130), "rollback-and-halt")).toEqual({
      _tag: "LocalSustainedFailureCrossed",
      failedAt: at(130),
      sustainedDurationSecs: 120,
      failingProbes: [probe("http")],
      policyApplied: "rollback-and-halt",
      seq: 5
    })
  })

  it("defaults the policy to halt when none is known", () => {
    expect(advanceTick(failing(), at(200), null)).toMatchObject({ policyApplied: "halt" })
  })

  it("a failing observe probe never triggers sustained failure and does not block convergence", () => {
    const s = through([
      event("LocalActivate", 1),
      event("LocalActivationCompleted", 2),
      { ...event("LocalProbeFailureFirst", 3), mode: "observe" },
      { ...event("LocalProbeResult", 4), mode: "observe", status: "fail", failureReason: "slow" }
    ])
    expect(advanceTick(s, at(599), "halt")).toBeUndefined()
    expect(advanceTick(s, at(600), "halt")).toMatchObject({ _tag: "LocalConvergedReached" })
  })

  it("only Soaking records advance", () => {
    expect(advanceTick(pending(), at(10_000), "halt")).toBeUndefined()
  })

  it("soak completion needs evidence: a declared enforce probe with no result yet holds convergence back, even long after the deadline", () => {
    const web = probe("web")
    expect(advanceTick(soaking(), at(5_000), "halt", [web])).toBeUndefined()
    // Without declared probes the reference rule stands (an empty probe map passes).
    expect(advanceTick(soaking(), at(5_000), "halt", [])).toMatchObject({ _tag: "LocalConvergedReached" })
  })

  it("soak completion needs evidence: it converges once every declared enforce probe has passed, not on a failing one", () => {
    const web = probe("web")
    const passed = through([event("LocalActivate", 1), event("LocalActivationCompleted", 2), { ...event("LocalProbeResult", 3), probeName: web }])
    expect(advanceTick(passed, at(600), "halt", [web])).toMatchObject({ _tag: "LocalConvergedReached", seq: 4 })
    const failed = through([
      event("LocalActivate", 1),
      event("LocalActivationCompleted", 2),
      { ...event("LocalProbeResult", 3), probeName: web, status: "fail", failureReason: "503" }
    ])
    expect(advanceTick(failed, at(600), "halt", [web])).toBeUndefined()
  })
})
