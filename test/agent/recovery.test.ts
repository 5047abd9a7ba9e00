/**
 * Boot recovery: an agent killed (its scope closed) and started again on the same outbound queue
 * and the same host recovers through the handshake, with every event reaching the CP exactly
 * once and seqs contiguous.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import { SimulatedActivation } from "../../adapters/memory/simulatedHost.js"
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
  startAgent,
  targetOf,
  withCp
} from "./support.js"

describe("agent boot recovery", () => {
  const fleet = smallFleet(1)
  const host = fleet.hosts[0]!
  const rid = rolloutOf(fleet, host)

  it.effect("killed mid-activation with its events still queued: the restart delivers them, re-fires the switch, converges; no event lost or doubled", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(60)
      const queue = yield* makeMemoryOutboundQueue
      // The CP takes no event from the first run: DispatchAck and ActivationStarted stay queued.
      const flaky = yield* makeFlaky(true)
      const first = yield* startAgent(fleet, { host, sim, queue, flaky })
      yield* first.agent.ready
      yield* runUntil(Effect.map(queue.size, (n) => n >= 2), 60)
      yield* runFor(20)
      expect((yield* agentRecord(first.agent, rid))?.state).toBe("Activating")
      expect((yield* cpRecord(rid, host))?.state).toBe("Pending")
      expect((yield* sim.control.state).switches).toBe(0)
      yield* first.kill

      const second = yield* startAgent(fleet, { host, sim, queue })
      const handshake = yield* second.agent.ready
      expect(handshake).toEqual({ pendingEvents: 2, rehydrated: 1 })
      yield* runUntil(bothIn(second.agent, rid, "Converged"), 20 * 60)

      expect(yield* agentRecord(second.agent, rid)).toEqual(yield* cpRecord(rid, host))
      const log = yield* loggedEvents(host, rid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.slice(0, 4).map((e) => e.kind)).toEqual(["DispatchAck", "ActivationStarted", "ActivationStarted", "ActivationCompleted"])
      expect(log.at(-1)?.kind).toBe("Converged")
      expect((yield* sim.control.state).switches).toBe(1)
      expect(yield* queue.size).toBe(0)
      yield* second.kill
    }).pipe(withCp(fleet))
  )

  it.effect("a deferred switch completed by a reboot while the agent was down: the handshake's heartbeat lets the CP synthesise the completion, the agent resumes in Soaking", () =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      yield* sim.control.script(targetOf(fleet, host), SimulatedActivation.Defer({ component: "kernel" }))
      const queue = yield* makeMemoryOutboundQueue
      const first = yield* startAgent(fleet, { host, sim, queue })
      yield* first.agent.ready
      yield* runUntil(bothIn(first.agent, rid, "Deferred"), 120)
      yield* first.kill
      yield* sim.control.reboot
      expect((yield* sim.control.state).current).toBe(targetOf(fleet, host))

      const second = yield* startAgent(fleet, { host, sim, queue })
      yield* second.agent.ready
      expect((yield* agentRecord(second.agent, rid))?.state).toBe("Soaking")
      yield* runUntil(bothIn(second.agent, rid, "Converged"), 20 * 60)
      expect(yield* agentRecord(second.agent, rid)).toEqual(yield* cpRecord(rid, host))
      const log = yield* loggedEvents(host, rid)
      expect(contiguous(log.map((e) => e.seq))).toBe(true)
      expect(log.slice(0, 4).map((e) => e.kind)).toEqual(["DispatchAck", "ActivationStarted", "ActivationDeferred", "ActivationCompleted"])
      expect((yield* sim.control.state).switches).toBe(1)
      yield* second.kill
    }).pipe(withCp(fleet))
  )
})
