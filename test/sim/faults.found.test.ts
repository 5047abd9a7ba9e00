/**
 * Bugs outside src/sim found by running 200 seeds per fault scenario (the many-seed soak of
 * issue 7), pinned as `it.fails` while they stand: each test asserts the RIGHT behaviour and is
 * expected to fail while the bug stands. When a fix lands the test passes, vitest reports the `.fails` as broken:
 * remove the marker (keep the test as a regression test) and take the seed off its scenario's
 * `knownBroken` list. Known bugs found earlier live in faults.known.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ALL_FAULTS, simulate } from "../../src/sim/index.js"
import { small } from "./support.js"

describe("simulator: bugs found by the 200-seed soak", () => {
  // Fixed, kept as a regression test with the seed that found it. The fix (src/machine/catchUp.ts,
  // src/agent/reducer.ts `catchUp`): a heartbeat snapshot showing the CP's record behind the
  // agent's in another state (here Pending at seq 0), with nothing of the rollout queued and no
  // event accepted since the beat left, makes the agent re-report its own transitions (here
  // DispatchAck and ActivationCompleted, at its own seqs); the rebuilt CP steps them through the
  // same step() to Soaking and takes the probe results again, and the agent adopts the CP's later
  // soak deadline, so its Converged is accepted. A dispatch of a rollout already past Pending asks
  // for a beat at once (the beats otherwise fell on probe instants), and the beats no longer
  // report the running closure while the agent holds a Soaking record of it.
  //
  // cpWipe alone, no failing canary, seed 68 (src/agent, with src/cp's recovery). infra-01 (the
  // canary) converges at t+330 s; infra-02 (wave 1) is dispatched at t+345 s, acks, completes its
  // switch at t+375 s and soaks (deadline t+945 s). The CP is wiped at t+527 s and comes back at
  // t+605 s on empty storage: it reopens both rollouts with every record Pending at seq 0,
  // rebuilds infra-01 from its heartbeat (synthesised ack, completion, Converged at t+630 s),
  // releases wave 1 and queues infra-02 at t+635 s, then re-queues it every 15 s for good:
  // - infra-02's agent takes each of those dispatches and ignores it ("dispatch of a rollout
  //   already acked"), since its own record is Soaking at seq 11; it never acks the rebuilt CP;
  // - its ProbeResults (seq 12, 13, …) are refused 409 "RemoteProbeResult not legal from state
  //   Pending" and dropped for good;
  // - its heartbeats never carry the running closure (a beat reports it only with an empty
  //   outbound queue, and the beats, every 300 s from the ack's delivery at t+345 s, fall on the
  //   instants of the 30 s probe results, timed from t+375 s), so the rebuilt CP never learns
  //   infra-02 runs its target and heartbeat recovery never synthesises its record;
  // - each re-queue after the deadline restarts the soak deadline, the agent adopts it from the
  //   heartbeat's snapshot ("soak deadline moved to the CP's"), so it never converges either.
  // infra never reaches Terminal and web never starts; at the 12 h limit the agent is Soaking at
  // seq 1433 and the CP's record Pending at seq 0 (no-lost-event: agent ahead of the CP). An
  // agent dispatched again for a rollout whose CP record is behind its own should bring the CP
  // level (ack again, or report its closure), rather than ignore the dispatch forever.
  it("regression, cpWipe seed 68: an agent soaking through a wipe is brought level with the rebuilt CP (infra reaches Terminal)", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(68, ["cpWipe"], { failingCanary: false, maxHours: 1 }))
      expect(result.injected.cpWipes).toBe(1)
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
    }).pipe(Effect.runPromise), 60_000)

  // netReorder with the canary's channel under `halt`, seed 3 (src/cp/recovery.ts). web-01 (the
  // canary) fails its soak at 12:19:30 under halt and stays on its target; a heartbeat it sent at
  // 12:16:30, before its dispatch, reporting the prior closure, is delivered again after the
  // failure. The CP read it as "Failed with the prior closure running: the rollback's ack was
  // lost", synthesised RollbackComplete (completedAt 12:16:30, before the failure) and settled
  // the host Reverted with its closure quarantined: a rollback that never happened. Recovery now
  // infers a rollback only under rollback-and-halt, from a heartbeat observed after the failure.
  it("regression, netReorder seed 3, halting canary: a redelivered old heartbeat does not settle the halted canary Reverted", () =>
    Effect.gen(function* () {
      const result = yield* simulate(small(3, ["netReorder"], { onCanaryFailure: "halt" }))
      expect(result.injected.network.netReorder).toBeGreaterThan(0)
      const canary = result.final.records.find((r) => r.hostname === result.fleet.failingCanary.host)
      expect([canary?.state, canary?.policyApplied, result.final.quarantines.length]).toEqual(["Failed", "halt", 0])
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
    }).pipe(Effect.runPromise), 60_000)

  // Every fault, 3 channels × 5 hosts, 3 waves, budget 3, seed 1242 (adapters/memory/simulatedHost.ts;
  // found by the soak script, seeds 1001–1400). infra-03 defers its switch (kernel) at t+353 s;
  // the CP is wiped at t+459 s and rebuilds the record Pending; the host reboots into its target,
  // and the rebuilt CP, gated at that heartbeat, dispatches it again at t+935 s. The agent acks
  // (running the target), switches, and the simulated host deferred the switch AGAIN, as scripted
  // for that closure, though it was the running one: infra-03 stayed Deferred for the 12 h limit,
  // holding infra short of Terminal, web behind its channel edge and batch's canary Pending. The
  // nix activator defers only when a critical component differs from the running system, which
  // the running closure never does; the simulated host now does the same.
  it("regression, all faults seed 1242 (3 × 5 hosts): a host rebooted into its deferred target and dispatched it again converges", () =>
    Effect.gen(function* () {
      const result = yield* simulate({ seed: 1242, channels: 3, hostsPerChannel: 5, waves: 3, maxInFlight: 3, faults: ALL_FAULTS })
      expect([result.injected.cpWipes, result.injected.deferredReboots > 0]).toEqual([1, true])
      expect(result.final.records.find((r) => r.hostname === "infra-03")?.state).toBe("Converged")
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
    }).pipe(Effect.runPromise), 120_000)

  // Every fault, halting canary, 2 × 4 hosts, 2 waves, budget 2, seed 4249 (src/agent/reducer.ts;
  // found by the soak script, seeds 4001–4300). infra-02 acks its dispatch at t+93 s and its agent
  // is killed mid-activation; the CP is wiped at t+102 s and is down until t+203 s. The restarted
  // agent's handshake heartbeat reached a CP that had no record yet, so the boot rule (fire an
  // Activating record's switch again) found nothing; its queued ack then rebuilt the CP's record
  // Activating, and the heartbeat that brought that record to the agent did not fire the switch
  // either: infra-02 stayed Activating for the 12 h limit, holding infra and web. A snapshot that
  // brings an Activating record the running process never fired now fires it again.
  it("regression, all faults seed 4249 (halting canary): an agent restarted mid-activation across a CP wipe fires its switch again once the CP rebuilds the record", () =>
    Effect.gen(function* () {
      const result = yield* simulate({ seed: 4249, channels: 2, hostsPerChannel: 4, waves: 2, maxInFlight: 2, faults: ALL_FAULTS, onCanaryFailure: "halt" })
      expect([result.injected.cpWipes, result.injected.crashes > 0]).toEqual([1, true])
      expect(result.final.records.find((r) => r.hostname === "infra-02")?.state).toBe("Converged")
      expect({ violations: result.violations, problems: result.outcome.problems }).toEqual({ violations: [], problems: [] })
    }).pipe(Effect.runPromise), 120_000)
})
