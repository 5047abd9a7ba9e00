/**
 * The simulator with every fault at once: agent crashes, offline hosts, transient probe failures,
 * deferred switches, CP restarts and every network fault, with the failing canary under its
 * channel's `rollback-and-halt` policy, and again under `halt`; over the default "direct"
 * transport, and over "http" with fewer seeds. The CP database wipe is added in
 * faults.wipe.all.test.ts (the bugs that combination found are regression tests in
 * faults.known.test.ts).
 */
import { describe } from "@effect/vitest"
import { anyInjected as injected, EVERY_FAULT_BUT_WIPE as everything, HTTP_SEEDS, scenario } from "./support.js"

describe("simulator: every fault at once", () => {
  scenario({
    name: "all faults but the wipe, failing canary",
    faults: everything,
    injected
  })
  // The canary's channel halts instead: the canary stays Failed on its target, nothing is
  // quarantined (this found the CP settling a halted host Reverted from a redelivered heartbeat).
  scenario({
    name: "all faults but the wipe, halting canary",
    faults: everything,
    options: { onCanaryFailure: "halt" },
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
