/**
 * The simulator as a property test: for many seeds per fault scenario, a small fleet (2 channels
 * × 2 hosts, 2 waves) rolls out through the real CP and agents with the faults injected, and
 * every invariant holds after every clock step and at the end, and the outcome is the expected
 * one (support.ts). This file: determinism, no faults and the agent-side faults; the other
 * faults have their own files (faults.*.test.ts) so vitest runs them in parallel.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ALL_FAULTS, simulate, type SimulationResult } from "../../src/sim/index.js"
import { scenario, small } from "./support.js"

/** Every epoch's log as the seed determines it: kind, time, host, rollout, seq and payload tag, in order. */
const shape = (result: SimulationResult) =>
  result.epochs.map((epoch) => epoch.log.map((e) => [e.kind, e.at, e.hostname, e.rolloutId, e.agentSeq, (e.payload as { readonly kind?: string }).kind].join(" ")))

describe("simulator: seeded faults and invariants", () => {
  it.live("determinism: the same seed gives the same agent_event / plan_action sequences in every epoch (modulo signatures), under every fault", () =>
    Effect.gen(function* () {
      const options = small(5, ALL_FAULTS, { failingCanary: false })
      const a = yield* simulate(options)
      const b = yield* simulate(options)
      expect(a.injected.cpWipes).toBe(1)
      expect(shape(a).flat().length).toBeGreaterThan(20)
      expect(shape(b)).toEqual(shape(a))
      expect(b.injected).toEqual(a.injected)
      const c = yield* simulate({ ...options, seed: 6 })
      expect(shape(c)).not.toEqual(shape(a))
    }), 120_000)

  it.live("the transport changes nothing the CP decides: without faults, the same seed gives the same event log over \"http\" and \"direct\"", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2]) {
        const http = yield* simulate(small(seed, [], { transport: "http" }))
        const direct = yield* simulate(small(seed, [], { transport: "direct" }))
        expect(shape(direct)).toEqual(shape(http))
        expect(direct.final.records.map((r) => [r.hostname, r.state])).toEqual(http.final.records.map((r) => [r.hostname, r.state]))
      }
    }), 120_000)
  scenario({ name: "no faults", faults: [], injected: (r) => r.injected.crashes + r.injected.offline + r.injected.transientProbes })
  scenario({ name: "agent crash and restart mid-activation", faults: ["agentCrash"], injected: (r) => r.injected.crashes })
  scenario({ name: "hosts offline for a stretch", faults: ["offline"], injected: (r) => r.injected.offline })
  scenario({ name: "transient probe failures (60 s, under the sustained threshold)", faults: ["transientProbe"], injected: (r) => r.injected.transientProbes })
})
