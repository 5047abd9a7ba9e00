/**
 * The agent while its CP cannot take events: the drainer keeps every event queued, backs off
 * (honouring Retry-After) instead of hammering, and delivers everything exactly once, in order,
 * when the CP is back; an event the CP refuses for good is dropped with its reason and does not
 * block the ones behind it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import type { RolloutId } from "../../src/domain/index.js"
import {
  agentRecord,
  bothIn,
  contiguous,
  cpRecord,
  loggedEvents,
  makeFlaky,
  rolloutOf,
  runFor,
  runUntil,
  simulatedHost,
  smallFleet,
  START,
  startAgent,
  withCp
} from "./support.js"

describe("agent with an unavailable CP", () => {
  const fleet = smallFleet(1)
  const host = fleet.hosts[0]!
  const rid = rolloutOf(fleet, host)

  it.effect("the CP down for two minutes, then back: every event arrives exactly once, in order, and the drainer backs off instead of hammering", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      const queue = yield* makeMemoryOutboundQueue
      const flaky = yield* makeFlaky(false)
      const { agent, kill } = yield* startAgent(fleet, { host, sim, queue, flaky })
      yield* agent.ready
      yield* Ref.set(flaky.down, true)
      yield* runFor(120)
      const attemptsWhileDown = yield* Ref.get(flaky.postAttempts)
      // Jittered exponential backoff from 1 s: about log2(120) attempts, not one per event or kick.
      expect(attemptsWhileDown).toBeLessThanOrEqual(12)
      expect(yield* queue.size).toBeGreaterThan(3)
      expect((yield* cpRecord(rid, host))?.state).toBe("Pending")
      yield* Ref.set(flaky.down, false)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)

      expect(yield* agentRecord(agent, rid)).toEqual(yield* cpRecord(rid, host))
      const log = yield* loggedEvents(host, rid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.at(-1)?.kind).toBe("Converged")
      expect(yield* agent.droppedEvents).toBe(0)
      yield* kill
    }).pipe(withCp(fleet))
  )

  it.effect("a CP Retry-After is honoured: with Retry-After 30 s, at most one attempt per 30 s", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      const queue = yield* makeMemoryOutboundQueue
      const flaky = yield* makeFlaky(false, 30)
      const { agent, kill } = yield* startAgent(fleet, { host, sim, queue, flaky })
      yield* agent.ready
      yield* Ref.set(flaky.down, true)
      const before = yield* Ref.get(flaky.postAttempts)
      yield* runFor(120)
      expect((yield* Ref.get(flaky.postAttempts)) - before).toBeLessThanOrEqual(5)
      yield* Ref.set(flaky.down, false)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)
      expect(contiguous((yield* loggedEvents(host, rid)).map((e) => e.seq))).toBe(true)
      yield* kill
    }).pipe(withCp(fleet))
  )

  it.effect("an event the CP can never accept (404: unknown rollout) is dropped with its reason; the events behind it still go", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      const queue = yield* makeMemoryOutboundQueue
      const stale = "infra@0000000000000000000000000000000000000000" as RolloutId
      yield* queue.enqueue({
        hostname: host,
        rolloutId: stale,
        createdAt: START as never,
        event: { _tag: "ActivationStarted", startedAt: START as never, switchMethod: "switch-to-configuration", seq: 7 }
      })
      const { agent, kill } = yield* startAgent(fleet, { host, sim, queue })
      expect((yield* agent.ready).pendingEvents).toBe(1)
      expect(yield* agent.droppedEvents).toBe(1)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)
      expect(contiguous((yield* loggedEvents(host, rid)).map((e) => e.seq))).toBe(true)
      expect(yield* queue.size).toBe(0)
      yield* kill
    }).pipe(withCp(fleet))
  )
})
