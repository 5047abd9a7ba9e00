/**
 * The demo's core (`simulate`) at small sizes: the signed sample fleet rolls out through a real
 * CP and real agents on simulated hosts; the failing canary's channel halts with the canary
 * Reverted and its closure quarantined, every other channel reaches Terminal. The demo runs over
 * the "http" transport (every agent call through the CP's HTTP stack), and so does its test.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/sim/index.js"

describe("simulator: the demo's outcome", () => {
  it.live("demo, small: every channel Terminal but the failing canary's, which is Failed, canary Reverted, closure quarantined", () =>
    Effect.gen(function* () {
      const result = yield* simulate({ seed: 7, hostsPerChannel: 3, transport: "http" })
      expect(result.outcome.problems).toEqual([])
      const { channel, host } = result.fleet.failingCanary
      const states = new Map(result.final.rollouts.map((r) => [r.channel, r.state] as const))
      for (const c of result.fleet.channels) expect(states.get(c)).toBe(c === channel ? "Failed" : "Terminal")
      const canary = result.final.records.find((r) => r.hostname === host)
      expect(canary?.state).toBe("Reverted")
      expect(result.final.quarantines).toEqual([{ channel, closureHash: result.fleet.fleet.hosts[host]?.closureHash }])
      // Agent events reached the CP's log in per-host seq order, each once.
      const seqs = new Map<string, Array<number>>()
      for (const e of result.log) if (e.kind === "agent_event" && e.hostname !== null) seqs.set(e.hostname, [...(seqs.get(e.hostname) ?? []), e.agentSeq ?? -1])
      for (const list of seqs.values()) expect(list).toEqual(list.map((_, i) => i + 1))
    }), 60_000)

  it.live("without the failing probe every channel reaches Terminal", () =>
    Effect.gen(function* () {
      const result = yield* simulate({ seed: 3, hostsPerChannel: 2, failingCanary: false })
      expect(result.outcome.problems).toEqual([])
      expect(result.final.rollouts.map((r) => r.state)).toEqual(result.fleet.channels.map(() => "Terminal"))
      expect(result.final.quarantines).toEqual([])
    }), 60_000)
})
