/**
 * Gate 2, channel edges: a channel's dispatches wait until each predecessor channel's current
 * rollout is terminal. OpenRollout is never held back.
 *
 * Invariant: the verdict depends on the rollout's channel only, so the context computes it once
 * per channel per tick (see `channelEdgeBlock` in context.ts for the rules).
 */
import type { GateCheck } from "../context.js"

/** Blocks on the first edge (fleet order) gating the rollout channel whose predecessor is not terminal. */
export const checkChannelEdges: GateCheck = (ctx, c) => ctx.channelEdgeBlocks.get(c.channel) ?? null
