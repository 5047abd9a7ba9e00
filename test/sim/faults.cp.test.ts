/**
 * The simulator under control-plane faults: the CP process restarts on the same storage while
 * the agents keep running (they see it unavailable meanwhile), or restarts on EMPTY storage (a
 * database wipe: recovery from heartbeats alone, the reference's acceptance gate 1). Every
 * invariant holds per storage epoch (log replay, no dispatch while gated, no acknowledged event
 * lost, agents agree with the CP at the end) and the outcome is the expected one.
 */
import { describe } from "@effect/vitest"
import { scenario } from "./support.js"

describe("simulator: control-plane restarts and wipes", () => {
  scenario({ name: "CP restart (1–2 stops of 30–120 s, same storage)", faults: ["cpRestart"], injected: (r) => r.injected.cpRestarts })
  // Without the failing canary: a wipe loses the quarantine and the canary's Failed/Reverted record,
  // which no heartbeat can rebuild (see the known-bug test in faults.known.test.ts).
  scenario({
    name: "CP database wipe (empty storage, rebuilt from heartbeats), no failing canary",
    faults: ["cpWipe"],
    injected: (r) => r.injected.cpWipes,
    options: { failingCanary: false }
  })
})
