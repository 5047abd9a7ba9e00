/**
 * `evaluateForRecovery`: the gates the CP consults before recording a host that already runs its
 * target as Converged: every gate of `evaluateForDispatch` but the disruption budget.
 */
import { describe, expect, it } from "@effect/vitest"
import { evaluateForDispatch, evaluateForRecovery, makeGateContext } from "../../src/planner/index.js"
import { ch, closure, fleet, fleetState, hid, manifests, noQuarantine, quarantine, rid } from "./builders.js"

const set = manifests(
  fleet({
    hosts: { h1: { channel: "stable" }, h2: { channel: "stable" }, h3: { channel: "stable" } },
    waves: { stable: [["h1", "h2"], ["h3"]] },
    budgets: [{ selector: { all: true }, maxInFlight: 1 }]
  }),
  { stable: "r1" }
)
const state = fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h1", state: "Soaking" }], [], set)
const candidate = (host: string) => ({ rolloutId: rid("stable@r1"), host: hid(host), targetClosure: closure(`${host}-closure`), channel: ch("stable") })

describe("evaluateForRecovery", () => {
  it("passes a host the full budget blocks for dispatch", () => {
    const ctx = makeGateContext(set, state, noQuarantine)
    expect(evaluateForDispatch(ctx, candidate("h2"), new Map())?._tag).toBe("DisruptionBudget")
    expect(evaluateForRecovery(ctx, candidate("h2"))).toBeNull()
  })

  it("keeps every other gate: wave promotion, quarantine", () => {
    const ctx = makeGateContext(set, state, noQuarantine)
    expect(evaluateForRecovery(ctx, candidate("h3"))?._tag).toBe("WavePromotion")
    const quarantined = makeGateContext(set, state, quarantine([["stable", "h2-closure"]]))
    expect(evaluateForRecovery(quarantined, candidate("h2"))?._tag).toBe("Quarantined")
  })
})
