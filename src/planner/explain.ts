/**
 * "Why is host X not updating?": every gate's verdict on one host, as the tick would see it.
 *
 * Invariant: the verdicts are computed with the budget accumulator exactly as `planNext` has it
 * when it reaches the host (hosts sorted before it that were queued this tick count), so the
 * first block reported here is the block `planNext` would emit for the same inputs.
 */
import type { HostState } from "../domain/hostState.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import { compareStrings } from "../domain/fleet.js"
import { makeGateContext } from "./context.js"
import { gateVerdicts, type GateVerdict } from "./evaluate.js"
import { activeRolloutForHost } from "./fleetState.js"
import type { GateBlock } from "./gateBlock.js"
import { dispatchPhase } from "./planNext.js"
import type { FleetState, ManifestSet, QuarantineSet } from "./types.js"

/** Every gate's verdict on one host of one rollout. */
export interface HostExplanation {
  readonly host: HostId
  readonly rolloutId: RolloutId
  readonly state: HostState
  /**
   * Whether `planNext` gates this host this tick: its rollout has a summary and is not terminal,
   * and the record is Pending and unacked. When false, the verdicts say what the gates would
   * decide, but no dispatch action is emitted for the host.
   */
  readonly considered: boolean
  /** All six gates, in evaluation order. */
  readonly verdicts: ReadonlyArray<GateVerdict>
  /** The first block (what a DeferDispatch would carry), or null when every gate passes. */
  readonly firstBlock: GateBlock | null
}

/**
 * Explains one host. Uses `rolloutId` when given, else the first rollout (sorted) holding a record
 * for the host; returns null when there is no such record.
 */
export const explain = (
  host: HostId,
  manifests: ManifestSet,
  fleetState: FleetState,
  quarantines: QuarantineSet,
  now: Timestamp,
  rolloutId?: RolloutId
): HostExplanation | null => {
  const rid = rolloutId ?? activeRolloutForHost(fleetState, host)
  const record = rid === undefined ? undefined : fleetState.hostStates.get(rid)?.get(host)
  if (rid === undefined || record === undefined) return null
  const summary = fleetState.rollouts.get(rid)
  const ctx = makeGateContext(manifests, fleetState, quarantines)
  const { tickDispatched } = dispatchPhase(ctx, now, (c) => {
    const byRollout = compareStrings(c.rolloutId, rid)
    return byRollout > 0 || (byRollout === 0 && compareStrings(c.host, host) >= 0)
  })
  const candidate = { rolloutId: rid, host, targetClosure: record.targetClosure, channel: summary?.channel ?? record.channel }
  const verdicts = gateVerdicts(ctx, candidate, tickDispatched)
  return {
    host,
    rolloutId: rid,
    state: record.state,
    considered: summary !== undefined && summary.terminalAt === null && record.state === "Pending" && record.dispatchAckedAt === null,
    verdicts,
    firstBlock: verdicts.find((v) => v.block !== null)?.block ?? null
  }
}
