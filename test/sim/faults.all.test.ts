/**
 * The simulator with every fault at once: agent crashes, offline hosts, transient probe failures,
 * deferred switches, CP restarts and every network fault, with the failing canary; over the
 * default "direct" transport, and over "http" with fewer seeds. With a CP
 * database wipe added (and no failing canary) 5 of the first 30 seeds break on bugs outside
 * src/sim (seeds 7, 11, 22, 29: a premature Converged refused for good; seed 26: an ack the
 * wiped CP never dispatched), so that combination is pinned in faults.known.test.ts until they
 * are fixed.
 */
import { describe } from "@effect/vitest"
import { type Fault, NETWORK_FAULTS, type SimulationResult } from "../../src/sim/index.js"
import { HTTP_SEEDS, networkInjected, scenario } from "./support.js"

const everything: ReadonlyArray<Fault> = ["agentCrash", "offline", "transientProbe", "deferred", "cpRestart", ...NETWORK_FAULTS]
const injected = (r: SimulationResult) =>
  r.injected.crashes + r.injected.offline + r.injected.transientProbes + r.injected.deferredReboots + r.injected.cpRestarts + networkInjected(r)

describe("simulator: every fault at once", () => {
  scenario({
    name: "all faults but the wipe, failing canary",
    faults: everything,
    injected
  })
  // The same over the CP's full HTTP stack (encoding, guard, authentication, routing), so the wire
  // is exercised under every fault too; fewer seeds, as each run costs more.
  scenario({
    name: "all faults but the wipe, failing canary, over HTTP",
    faults: everything,
    options: { transport: "http" },
    seeds: HTTP_SEEDS,
    injected
  })
})
