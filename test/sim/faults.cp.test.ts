/**
 * The simulator under control-plane faults: the CP process restarts on the same storage while
 * the agents keep running (they see it unavailable meanwhile), or restarts on EMPTY storage (a
 * database wipe: recovery from heartbeats alone, the reference's acceptance gate 1). Every
 * invariant holds per storage epoch (log replay, no dispatch while gated, no acknowledged event
 * lost, agents agree with the CP at the end) and the outcome is the expected one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { simulate } from "../../src/sim/index.js"
import { scenario, small } from "./support.js"

describe("simulator: control-plane restarts and wipes", () => {
  scenario({ name: "CP restart (1–2 stops of 30–120 s, same storage)", faults: ["cpRestart"], injected: (r) => r.injected.cpRestarts })
  // With the failing canary: a wipe after the canary's rollback loses the quarantine and its
  // Reverted record; the canary's agent re-reports its path to the rebuilt CP, which quarantines
  // the closure again (wipe.quarantine.test.ts has a seed where the wipe comes after the rollback).
  scenario({ name: "CP database wipe (empty storage, rebuilt from heartbeats), failing canary", faults: ["cpWipe"], injected: (r) => r.injected.cpWipes })
  // Under `halt` the canary stays Failed on its target: a rebuilt CP must learn that from the
  // agent, never synthesise the host Converged from its running closure.
  scenario({
    name: "CP database wipe (empty storage, rebuilt from heartbeats), halting canary",
    faults: ["cpWipe"],
    injected: (r) => r.injected.cpWipes,
    options: { onCanaryFailure: "halt" }
  })
  scenario({
    name: "CP database wipe (empty storage, rebuilt from heartbeats), no failing canary",
    faults: ["cpWipe"],
    injected: (r) => r.injected.cpWipes,
    options: { failingCanary: false }
  })

  // Found by the simulator (it was pinned as a known bug until de32504): the wiped CP reopens
  // `web` at t+650 s, so the canary's soak deadline fixed at opening is t+950 s; the canary is
  // dispatched at t+935 s and its switch ends at t+970 s, after that deadline, and it used to
  // report Converged in the same second, before any probe ran. Every host now gets a full soak
  // window from its first dispatch: the failing canary fails its soak and is rolled back.
  it.live("regression, cpWipe seed 9: a canary dispatched just before its opening-time soak deadline still soaks (Reverted, quarantined)", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(9, ["cpWipe"]))
      expect(result.injected.cpWipes).toBe(1)
      expect(result.outcome.problems).toEqual([])
      expect(result.final.records.find((r) => r.hostname === result.fleet.failingCanary.host)?.state).toBe("Reverted")
    }), 60_000)
})
