/**
 * The simulator's scale mode (`agents: "scripted"`): one light scripted host per host instead of
 * a real agent, against the real CP. Every invariant holds and every rollout reaches Terminal;
 * each host reports exactly the healthy agent's minimal sequence, seqs 1..n; a CP restart is
 * ridden out by the hosts' retries; the failing canary and per-host faults do not apply.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/sim/index.js"
import { small } from "./support.js"

/** What a scripted host reports for its one rollout, in order. */
const SEQUENCE = ["DispatchAck", "ActivationStarted", "ActivationCompleted", "ProbeTopologyDeclared", "ProbeObservedFirst", "ProbeResult", "Converged"]

describe("simulator: scripted hosts (scale mode)", () => {
  it.live("every rollout reaches Terminal with every invariant holding; each host reports the healthy minimal sequence, seqs 1..7", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(1, [], { agents: "scripted", hostsPerChannel: 3, maxInFlight: 2 }))
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
      expect(result.final.rollouts.map((r) => r.state)).toEqual(result.fleet.channels.map(() => "Terminal"))
      const reported = new Map<string, Array<string>>()
      for (const e of result.log) {
        if (e.kind !== "agent_event" || e.hostname === null) continue
        reported.set(e.hostname, [...(reported.get(e.hostname) ?? []), `${e.agentSeq} ${(e.payload as { readonly kind: string }).kind}`])
      }
      expect([...reported.keys()].sort()).toEqual([...result.fleet.hosts])
      for (const events of reported.values()) expect(events).toEqual(SEQUENCE.map((kind, i) => `${i + 1} ${kind}`))
    }), 60_000)

  it.live("a CP restart and lost or duplicated requests are ridden out (retries; duplicates absorbed); the failing canary and host faults are ignored", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3]) {
        const result = yield* simulate(small(seed, ["cpRestart", "netResponseLost", "netDuplicate", "agentCrash"], { agents: "scripted" }))
        expect(result.injected.cpRestarts).toBeGreaterThan(0)
        expect(result.injected.crashes).toBe(0)
        expect({ seed, violations: result.violations, problems: result.outcome.problems }).toEqual({ seed, violations: [], problems: [] })
        expect(result.final.rollouts.map((r) => r.state)).toEqual(result.fleet.channels.map(() => "Terminal"))
      }
    }), 120_000)
})
