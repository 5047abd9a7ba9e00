/**
 * The simulator with every fault at once and the CP database wipe: the scenario (each canary
 * policy) and the regression seeds it found.
 *
 * Seed 20 (budget 1): after the wipe the rebuilt CP held infra-01 Pending, though it had converged
 * on the wiped storage; infra-02, dispatched before the wipe, was soaking when infra-01's
 * heartbeat came, so the disruption budget held back the heartbeat recovery that records a host
 * running its target Converged. The agent re-reported its transitions instead, the CP refused its
 * old Converged (dated before the rebuilt CP's soak deadline) and held infra-01 Soaking until it
 * soaked again: 2 hosts in flight on a budget of 1 (t+740 s to t+1165 s). That recovery now
 * consults every gate but the budget (planner/evaluate.ts, `evaluateForRecovery`). Seeds 45 and 57
 * broke the same way (infra-01's recovery held back by the budget alone; 2 in flight from t+645 s
 * and t+700 s).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Fault, simulate, type SimulateOptions } from "../../src/sim/index.js"
import { anyInjected as injected, EVERY_FAULT_BUT_WIPE, scenario, small } from "./support.js"

const everything: ReadonlyArray<Fault> = [...EVERY_FAULT_BUT_WIPE, "cpWipe"]

const clean = (seed: number, extra: Partial<SimulateOptions> = {}) =>
  Effect.gen(function* () {
    const result = yield* simulate(small(seed, everything, extra))
    expect(result.injected.cpWipes).toBeGreaterThan(0)
    expect({ seed, violations: result.violations, problems: result.outcome.problems }).toEqual({ seed, violations: [], problems: [] })
  })

describe("simulator: every fault at once with the CP wipe", () => {
  scenario({ name: "every fault with the wipe, failing canary", faults: everything, injected })
  scenario({ name: "every fault with the wipe, halting canary", faults: everything, injected, options: { onCanaryFailure: "halt" } })
  scenario({ name: "every fault with the wipe, no failing canary", faults: everything, injected, options: { failingCanary: false } })
  it.live("seed 20, failing canary: no host recovered from the wiped storage is held in flight past the budget", () => clean(20), 60_000)
  it.live("seed 20, no failing canary", () => clean(20, { failingCanary: false }), 60_000)
  it.live("seed 20, halting canary", () => clean(20, { onCanaryFailure: "halt" }), 60_000)
  it.live("seeds 45 and 57, failing canary: the same budget-held recovery", () => Effect.zipRight(clean(45), clean(57)), 60_000)
})
