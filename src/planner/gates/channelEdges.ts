/**
 * Gate 2, channel edges: a channel's dispatches wait until each predecessor channel's current
 * rollout is terminal.
 *
 * Invariant: an edge whose predecessor has no verified manifest passes ("no predecessor work");
 * a predecessor manifest without a rollout row blocks (it is about to open: fresh-boot
 * protection). Only `terminalAt` counts (spec A7: Failed/Reverted/Superseded do not release, and
 * one Deferred host keeps the predecessor non-terminal, spec A8). OpenRollout is never held back.
 */
import { makeRolloutId } from "../../domain/ids.js"
import type { GateCheck } from "../context.js"

/** Blocks on the first edge (fleet order) gating the rollout channel whose predecessor is not terminal. */
export const checkChannelEdges: GateCheck = (ctx, c) => {
  for (const edge of ctx.channelEdgesByGated.get(c.channel) ?? []) {
    const predecessor = ctx.manifests.rollouts.get(edge.gates)
    if (predecessor === undefined) continue
    const summary = ctx.fleetState.rollouts.get(makeRolloutId(edge.gates, predecessor.channelRef))
    if (summary === undefined || summary.terminalAt === null) return { _tag: "ChannelEdges", predecessorChannel: edge.gates }
  }
  return null
}
