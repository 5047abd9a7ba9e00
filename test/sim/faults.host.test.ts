/**
 * The simulator under deferred activations: a share of hosts stage their switch for the next
 * boot (the agent reports Deferred) and reboot 1–10 minutes later; the CP completes the
 * activation from the rebooted agent's heartbeat and the host soaks and converges.
 */
import { describe } from "@effect/vitest"
import { scenario } from "./support.js"

describe("simulator: deferred activations", () => {
  scenario({ name: "deferred switches completed by a reboot", faults: ["deferred"], injected: (r) => r.injected.deferredReboots })
})
