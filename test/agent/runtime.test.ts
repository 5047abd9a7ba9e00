/**
 * The agent runtime against a real CP (in-process HTTP, memory storage, signed fleet) on the
 * TestClock: the happy path to Converged, sustained probe failure under both policies.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { HostId, HostState } from "../../src/domain/index.js"
import { probeFail, Storage } from "../../src/ports/index.js"
import type { SignedSampleFleet } from "../support/signedFleet.js"
import { agentRecord, bothIn, expectInStep, launch, OLD, PROBE, rolloutOf, runFor, runUntil, simulatedHost, smallFleet, targetOf, withCp } from "./support.js"

const quarantines = Effect.flatMap(Storage, (s) => s.listQuarantines)

/** Runs `host`'s agent with its enforce probe failing on the new closure until the host is `until` on both sides. */
const failingProbe = (fleet: SignedSampleFleet, host: HostId, until: HostState) =>
  Effect.gen(function* () {
    const sim = yield* simulatedHost(10)
    yield* sim.control.setProbe(PROBE, probeFail("connection refused"), targetOf(fleet, host))
    const running = yield* launch(fleet, host, { sim })
    const rid = rolloutOf(fleet, host)
    yield* runUntil(bothIn(running.agent, rid, until), 10 * 60)
    return { ...running, kinds: yield* expectInStep(running.agent, rid), mine: (yield* agentRecord(running.agent, rid))! }
  })

describe("agent runtime", () => {
  const one = smallFleet(1)
  const host = one.hosts[0]!
  const rid = rolloutOf(one, host)

  it.effect("scenario 7, end to end: dispatch → activation → probes → soak → Converged, agent record identical to the CP mirror", () =>
    Effect.gen(function* () {
      const { agent, kill, queue, sim } = yield* launch(one, host)
      yield* runUntil(bothIn(agent, rid, "Converged"), 15 * 60)

      const kinds = yield* expectInStep(agent, rid)
      expect(kinds.slice(0, 5)).toEqual(["DispatchAck", "ActivationStarted", "ActivationCompleted", "ProbeTopologyDeclared", "ProbeObservedFirst"])
      expect(kinds.at(-1)).toBe("Converged")
      const mine = yield* agentRecord(agent, rid)
      expect(mine?.currentClosureAtDispatch).toBe(OLD)
      expect(mine?.currentClosure).toBe(targetOf(one, host))
      expect((yield* sim.control.state).current).toBe(targetOf(one, host))
      expect(yield* queue.size).toBe(0)
      const rollout = yield* Effect.flatMap(Storage, (s) => s.loadRollout(rid))
      expect(rollout._tag === "Some" ? rollout.value.state : "none").toBe("Terminal")
      yield* kill
    }).pipe(withCp(one))
  )

  // Two channels: `infra` (staged-halt) gates `web` (canary-rollback). The infra host fails.
  const two = smallFleet(2)
  const infra = two.hosts.find((h) => h.startsWith("infra"))!
  const infraRid = rolloutOf(two, infra)

  it.effect("scenario 9, end to end: an enforce probe failing for 120 s under halt: Failed on both sides, no rollback, nothing quarantined", () =>
    Effect.gen(function* () {
      const { agent, kill, kinds, mine, sim } = yield* failingProbe(two, infra, "Failed")
      expect(mine.policyApplied).toBe("halt")
      expect(mine.failedAt! - mine.probeFailureFirstAt!).toBeGreaterThanOrEqual(120_000)
      expect(kinds.filter((k) => k === "Failed")).toHaveLength(1)
      expect(kinds).not.toContain("RollbackComplete")

      yield* runFor(60)
      const state = yield* sim.control.state
      expect(state.rollbacks).toBe(0)
      expect(state.current).toBe(targetOf(two, infra))
      expect((yield* agentRecord(agent, infraRid))?.state).toBe("Failed")
      expect(yield* quarantines).toEqual([])
      yield* kill
    }).pipe(withCp(two))
  )

  it.effect("scenario 8, end to end: an enforce probe failing for 120 s under rollback-and-halt: rollback fired, Reverted on both sides, closure quarantined", () =>
    Effect.gen(function* () {
      const { kill, kinds, mine, sim } = yield* failingProbe(one, host, "Reverted")
      expect(kinds.slice(-2)).toEqual(["Failed", "RollbackComplete"])
      expect(mine.policyApplied).toBe("rollback-and-halt")
      expect(mine.revertedTo).toBe(OLD)
      const state = yield* sim.control.state
      expect(state.rollbacks).toBe(1)
      expect(state.current).toBe(OLD)
      expect((yield* quarantines).map((q) => [q.channel, q.closureHash])).toEqual([[mine.channel, targetOf(one, host)]])
      yield* kill
    }).pipe(withCp(one))
  )
})
