/**
 * Boot recovery: an agent killed (its scope closed) and started again on the same outbound queue
 * and the same host recovers through the handshake, with every event reaching the CP exactly
 * once and seqs contiguous; a deferred switch completed by a reboot is reported by the CP's
 * synthesis or, when the CP could not synthesise it, by the agent itself.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SimulatedActivation } from "../../adapters/memory/simulatedHost.js"
import type { ControlPlaneClientService } from "../../src/ports/index.js"
import { agentRecord, bothIn, cpRecord, expectInStep, launch, makeFlaky, rolloutOf, runFor, runUntil, simulatedHost, smallFleet, targetOf, withCp } from "./support.js"

describe("agent boot recovery", () => {
  const fleet = smallFleet(1)
  const host = fleet.hosts[0]!
  const rid = rolloutOf(fleet, host)

  it.effect("killed mid-activation with its events still queued: the restart delivers them, re-fires the switch, converges; no event lost or doubled", () =>
    Effect.gen(function* () {
      // The CP takes no event from the first run: DispatchAck and ActivationStarted stay queued.
      const first = yield* launch(fleet, host, { activationSeconds: 60, flaky: yield* makeFlaky(true) })
      yield* runUntil(Effect.map(first.queue.size, (n) => n >= 2), 60)
      yield* runFor(20)
      expect((yield* agentRecord(first.agent, rid))?.state).toBe("Activating")
      expect((yield* cpRecord(rid, host))?.state).toBe("Pending")
      expect((yield* first.sim.control.state).switches).toBe(0)
      yield* first.kill

      const second = yield* launch(fleet, host, { sim: first.sim, queue: first.queue })
      expect(second.handshake).toEqual({ pendingEvents: 2, rehydrated: 1 })
      yield* runUntil(bothIn(second.agent, rid, "Converged"), 20 * 60)

      const kinds = yield* expectInStep(second.agent, rid)
      expect(kinds.slice(0, 4)).toEqual(["DispatchAck", "ActivationStarted", "ActivationStarted", "ActivationCompleted"])
      expect(kinds.at(-1)).toBe("Converged")
      expect((yield* first.sim.control.state).switches).toBe(1)
      expect(yield* first.queue.size).toBe(0)
      yield* second.kill
    }).pipe(withCp(fleet))
  )

  /**
   * A host whose switch is deferred until a reboot, rebooted while its agent was down, then its
   * agent started again (with `wrapClient`, if given): it converges, in step with the CP, with
   * the deferral's completion logged after the deferral, and the switch ran once.
   */
  const rebootedAfterDeferral = (wrapClient?: (inner: ControlPlaneClientService) => ControlPlaneClientService) =>
    Effect.gen(function* () {
      const sim = yield* simulatedHost(10)
      yield* sim.control.script(targetOf(fleet, host), SimulatedActivation.Defer({ component: "kernel" }))
      const first = yield* launch(fleet, host, { sim })
      yield* runUntil(bothIn(first.agent, rid, "Deferred"), 120)
      yield* first.kill
      yield* sim.control.reboot
      expect((yield* sim.control.state).current).toBe(targetOf(fleet, host))

      const second = yield* launch(fleet, host, { sim, queue: first.queue, ...(wrapClient === undefined ? {} : { wrapClient }) })
      expect(second.handshake.rehydrated).toBe(1)
      expect((yield* agentRecord(second.agent, rid))?.state).toBe("Soaking")
      yield* runUntil(bothIn(second.agent, rid, "Converged"), 20 * 60)
      const kinds = yield* expectInStep(second.agent, rid)
      expect(kinds.slice(0, 4)).toEqual(["DispatchAck", "ActivationStarted", "ActivationDeferred", "ActivationCompleted"])
      expect((yield* sim.control.state).switches).toBe(1)
      yield* second.kill
    }).pipe(withCp(fleet))

  it.effect("a deferred switch completed by a reboot while the agent was down: the handshake's heartbeat lets the CP synthesise the completion, the agent resumes in Soaking", () =>
    rebootedAfterDeferral()
  )

  // The CP never hears the running closure from this agent's heartbeats, so it cannot synthesise.
  it.effect("a deferred switch completed by a reboot that the CP could not synthesise (no running closure reached it): the agent reports the completion itself, and both converge", () =>
    rebootedAfterDeferral((inner) => ({ ...inner, heartbeat: (request) => inner.heartbeat({ ...request, currentClosure: null }) }))
  )
})
