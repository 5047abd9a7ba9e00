/**
 * Pure projections from stored rows and planner results to the operator views of the API.
 *
 * Invariant: pure and total; counts always list every state (0 when none), so consumers never
 * have to guess whether a missing key means zero.
 */
import { HOST_STATES, type HostRolloutState, type HostState } from "../../domain/hostState.js"
import type { RolloutRecord } from "../../domain/rollout.js"
import { gateReason } from "../../planner/gateBlock.js"
import type { HostExplanation } from "../../planner/explain.js"
import type { StoredEventLogEntry } from "../../ports/eventLog.js"
import type { HostCounts, HostExplanationView, RolloutSummaryView, TraceEntry } from "../../wire/schemas.js"

/** Records per state, every state present. */
export const hostCounts = (records: Iterable<HostRolloutState>): HostCounts => {
  const counts = Object.fromEntries(HOST_STATES.map((s) => [s, 0])) as Record<HostState, number>
  for (const r of records) counts[r.state] += 1
  return counts
}

/** One rollout with its host counts. */
export const rolloutSummaryView = (rollout: RolloutRecord, records: Iterable<HostRolloutState>): RolloutSummaryView => ({
  rolloutId: rollout.rolloutId,
  channel: rollout.channel,
  targetRef: rollout.targetRef,
  state: rollout.state,
  currentWave: rollout.currentWave,
  openedAt: rollout.openedAt,
  terminalAt: rollout.terminalAt,
  supersededAt: rollout.supersededAt,
  hostCounts: hostCounts(records)
})

/** An event-log entry as the trace route serves it. */
export const traceEntry = (entry: StoredEventLogEntry): TraceEntry => ({
  seq: entry.seq,
  kind: entry.kind,
  at: entry.at,
  hostname: entry.hostname,
  agentSeq: entry.agentSeq,
  payload: entry.payload
})

/** The planner's explanation with each block's reason text. */
export const explanationView = (e: HostExplanation): HostExplanationView => ({
  host: e.host,
  rolloutId: e.rolloutId,
  state: e.state,
  considered: e.considered,
  verdicts: e.verdicts.map((v) => ({ gate: v.gate, block: v.block, reason: v.block === null ? null : gateReason(v.block) })),
  firstBlock: e.firstBlock,
  firstReason: e.firstBlock === null ? null : gateReason(e.firstBlock)
})
