/**
 * The simulator under network faults on agent→CP requests, each decided by the seed per (host,
 * request number): dropped, response lost (a duplicate delivery the CP must absorb), duplicated,
 * delayed, reordered (an old event or heartbeat redelivered after newer ones). Every invariant
 * holds and the outcome is the expected one.
 */
import { describe } from "@effect/vitest"
import { type NetworkFault } from "../../src/sim/index.js"
import { scenario } from "./support.js"

const network = (name: string, fault: NetworkFault, knownBroken: ReadonlyArray<number> = []) =>
  scenario({ name, faults: [fault], injected: (r) => r.injected.network[fault], knownBroken })

describe("simulator: network faults", () => {
  network("requests dropped before the CP", "netDrop")
  network("responses lost after the CP processed the request", "netResponseLost")
  network("requests delivered twice", "netDuplicate")
  network("requests delayed 1–120 s", "netDelay")
  network("old events and heartbeats redelivered after newer ones", "netReorder")
})
