/**
 * The gate stack: the six gates in their fixed order, `evaluateForDispatch` (first block wins)
 * and `gateVerdicts` (every gate's verdict, for explanations).
 *
 * Invariant: the order is quarantine → channel edges → wave promotion → host edges → disruption
 * budget → compliance wave, and `evaluateForDispatch` returns exactly the first non-null verdict
 * of `gateVerdicts`.
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

/** Every gate's verdict on a host, in order (not only the first block). */
export const gateVerdicts = (
  ctx: GateContext,
  candidate: DispatchCandidate,
  tickDispatched: TickDispatched
): ReadonlyArray<GateVerdict> => GATES.map((gate) => ({ gate: gate.name, block: gate.check(ctx, candidate, tickDispatched) }))
