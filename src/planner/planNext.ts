/**
 * `planNext`: one planner tick. Phase A opens a rollout for each current manifest without a
 * rollout row; phase B gates every Pending, unacked host of every non-terminal rollout and emits
 * QueueDispatch or DeferDispatch.
 *
 * Invariant: pure and total. Output order is deterministic (spec A3 decision, DESIGN.md):
 * channels, rollout ids and hostnames in sorted order, every OpenRollout before any dispatch
 * action, so the hosts that win a scarce budget slot do not depend on map insertion order.
 */
import { makeRolloutId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import type { OpenRollout, PlanAction } from "./actions.js"
import { type GateContext, makeGateContext } from "./context.js"
import { evaluateForDispatch } from "./evaluate.js"
import { gateDiscriminator, gateReason } from "./gateBlock.js"
import { sortedKeys } from "./order.js"
import type { DispatchCandidate, FleetState, ManifestSet, QuarantineSet, TickDispatched } from "./types.js"

/** Phase A: an OpenRollout for each manifest (by channel, sorted) whose rollout id has no row. */
export const openRollouts = (manifests: ManifestSet, fleetState: FleetState): ReadonlyArray<OpenRollout> => {
  const out: Array<OpenRollout> = []
  for (const channel of sortedKeys(manifests.rollouts)) {
    const m = manifests.rollouts.get(channel)
    if (m === undefined) continue
    // Keyed by rollout id, not channel: a Terminal rollout with this id is never reopened; a new
    // ref on a channel whose previous rollout is active does open (the applier supersedes).
    const rolloutId = makeRolloutId(channel, m.channelRef)
    if (!fleetState.rollouts.has(rolloutId)) out.push({ _tag: "OpenRollout", rolloutId, channel, targetRef: m.channelRef })
  }
  return out
}

/** The result of phase B: its actions and the final per-tick budget accumulator. */
export interface DispatchPhase {
  readonly actions: ReadonlyArray<PlanAction>
  readonly tickDispatched: TickDispatched
}

/**
 * Phase B. Stops before the first candidate for which `stopBefore` holds (used by `explain` to
 * read the accumulator as it stands when a given host is reached).
 */
export const dispatchPhase = (ctx: GateContext, now: Timestamp, stopBefore?: (c: DispatchCandidate) => boolean): DispatchPhase => {
  const actions: Array<PlanAction> = []
  const tick = new Map<string, number>()
  const { fleetState } = ctx
  // Candidates: non-terminal rollouts by id, then Pending unacked records by hostname.
  for (const rolloutId of sortedKeys(fleetState.rollouts)) {
    const summary = fleetState.rollouts.get(rolloutId)
    const records = fleetState.hostStates.get(rolloutId)
    if (summary === undefined || summary.terminalAt !== null || records === undefined) continue
    const budgets = ctx.budgets.get(rolloutId) ?? []
    for (const host of sortedKeys(records)) {
      const record = records.get(host)
      if (record === undefined || record.state !== "Pending" || record.dispatchAckedAt !== null) continue
      const c: DispatchCandidate = { rolloutId, host, targetClosure: record.targetClosure, channel: summary.channel }
      if (stopBefore?.(c) === true) return { actions, tickDispatched: tick }
      const block = evaluateForDispatch(ctx, c, tick)
      if (block !== null) {
        actions.push({ _tag: "DeferDispatch", host, rollout: rolloutId, gate: gateDiscriminator(block), reason: gateReason(block), block })
        continue
      }
      // Count the host against every budget that lists it (even unlimited ones) before the next host.
      for (const b of budgets) if (b.has(host)) tick.set(b.key, (tick.get(b.key) ?? 0) + 1)
      actions.push({ _tag: "QueueDispatch", host, rollout: rolloutId, targetClosure: record.targetClosure, soakDueAt: record.soakDueAt ?? now })
    }
  }
  return { actions, tickDispatched: tick }
}

/**
 * One planner tick. `manifests` must hold verified values only (see {@link ManifestSet}); `now`
 * is only used as the soak deadline of a record that has none.
 */
export const planNext = (manifests: ManifestSet, fleetState: FleetState, quarantines: QuarantineSet, now: Timestamp): ReadonlyArray<PlanAction> => [
  ...openRollouts(manifests, fleetState),
  ...dispatchPhase(makeGateContext(manifests, fleetState, quarantines), now).actions
]
