/**
 * Seeded fault injection for the simulator. Each host (never the failing canary) draws from the
 * seed which faults it suffers:
 * - `transientProbe`: once its agent is Soaking, its probe fails for 60 s, then passes for good
 *   (probeFailureFirstAt never resets — spec state-machines §12 item 7 — so a second failing
 *   stretch 120 s after the first would be a sustained failure by design). Only hosts of their
 *   channel's last wave suffer it: enforce failures are never forgotten by the compliance-wave
 *   gate (spec runtime-wire-storage item 18), so a recovered failure in an earlier wave blocks
 *   the later waves for good — by design, and not what this fault is meant to exercise;
 * - `agentCrash`: its agent is killed while a record is Activating and restarted 30 s later on
 *   the same host and outbound queue;
 * - `offline`: its agent is down for 10–30 simulated minutes starting at a seeded time;
 *
 * Invariant: the plan is a pure function of (seed, host, faults); applying it only kills,
 * restarts and scripts simulated hosts.
 */
import type { HostId } from "../domain/index.js"
import { between, unit } from "./rng.js"

/** The faults the simulator can inject. */
export type Fault = "transientProbe" | "agentCrash" | "offline"

/** Every fault. */
export const ALL_FAULTS: ReadonlyArray<Fault> = ["transientProbe", "agentCrash", "offline"]

/** One host's faults. */
export interface HostFaults {
  readonly transientProbe: boolean
  /** Crash once while Activating. */
  readonly agentCrash: boolean
  /** Offline window in simulated seconds since start, or null. */
  readonly offline: { readonly from: number; readonly until: number } | null
}

/** No fault at all. */
export const NO_FAULTS: HostFaults = { transientProbe: false, agentCrash: false, offline: null }

/** The share of hosts that suffer each enabled fault. */
export const FAULT_RATE = 0.3

/** Draws `host`'s faults from the seed. */
export const planFaults = (seed: number, host: HostId, faults: ReadonlyArray<Fault>, inLastWave: boolean): HostFaults => {
  const hit = (f: Fault) => faults.includes(f) && unit(seed, `${host}/${f}`) < FAULT_RATE
  const from = between(seed, `${host}/offline-from`, 0, 90 * 60)
  return {
    transientProbe: inLastWave && hit("transientProbe"),
    agentCrash: hit("agentCrash"),
    offline: hit("offline") ? { from, until: from + between(seed, `${host}/offline-length`, 10 * 60, 30 * 60) } : null
  }
}

/** How long a transient probe failure lasts (under the 120 s sustained-failure threshold). */
export const TRANSIENT_FAILURE_SECONDS = 60
