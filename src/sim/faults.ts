/**
 * Seeded fault injection for the simulator. Each host draws from (seed, host) which faults it
 * suffers; the control plane draws its own from (seed, "cp"):
 * - `transientProbe`: once its agent is Soaking, its probe fails for 60 s, then passes for good
 *   (probeFailureFirstAt never resets — spec state-machines §12 item 7 — so a second failing
 *   stretch 120 s after the first would be a sustained failure by design). Only hosts of their
 *   channel's last wave suffer it: enforce failures are never forgotten by the compliance-wave
 *   gate (spec runtime-wire-storage item 18), so a recovered failure in an earlier wave blocks
 *   the later waves for good — by design, and not what this fault is meant to exercise;
 * - `agentCrash`: its agent is killed while a record is Activating and restarted 30 s later on
 *   the same host and outbound queue;
 * - `offline`: its agent is down for 10–30 simulated minutes starting at a seeded time;
 * - `deferred`: its switch to the new closure is staged for the next boot (the agent reports
 *   Deferred); 1–10 simulated minutes after the agent is Deferred the host reboots (agent down
 *   30 s, then the host runs the staged closure and the agent starts again);
 * - `cpRestart`: the CP process stops 1–2 times (down 30–120 s) and starts again on the same storage;
 * - `cpWipe`: the CP stops once (down 30–120 s) and starts on EMPTY storage;
 * - network faults on agent→CP requests (see network.ts), decided per (host, request number):
 *   `netDrop`, `netResponseLost`, `netDuplicate`, `netDelay`, `netReorder`.
 *
 * Invariant: the plan is a pure function of (seed, host or "cp", faults); applying it only kills,
 * restarts, reboots and scripts simulated hosts, stops and starts the CP, and wraps the agents'
 * CP client.
 */
import type { HostId } from "../domain/index.js"
import { between, unit } from "./rng.js"

/** The network faults (applied per request, see network.ts). */
export type NetworkFault = "netDrop" | "netResponseLost" | "netDuplicate" | "netDelay" | "netReorder"

/** The faults the simulator can inject. */
export type Fault = "transientProbe" | "agentCrash" | "offline" | "deferred" | "cpRestart" | "cpWipe" | NetworkFault

/** Every network fault. */
export const NETWORK_FAULTS: ReadonlyArray<NetworkFault> = ["netDrop", "netResponseLost", "netDuplicate", "netDelay", "netReorder"]

/** Every fault. */
export const ALL_FAULTS: ReadonlyArray<Fault> = ["transientProbe", "agentCrash", "offline", "deferred", "cpRestart", "cpWipe", ...NETWORK_FAULTS]

/** Whether a fault is a network fault. */
export const isNetworkFault = (fault: Fault): fault is NetworkFault => (NETWORK_FAULTS as ReadonlyArray<Fault>).includes(fault)

/** One host's faults. */
export interface HostFaults {
  readonly transientProbe: boolean
  /** Crash once while Activating. */
  readonly agentCrash: boolean
  /** Offline window in simulated seconds since start, or null. */
  readonly offline: { readonly from: number; readonly until: number } | null
  /** Seconds between the agent reporting Deferred and the host's reboot, or null: not deferred. */
  readonly deferredRebootAfter: number | null
}

/** No fault at all. */
export const NO_FAULTS: HostFaults = { transientProbe: false, agentCrash: false, offline: null, deferredRebootAfter: null }

/** The share of hosts that suffer each enabled fault. */
export const FAULT_RATE = 0.3

/** Draws `host`'s faults from the seed. */
export const planFaults = (seed: number, host: HostId, faults: ReadonlyArray<Fault>, inLastWave: boolean): HostFaults => {
  const hit = (f: Fault) => faults.includes(f) && unit(seed, `${host}/${f}`) < FAULT_RATE
  const from = between(seed, `${host}/offline-from`, 0, 90 * 60)
  return {
    transientProbe: inLastWave && hit("transientProbe"),
    agentCrash: hit("agentCrash"),
    offline: hit("offline") ? { from, until: from + between(seed, `${host}/offline-length`, 10 * 60, 30 * 60) } : null,
    deferredRebootAfter: hit("deferred") ? between(seed, `${host}/reboot-after`, 60, 10 * 60) : null
  }
}

/** How long a transient probe failure lasts (under the 120 s sustained-failure threshold). */
export const TRANSIENT_FAILURE_SECONDS = 60

/** How long a rebooting host's agent is down. */
export const REBOOT_SECONDS = 30

/** One planned CP outage: stop at `at` (simulated seconds since start), start again `downFor` later. */
export interface CpOutage {
  readonly at: number
  readonly downFor: number
  /** Start on empty storage (a database wipe) rather than the same storage (a restart). */
  readonly wipe: boolean
}

/**
 * Draws the CP's outages from the seed, in time order and never overlapping: with `cpRestart`
 * one or two restarts, with `cpWipe` one wipe, each in the first 10 simulated minutes (when the
 * small test fleets are mid-rollout).
 */
export const planCpOutages = (seed: number, faults: ReadonlyArray<Fault>): ReadonlyArray<CpOutage> => {
  const draw = (key: string, wipe: boolean): CpOutage => ({
    at: between(seed, `cp/${key}/at`, 30, 10 * 60),
    downFor: between(seed, `cp/${key}/down`, 30, 120),
    wipe
  })
  const outages: Array<CpOutage> = []
  if (faults.includes("cpRestart")) {
    outages.push(draw("restart-1", false))
    if (unit(seed, "cp/restart-2") < 0.5) outages.push(draw("restart-2", false))
  }
  if (faults.includes("cpWipe")) outages.push(draw("wipe", true))
  const sorted = outages.sort((a, b) => a.at - b.at)
  // Never overlapping: an outage starts at least a minute after the previous one ended.
  const out: Array<CpOutage> = []
  for (const o of sorted) {
    const previous = out[out.length - 1]
    const earliest = previous === undefined ? 0 : previous.at + previous.downFor + 60
    out.push({ ...o, at: Math.max(o.at, earliest) })
  }
  return out
}
