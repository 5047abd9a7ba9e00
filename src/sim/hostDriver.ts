/**
 * The per-host half of the simulator's driver: at each clock step it applies every host's
 * planned faults (faults.ts) — offline windows, crashes mid-activation, transient probe
 * failures, reboots that complete a deferred switch — by killing, restarting, rebooting and
 * scripting the simulated hosts, and counts what it injected.
 *
 * Invariant: it only acts on agents and simulated hosts; what it does at a step depends only on
 * the plans, the elapsed time and the agents' observable states.
 */
import { Effect } from "effect"
import type { HostId } from "../domain/index.js"
import { probeFail, probePass } from "../ports/index.js"
import { type HostFaults, REBOOT_SECONDS, TRANSIENT_FAILURE_SECONDS } from "./faults.js"
import type { SignedSampleFleet } from "./sampleFleet.js"
import { SIM_PROBE, type SimHost } from "./world.js"

/** Per-host faults injected so far. */
export interface HostInjected {
  crashes: number
  offline: number
  transientProbes: number
  deferredReboots: number
}

/** The host driver. */
export interface HostDriver {
  /** Applies every host's faults at `elapsed` simulated seconds. */
  readonly step: (elapsed: number) => Effect.Effect<void>
  /** Whether some agent is down (waiting to restart). */
  readonly anyDown: () => boolean
  /** The running agents. */
  readonly running: () => ReadonlyArray<SimHost>
  /** Stops every running agent. */
  readonly killAll: Effect.Effect<void>
  /** Whether every running agent's outbound queue is empty (all it reported was answered). */
  readonly settled: Effect.Effect<boolean>
  /** Hosts rebooted to complete a deferred switch. */
  readonly rebooted: ReadonlySet<HostId>
  readonly injected: Readonly<HostInjected>
}

/** Makes the driver over the started `hosts`; `restart` starts a host's agent again. */
export const makeHostDriver = (
  signed: SignedSampleFleet,
  plans: ReadonlyMap<HostId, HostFaults>,
  hosts: Map<HostId, SimHost>,
  restart: (host: SimHost) => Effect.Effect<SimHost>
): HostDriver => {
  const injected: HostInjected = { crashes: 0, offline: 0, transientProbes: 0, deferredReboots: 0 }
  const crashed = new Set<HostId>()
  const restartAt = new Map<HostId, number>()
  // Transient probe failures: until when the probe fails (-1: over).
  const probeFailingUntil = new Map<HostId, number>()
  // Deferred switches: when the host reboots (-1: done); and hosts to boot on restart.
  const rebootAt = new Map<HostId, number>()
  const bootOnRestart = new Set<HostId>()
  const rebooted = new Set<HostId>()

  const hasRecordIn = (running: SimHost, state: string) =>
    Effect.map(running.agent.state, (s) => [...s.records.values()].some((r) => r.state === state))

  const down = (host: HostId, running: SimHost, until: number) =>
    Effect.zipRight(running.kill, Effect.sync(() => restartAt.set(host, until)))

  const stepHost = (elapsed: number, host: HostId, plan: HostFaults) =>
    Effect.gen(function* () {
      const running = hosts.get(host)
      if (running === undefined) return
      const upAt = restartAt.get(host)
      if (upAt !== undefined) {
        if (upAt > elapsed) return
        restartAt.delete(host)
        if (bootOnRestart.delete(host)) yield* running.sim.control.reboot
        hosts.set(host, yield* restart(running))
        return
      }
      if (plan.offline !== null && elapsed >= plan.offline.from && elapsed < plan.offline.until) {
        injected.offline++
        return yield* down(host, running, plan.offline.until)
      }
      if (plan.agentCrash && !crashed.has(host) && (yield* hasRecordIn(running, "Activating"))) {
        crashed.add(host)
        injected.crashes++
        return yield* down(host, running, elapsed + 30)
      }
      if (plan.deferredRebootAfter !== null) {
        const at = rebootAt.get(host)
        if (at === undefined && (yield* hasRecordIn(running, "Deferred"))) rebootAt.set(host, elapsed + plan.deferredRebootAfter)
        if (at !== undefined && at >= 0 && at <= elapsed) {
          rebootAt.set(host, -1)
          bootOnRestart.add(host)
          rebooted.add(host)
          injected.deferredReboots++
          return yield* down(host, running, elapsed + REBOOT_SECONDS)
        }
      }
      if (plan.transientProbe) {
        const target = signed.fleet.hosts[host]?.closureHash
        const until = probeFailingUntil.get(host)
        if (target === undefined || target === null) return
        if (until === undefined && (yield* hasRecordIn(running, "Soaking"))) {
          probeFailingUntil.set(host, elapsed + TRANSIENT_FAILURE_SECONDS)
          injected.transientProbes++
          yield* running.sim.control.setProbe(SIM_PROBE, probeFail("simulated: transient"), target)
        } else if (until !== undefined && until <= elapsed && until >= 0) {
          probeFailingUntil.set(host, -1)
          yield* running.sim.control.setProbe(SIM_PROBE, probePass, target)
        }
      }
    })

  const running = () => [...hosts].filter(([host]) => !restartAt.has(host)).map(([, h]) => h)
  // Only hosts with a planned fault have anything to do at a step.
  const faulty = [...plans].filter(([, p]) => p.transientProbe || p.agentCrash || p.offline !== null || p.deferredRebootAfter !== null)
  return {
    step: (elapsed) => Effect.forEach(faulty, ([host, plan]) => stepHost(elapsed, host, plan), { discard: true }),
    anyDown: () => restartAt.size > 0,
    running,
    killAll: Effect.suspend(() => Effect.forEach(running(), (h) => h.kill, { discard: true })),
    settled: Effect.suspend(() =>
      Effect.map(Effect.forEach(running(), (h) => Effect.orElseSucceed(h.queue.size, () => 1)), (sizes) => sizes.every((n) => n === 0))
    ),
    rebooted,
    injected
  }
}
