/**
 * Heartbeat recovery synthesis (src/cp/recovery.ts), the rules for a Failed record: a rollback is
 * inferred from the reported closure only under `rollback-and-halt` and only from an observation
 * made no earlier than the failure.
 */
import { describe, expect, it } from "@effect/vitest"
import { synthesizeRecovery } from "../../src/cp/recovery.js"
import type { HostRolloutState } from "../../src/domain/index.js"
import { at, inState, PRIOR, TARGET } from "../support/host.js"

const failed = (policyApplied: HostRolloutState["policyApplied"]): HostRolloutState => ({
  ...inState("Failed", 12),
  currentClosure: TARGET,
  failedAt: at(300),
  policyApplied
})

const tags = (record: HostRolloutState, current: typeof PRIOR, seconds: number) =>
  synthesizeRecovery(record, current, at(seconds), true).map((e) => `${e._tag}@${e.seq}`)

describe("recovery synthesis for a Failed host", () => {
  it("rollback-and-halt, the prior closure seen after the failure: the lost RollbackComplete, next seq", () => {
    expect(tags(failed("rollback-and-halt"), PRIOR, 360)).toEqual(["RemoteRollbackComplete@13"])
    expect(tags(failed("rollback-and-halt"), PRIOR, 300)).toEqual(["RemoteRollbackComplete@13"])
  })

  it("a heartbeat observed before the failure (delayed or redelivered) proves no rollback", () => {
    expect(tags(failed("rollback-and-halt"), PRIOR, 120)).toEqual([])
  })

  it("under halt nothing rolls the host back, so the prior closure is a stale report (sim netReorder, halting canary, seeds 3 and 11)", () => {
    expect(tags(failed("halt"), PRIOR, 360)).toEqual([])
  })

  it("the target still running is no rollback", () => {
    expect(tags(failed("rollback-and-halt"), TARGET, 360)).toEqual([])
  })
})
