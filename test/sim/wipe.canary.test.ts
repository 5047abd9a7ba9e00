/**
 * A CP database wipe while the failing canary is mid-way (issue 7): the rebuilt CP holds it
 * Pending, the canary's agent goes on to fail and roll back. The agent's catch-up (its own path
 * re-reported from the heartbeat snapshot, src/machine/catchUp.ts) lets the rebuilt CP step it to
 * Reverted through the same step(), which quarantines the closure and halts the channel.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/sim/index.js"
import { small } from "./support.js"

describe("simulator: a wipe under the failing canary", () => {
  // One channel (the failing canary's), so the canary runs inside the 10 minutes the wipe is drawn
  // from; a run ends once its rollout finished, so the wipe can come at the latest mid-way. Seed
  // 12: the wipe hits while the canary is Activating. Before the fix, 7 of seeds 1-20 of this setup
  // broke this way (the rebuilt CP held the canary Pending for good, its agent ignoring the
  // dispatches as "already acked": no quarantine, the rollout Active; for seed 12 "agent Reverted
  // at seq 13, CP Pending at seq 0"). test/agent/wipe.test.ts pins a wipe after the rollback.
  it.live("one channel, failing canary, cpWipe seed 12: the rebuilt CP learns the canary's rollback from its agent (Reverted, quarantined, rollout Failed)", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(12, ["cpWipe"], { channels: 1, maxHours: 2 }))
      expect(result.injected.cpWipes).toBe(1)
      const canary = result.fleet.failingCanary
      const closure = result.fleet.fleet.hosts[canary.host]?.closureHash
      expect(result.epochs.map((e) => e.records.find((r) => r.hostname === canary.host)?.state)).toEqual(["Activating", "Reverted"])
      expect(result.final.quarantines.map((q) => [q.channel, q.closureHash])).toEqual([[canary.channel, closure]])
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
    }), 60_000)
})
