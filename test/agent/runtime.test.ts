/**
 * The agent runtime against a real CP (in-process HTTP, memory storage, signed fleet) on the
 * TestClock: the happy path to Converged, sustained probe failure under both policies.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import { probeFail, Storage } from "../../src/ports/index.js"
import {
  agentRecord,
  bothIn,
  contiguous,
  cpRecord,
  loggedEvents,
  OLD,
  PROBE,
  rolloutOf,
  runFor,
  runUntil,
  simulatedHost,
  smallFleet,
  startAgent,
  targetOf,
  withCp
} from "./support.js"

describe("agent runtime", () => {
  const one = smallFleet(1)
  const host = one.hosts[0]!
  const rid = rolloutOf(one, host)

  it.effect("scenario 7, end to end: dispatch → activation → probes → soak → Converged, agent record identical to the CP mirror", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      const queue = yield* makeMemoryOutboundQueue
      const { agent, kill } = yield* startAgent(one, { host, sim, queue })
      yield* agent.ready
      yield* runUntil(bothIn(agent, rid, "Converged"), 15 * 60)

      const mine = yield* agentRecord(agent, rid)
      const theirs = yield* cpRecord(rid, host)
      expect(mine).toEqual(theirs)
      expect(mine?.currentClosureAtDispatch).toBe(OLD)
      expect(mine?.currentClosure).toBe(targetOf(one, host))
      expect((yield* sim.control.state).current).toBe(targetOf(one, host))

      const log = yield* loggedEvents(host, rid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.slice(0, 5).map((e) => e.kind)).toEqual(["DispatchAck", "ActivationStarted", "ActivationCompleted", "ProbeTopologyDeclared", "ProbeObservedFirst"])
      expect(log.at(-1)?.kind).toBe("Converged")
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
      const sim = yield* simulatedHost(10)
      yield* sim.control.setProbe(PROBE, probeFail("connection refused"), targetOf(two, infra))
      const queue = yield* makeMemoryOutboundQueue
      const { agent, kill } = yield* startAgent(two, { host: infra, sim, queue })
      yield* agent.ready
      yield* runUntil(bothIn(agent, infraRid, "Failed"), 10 * 60)

      const mine = (yield* agentRecord(agent, infraRid))!
      expect(mine).toEqual(yield* cpRecord(infraRid, infra))
      expect(mine.policyApplied).toBe("halt")
      expect(mine.failedAt! - mine.probeFailureFirstAt!).toBeGreaterThanOrEqual(120_000)
      const log = yield* loggedEvents(infra, infraRid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.filter((e) => e.kind === "Failed")).toHaveLength(1)
      expect(log.some((e) => e.kind === "RollbackComplete")).toBe(false)

      yield* runFor(60)
      const host = yield* sim.control.state
      expect(host.rollbacks).toBe(0)
      expect(host.current).toBe(targetOf(two, infra))
      expect((yield* agentRecord(agent, infraRid))?.state).toBe("Failed")
      expect(yield* Effect.flatMap(Storage, (s) => s.listQuarantines)).toEqual([])
      yield* kill
    }).pipe(withCp(two))
  )

  it.effect("scenario 8, end to end: an enforce probe failing for 120 s under rollback-and-halt: rollback fired, Reverted on both sides, closure quarantined", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      yield* sim.control.setProbe(PROBE, probeFail("connection refused"), targetOf(one, host))
      const queue = yield* makeMemoryOutboundQueue
      const { agent, kill } = yield* startAgent(one, { host, sim, queue })
      yield* agent.ready
      yield* runUntil(bothIn(agent, rid, "Reverted"), 10 * 60)

      const mine = (yield* agentRecord(agent, rid))!
      expect(mine).toEqual(yield* cpRecord(rid, host))
      expect(mine.policyApplied).toBe("rollback-and-halt")
      expect(mine.revertedTo).toBe(OLD)
      const state = yield* sim.control.state
      expect(state.rollbacks).toBe(1)
      expect(state.current).toBe(OLD)
      const quarantined = yield* Effect.flatMap(Storage, (s) => s.listQuarantines)
      expect(quarantined.map((q) => [q.channel, q.closureHash])).toEqual([[mine.channel, targetOf(one, host)]])
      const log = yield* loggedEvents(host, rid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.slice(-2).map((e) => e.kind)).toEqual(["Failed", "RollbackComplete"])
      yield* kill
    }).pipe(withCp(one))
  )
})
