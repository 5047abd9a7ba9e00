/**
 * Gate 1, quarantine: a closure quarantined on the rollout's channel is never dispatched.
 *
 * Invariant: runs first, so a closure that was just rolled back stops at once whatever the other
 * gates would say.
 */
import type { GateCheck } from "../context.js"

/** Blocks when the rollout channel's quarantine set holds the target closure. */
export const checkQuarantine: GateCheck = (ctx, c) =>
  ctx.quarantines.get(c.channel)?.has(c.targetClosure) === true
    ? { _tag: "Quarantined", channel: c.channel, closureHash: c.targetClosure }
    : null
