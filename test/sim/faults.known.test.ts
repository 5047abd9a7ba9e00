/**
 * Bugs the simulator found in code it does not own (src/cp, src/agent, src/machine), pinned as
 * `it.fails` so the suite stays green while they stand: each test asserts the RIGHT behaviour
 * and is expected to fail today. When a fix lands the test starts passing, vitest reports the
 * `.fails` as broken, and the marker must be removed (and the test kept, as a regression test:
 * see faults.cp.test.ts for the first one fixed).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Fault, NETWORK_FAULTS, simulate } from "../../src/sim/index.js"
import { small } from "./support.js"

describe("simulator: known bugs (expected to fail until fixed)", () => {
  // Every fault and a wipe, no failing canary, seed 5: after the wipe the CP rebuilds infra-01
  // and infra-02 as Converged (seq 3) from their heartbeats (Pending at the target → the
  // synthesised DispatchAck, ActivationCompleted, Converged). A heartbeat's bootstrap lists only
  // active records, so the agents never hear of it: infra-01 (rebooted after its deferral, its
  // own record Deferred at seq 3) stays Deferred, and infra-02 (restarted after the wipe, so it
  // rehydrated the reopened Pending record) stays Pending at seq 0, although both run the target.
  // The agent should settle a record the CP has finished (or complete a Deferred record whose
  // target now runs after a boot) instead of keeping a stale one forever.
  it.fails("all faults + wipe, seed 5: every settled agent ends in the CP's state for each of its records", () =>
    Effect.gen(function* () {
      const everything: ReadonlyArray<Fault> = ["agentCrash", "offline", "transientProbe", "deferred", "cpRestart", "cpWipe", ...NETWORK_FAULTS]
      const result = yield* simulate(small(5, everything, { failingCanary: false }))
      expect(result.injected.cpWipes).toBe(1)
      const cp = new Map(result.final.records.map((r) => [`${r.rolloutId}/${r.hostname}`, r.state] as const))
      const stale = result.agents.flatMap((a) =>
        a.queued > 0 ? [] : [...a.records.values()].filter((r) => cp.get(`${r.rolloutId}/${r.hostname}`) !== r.state).map((r) => `${r.hostname}=${r.state}`)
      )
      expect(stale).toEqual([])
    }).pipe(Effect.runPromise), 60_000)

  // Every fault and a wipe, no failing canary, seed 26: infra-01 (wave 0) deferred, so the first
  // CP released wave 1 and queued infra-02 (t+140 s). The CP is wiped (t+190 s); the rebuilt CP
  // reopens `infra` at wave 0 with both hosts Pending and never queues infra-02 — yet at t+366 s
  // it applies infra-02's DispatchAck (seq 1, sent late by the agent for the old CP's dispatch)
  // and infra-02 goes Activating while wave 0 is not done: a dispatch around the planner, wave
  // order broken from t+370 s. A CP should not take an ack for a dispatch it never queued (or
  // should at least hold it to the gates, as heartbeat recovery does).
  it.fails("all faults + wipe, seed 26: no host is acked around the planner (wave order and the dispatch gates hold)", () =>
    Effect.gen(function* () {
      const everything: ReadonlyArray<Fault> = ["agentCrash", "offline", "transientProbe", "deferred", "cpRestart", "cpWipe", ...NETWORK_FAULTS]
      const result = yield* simulate(small(26, everything, { failingCanary: false, maxHours: 2 }))
      expect(result.injected.cpWipes).toBe(1)
      expect(result.violations.filter((v) => v.invariant === "wave-order" || v.invariant === "no-dispatch-while-gated")).toEqual([])
    }).pipe(Effect.runPromise), 60_000)
})

// Fixed since they were found: the agent adopts the dispatch's (later) soak deadline when it
// activates a Pending record it already held (src/agent/reducer.ts), so its Converged never
// precedes the CP's deadline. Kept as regression tests with the seeds that found them.
describe("simulator: fixed bugs (regression tests)", () => {
  // Every fault and a wipe, no failing canary, seed 7: the wiped CP reopens `web` at t+535 s, so
  // web-02's Pending record has soakDueAt t+1135 s (open + 10 min) and every heartbeat hands the
  // agent that Pending snapshot. web-02 is dispatched at t+1815 s: the CP restarts the passed
  // deadline (t+2415 s) on the dispatch and on its record, but the agent's LocalActivate steps
  // the Pending record it already holds, which keeps t+1135 s (the dispatch's soakDueAt is used
  // only to create a record); the beat after the DispatchAck that would have moved it forward
  // was lost to the network. The agent reports Converged at t+1841 s (seq 7), the CP refuses it
  // (409 "converged_at before soak_due_at"), the agent drops it as a permanent refusal, and the
  // CP keeps web-02 Soaking forever (recovery synthesises nothing for Soaking): the rollout
  // never finishes. The agent should take the dispatch's deadline (the CP's latest), and a
  // refused premature Converged should not leave the two sides parted for good.
  it("all faults + wipe, seed 7: the agent's Converged is not refused for good (the rollout reaches Terminal)", () =>
    Effect.gen(function* () {
      const everything: ReadonlyArray<Fault> = ["agentCrash", "offline", "transientProbe", "deferred", "cpRestart", "cpWipe", ...NETWORK_FAULTS]
      const result = yield* simulate(small(7, everything, { failingCanary: false, maxHours: 2 }))
      expect(result.injected.cpWipes).toBe(1)
      expect(result.outcome.problems).toEqual([])
    }).pipe(Effect.runPromise), 60_000)

  // The same bug as seed 7 above, without any wipe since de32504 ("every host gets a full soak
  // window from its first dispatch"): netDrop, seed 6. infra-02 (wave 1) holds, from heartbeat
  // bootstraps, its Pending record with the opening-time deadline t+600 s. It is dispatched at
  // t+345 s and the CP moves its deadline to t+945 s (dispatch + 10 min); the agent's
  // LocalActivate steps the Pending record it holds and keeps t+600 s, and the beat after the
  // DispatchAck that would have adopted t+945 s is dropped. The agent reports Converged at
  // t+610 s (seq 15), the CP refuses it (409 "converged_at before soak_due_at"), the agent drops
  // it for good, and the CP keeps infra-02 Soaking at seq 14 forever: infra never finishes and
  // the web channel never starts. 
  it("netDrop seed 6: the agent soaks to the CP's deadline for the dispatch (infra reaches Terminal)", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(6, ["netDrop"], { maxHours: 2 }))
      expect(result.outcome.problems).toEqual([])
    }).pipe(Effect.runPromise), 60_000)
})
