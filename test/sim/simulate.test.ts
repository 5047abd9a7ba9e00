/**
 * The simulator as a property test: for many seeds per fault scenario, a small fleet (2 channels
 * × 2 hosts, 2 waves) rolls out through the real CP and agents with the faults injected, and
 * every invariant holds after every clock step (budget, wave order, Terminal ⇒ Converged,
 * quarantine never re-dispatched, no acknowledged event lost) and the outcome is the expected
 * one. Also: the same seed gives the same event log (modulo signatures).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Fault, simulate, type SimulateOptions, type SimulationResult } from "../../src/sim/index.js"

/** Seeds per fault scenario: 8 fit in about 12 s each (about one seed a second); SIM_SEEDS=200 for a soak. */
const SEEDS = Number(process.env.SIM_SEEDS ?? 8)

const small = (seed: number, faults: ReadonlyArray<Fault>): SimulateOptions => ({ seed, channels: 2, hostsPerChannel: 2, waves: 2, maxInFlight: 1, faults })

/** The log as the seed determines it: kind, time, host, rollout, seq and payload tag, in order. */
const shape = (result: SimulationResult) =>
  result.log.map((e) => [e.kind, e.at, e.hostname, e.rolloutId, e.agentSeq, (e.payload as { readonly kind?: string }).kind].join(" "))

const scenario = (name: string, faults: ReadonlyArray<Fault>, injected: (r: SimulationResult) => number) =>
  it.live(
    `${name}: ${SEEDS} seeds, every invariant holds after every step and the outcome is the expected one`,
    () =>
      Effect.gen(function* () {
        let total = 0
        for (let seed = 1; seed <= SEEDS; seed++) {
          const result = yield* simulate(small(seed, faults))
          expect({ seed, violations: result.violations, problems: result.outcome.problems }).toEqual({ seed, violations: [], problems: [] })
          total += injected(result)
        }
        // The scenario's fault really was injected (for the no-fault scenario: never).
        expect(total > 0).toBe(faults.length > 0)
      }),
    120_000
  )

describe("simulator: seeded faults and invariants", () => {
  it.live("determinism: the same seed gives the same agent_event / plan_action sequence (modulo signatures)", () =>
    Effect.gen(function* () {
      const a = yield* simulate(small(5, ["agentCrash", "offline"]))
      const b = yield* simulate(small(5, ["agentCrash", "offline"]))
      expect(shape(a).length).toBeGreaterThan(20)
      expect(shape(b)).toEqual(shape(a))
      const c = yield* simulate(small(6, ["agentCrash", "offline"]))
      expect(c.simulatedSeconds > 0 && shape(c).length > 0).toBe(true)
    }), 60_000)

  scenario("no faults", [], (r) => r.injected.crashes + r.injected.offline + r.injected.transientProbes)
  scenario("agent crash and restart mid-activation", ["agentCrash"], (r) => r.injected.crashes)
  scenario("hosts offline for a stretch", ["offline"], (r) => r.injected.offline)
  scenario("transient probe failures (60 s, under the sustained threshold)", ["transientProbe"], (r) => r.injected.transientProbes)
  scenario("every fault at once", ["agentCrash", "offline", "transientProbe"], (r) => r.injected.crashes + r.injected.offline + r.injected.transientProbes)
})
