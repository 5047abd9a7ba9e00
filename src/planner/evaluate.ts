/**
 * The gate stack: the six gates in their fixed order, `evaluateForDispatch` (first block wins)
 * and `gateVerdicts` (every gate's verdict, for explanations).
 *
 * Invariant: the order is quarantine → channel edges → wave promotion → host edges → disruption
 * budget → compliance wave, and `evaluateForDispatch` returns exactly the first non-null verdict
 * of `gateVerdicts`; `evaluateForRecovery` returns the first non-null one among all but the
 * disruption budget.
 */
import type { GateCheck, GateContext } from "./context.js"
import type { GateBlock } from "./gateBlock.js"
import { checkChannelEdges } from "./gates/channelEdges.js"
import { checkComplianceWave } from "./gates/complianceWave.js"
import { checkDisruptionBudget } from "./gates/disruptionBudget.js"
import { checkHostEdges } from "./gates/hostEdges.js"
import { checkQuarantine } from "./gates/quarantine.js"
import { checkWavePromotion } from "./gates/wavePromotion.js"
import type { DispatchCandidate, TickDispatched } from "./types.js"

/** The six gates' names, in evaluation order. */
export type GateName = "quarantine" | "channel_edges" | "wave_promotion" | "host_edges" | "disruption_budget" | "compliance_wave"

/** The gates in evaluation order. */
export const GATES: ReadonlyArray<{ readonly name: GateName; readonly check: GateCheck }> = [
  { name: "quarantine", check: checkQuarantine },
  { name: "channel_edges", check: checkChannelEdges },
  { name: "wave_promotion", check: checkWavePromotion },
  { name: "host_edges", check: checkHostEdges },
  { name: "disruption_budget", check: checkDisruptionBudget },
  { name: "compliance_wave", check: checkComplianceWave }
]

/** One gate's verdict on one host: its block, or null when it passes. */
export interface GateVerdict {
  readonly gate: GateName
  readonly block: GateBlock | null
}

/** Runs the gates in order; the first block wins, null when every gate passes. */
export const evaluateForDispatch = (ctx: GateContext, candidate: DispatchCandidate, tickDispatched: TickDispatched): GateBlock | null => {
  for (const gate of GATES) {
    const block = gate.check(ctx, candidate, tickDispatched)
    if (block !== null) return block
  }
  return null
}

/** An empty per-tick accumulator: recovery runs outside a planning tick. */
const NOTHING_DISPATCHED: TickDispatched = new Map()

/**
 * The gates' first block on recording a host that already runs its target, idle, as Converged
 * (the CP's heartbeat recovery of a Pending record, cp/recovery.ts), null when none blocks: every
 * gate but the disruption budget, with nothing dispatched this tick.
 *
 * Decision (the reference synthesises ungated; this engine consults the gates, so a host is not
 * recorded as having taken a target its quarantine, channel, wave, host edges or compliance wave
 * hold back): the budget limits hosts in flight, and this recovery moves the record from Pending
 * to Converged in one transaction, never in flight. Consulting the budget there is what broke it
 * (sim all faults + wipe, seed 20): after a wipe the rebuilt CP held a host Pending that had
 * converged on the earlier storage; when the host's heartbeat came, another host was soaking, so
 * the budget blocked its recovery, the agent re-reported its transitions instead, the CP refused
 * the old Converged (dated before the rebuilt CP's own soak deadline) and held the host Soaking
 * until it re-soaked: 2 hosts in flight on a budget of 1 for 430 s.
 */
export const evaluateForRecovery = (ctx: GateContext, candidate: DispatchCandidate): GateBlock | null => {
  for (const gate of GATES) {
    if (gate.name === "disruption_budget") continue
    const block = gate.check(ctx, candidate, NOTHING_DISPATCHED)
    if (block !== null) return block
  }
  return null
}

/** Every gate's verdict on a host, in order (not only the first block). */
export const gateVerdicts = (
  ctx: GateContext,
  candidate: DispatchCandidate,
  tickDispatched: TickDispatched
): ReadonlyArray<GateVerdict> => GATES.map((gate) => ({ gate: gate.name, block: gate.check(ctx, candidate, tickDispatched) }))
