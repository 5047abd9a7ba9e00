/**
 * Gate 5, disruption budget: at most `max` hosts of a budget in flight at once, across every
 * rollout whose budgets share its selector, counting this tick's queued dispatches.
 *
 * Invariant: in flight means Activating or Soaking (Pending is not, so a host never blocks
 * itself); `live + tickDispatched >= max` blocks, so a max of 0 blocks every host. The effective
 * max honours `maxInFlightPct` (DESIGN.md; see `effectiveMaxInFlight`).
 */
import type { GateCheck } from "../context.js"

/** Blocks on the first budget (manifest order) containing the host whose in-flight count reaches its max. */
export const checkDisruptionBudget: GateCheck = (ctx, c, tickDispatched) => {
  const budgets = ctx.budgets.get(c.rolloutId)
  if (budgets === undefined) return null
  for (const b of budgets) {
    if (b.max === null || !b.has(c.host)) continue
    const inFlight = (ctx.liveInFlight.get(b.key) ?? 0) + (tickDispatched.get(b.key) ?? 0)
    if (inFlight >= b.max) return { _tag: "DisruptionBudget", inFlight, max: b.max, selectorSummary: b.summary }
  }
  return null
}
