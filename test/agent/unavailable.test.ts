/**
 * The agent while its CP cannot take events: the drainer keeps every event queued, backs off
 * (honouring Retry-After) instead of hammering, and delivers everything exactly once, in order,
 * when the CP is back; an event the CP refuses for good is dropped with its reason and does not
 * block the ones behind it; a Converged refused as premature (the CP moved its soak deadline
 * meanwhile) does not part the two sides.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import type { RolloutId } from "../../src/domain/index.js"
import { type ControlPlaneClientService, CpUnavailable } from "../../src/ports/index.js"
import { agentRecord, bothIn, cpRecord, expectInStep, launch, makeFlaky, rolloutOf, runFor, runUntil, smallFleet, START, withCp } from "./support.js"

describe("agent with an unavailable CP", () => {
  const fleet = smallFleet(1)
  const host = fleet.hosts[0]!
  const rid = rolloutOf(fleet, host)

  /** An agent whose CP takes no event from now on (503, with `retryAfterSeconds` when given). */
  const cut = (retryAfterSeconds: number | null) =>
    Effect.gen(function* () {
      const flaky = yield* makeFlaky(false, retryAfterSeconds)
      const running = yield* launch(fleet, host, { flaky })
      yield* Ref.set(flaky.down, true)
      return { ...running, flaky, attemptsBefore: yield* Ref.get(flaky.postAttempts) }
    })

  it.effect("the CP down for two minutes, then back: every event arrives exactly once, in order, and the drainer backs off instead of hammering", () =>
    Effect.gen(function* () {
      const { agent, attemptsBefore, flaky, kill, queue } = yield* cut(null)
      yield* runFor(120)
      // Jittered exponential backoff from 1 s: about log2(120) attempts, not one per event or kick.
      expect((yield* Ref.get(flaky.postAttempts)) - attemptsBefore).toBeLessThanOrEqual(12)
      expect(yield* queue.size).toBeGreaterThan(3)
      expect((yield* cpRecord(rid, host))?.state).toBe("Pending")
      yield* Ref.set(flaky.down, false)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)

      expect((yield* expectInStep(agent, rid)).at(-1)).toBe("Converged")
      expect(yield* agent.droppedEvents).toBe(0)
      yield* kill
    }).pipe(withCp(fleet))
  )

  it.effect("a CP Retry-After is honoured: with Retry-After 30 s, at most one attempt per 30 s", () =>
    Effect.gen(function* () {
      const { agent, attemptsBefore, flaky, kill } = yield* cut(30)
      yield* runFor(120)
      expect((yield* Ref.get(flaky.postAttempts)) - attemptsBefore).toBeLessThanOrEqual(5)
      yield* Ref.set(flaky.down, false)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)
      yield* expectInStep(agent, rid)
      yield* kill
    }).pipe(withCp(fleet))
  )

  it.effect("the CP restarted the passed soak deadline of a dispatch whose ack it never got: the agent's Converged is refused as premature, it soaks again to the CP's deadline, and both converge", () =>
    Effect.gen(function* () {
      const flaky = yield* makeFlaky(false)
      // Beats fail too while the CP takes no event, so the agent cannot learn the later deadline in time.
      const deaf = (inner: ControlPlaneClientService): ControlPlaneClientService => ({
        ...inner,
        heartbeat: (request) =>
          Effect.flatMap(Ref.get(flaky.down), (down) =>
            down ? Effect.fail(new CpUnavailable({ reason: "test: CP down", retryAfterSeconds: null })) : inner.heartbeat(request)
          )
      })
      const { agent, kill } = yield* launch(fleet, host, { flaky, wrapClient: deaf })
      yield* Ref.set(flaky.down, true)
      yield* runUntil(Effect.map(agentRecord(agent, rid), (r) => r?.state === "Converged"), 30 * 60)
      const soakedTo = (yield* agentRecord(agent, rid))!.soakDueAt!
      yield* runFor(30)
      const cpDeadline = (yield* cpRecord(rid, host))!.soakDueAt!
      expect(cpDeadline).toBeGreaterThan(soakedTo)

      yield* Ref.set(flaky.down, false)
      yield* runUntil(bothIn(agent, rid, "Converged"), 30 * 60)
      expect(yield* agent.droppedEvents).toBe(1)
      expect((yield* cpRecord(rid, host))!.convergedAt).toBeGreaterThanOrEqual(cpDeadline)
      // In step again, with the CP's log contiguous: the second Converged took the refused one's seq.
      expect((yield* expectInStep(agent, rid)).filter((kind) => kind === "Converged")).toEqual(["Converged"])
      yield* kill
    }).pipe(withCp(fleet))
  )

  it.effect("an event the CP can never accept (404: unknown rollout) is dropped with its reason; the events behind it still go", () =>
    Effect.gen(function* () {
      const queue = yield* makeMemoryOutboundQueue
      yield* queue.enqueue({
        hostname: host,
        rolloutId: "infra@0000000000000000000000000000000000000000" as RolloutId,
        createdAt: START as never,
        event: { _tag: "ActivationStarted", startedAt: START as never, switchMethod: "switch-to-configuration", seq: 7 }
      })
      const { agent, handshake, kill } = yield* launch(fleet, host, { queue })
      expect(handshake.pendingEvents).toBe(1)
      expect(yield* agent.droppedEvents).toBe(1)
      yield* runUntil(bothIn(agent, rid, "Converged"), 20 * 60)
      yield* expectInStep(agent, rid)
      expect(yield* queue.size).toBe(0)
      yield* kill
    }).pipe(withCp(fleet))
  )
})
