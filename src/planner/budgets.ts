/**
 * Disruption budgets prepared for gating: identity key, summary, effective max in flight and a
 * membership test over the frozen host list.
 *
 * Invariant: membership answers exactly "is this host in `budget.hosts`": binary search when the
 * list is sorted (as producers must write it), a Set otherwise, so an unsorted list cannot fool
 * the gate.
 */
import { compareStrings, selectorKey, selectorSummary } from "../domain/fleet.js"
import type { HostState } from "../domain/hostState.js"
import type { HostId } from "../domain/ids.js"
import type { RolloutBudget } from "../domain/manifest.js"

/** A frozen budget ready for gating. */
export interface PreparedBudget {
  readonly budget: RolloutBudget
  /** `selectorKey(budget.selector)`: the budget's identity across rollouts and in the tick accumulator. */
  readonly key: string
  readonly summary: string
  /** The effective max in flight, or null when the budget sets no limit. */
  readonly max: number | null
  /** Whether the budget's frozen host list contains a host. */
  readonly has: (host: HostId) => boolean
}

/** Activating or Soaking: what a disruption budget counts (Pending is not in flight). */
export const isBudgetInFlight = (state: HostState): boolean => state === "Activating" || state === "Soaking"

/**
 * A budget's effective max in flight. DESIGN.md ("where we do better", spec A5): `maxInFlightPct`
 * is honoured as `ceil(pct × |budget hosts| / 100)`; with both limits set the smaller wins; with
 * neither the budget does not limit (the reference skips a budget whose `maxInFlight` is null).
 */
export const effectiveMaxInFlight = (budget: RolloutBudget): number | null => {
  const pct = budget.maxInFlightPct === null ? null : Math.ceil((budget.maxInFlightPct * budget.hosts.length) / 100)
  if (budget.maxInFlight === null) return pct
  return pct === null ? budget.maxInFlight : Math.min(budget.maxInFlight, pct)
}

const isSorted = (values: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < values.length; i++) if (compareStrings(values[i - 1] as string, values[i] as string) > 0) return false
  return true
}

const binarySearchHas = (sorted: ReadonlyArray<string>, value: string): boolean => {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const probe = sorted[mid] as string
    if (probe === value) return true
    if (probe < value) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** Membership in a host list: binary search when it is sorted, else a Set. */
const membership = (hosts: ReadonlyArray<HostId>): ((host: HostId) => boolean) => {
  if (isSorted(hosts)) return (host) => binarySearchHas(hosts, host)
  const set = new Set<string>(hosts)
  return (host) => set.has(host)
}

/** Prepares one frozen budget (O(|hosts|) for the sortedness check). */
export const prepareBudget = (budget: RolloutBudget): PreparedBudget => ({
  budget,
  key: selectorKey(budget.selector),
  summary: selectorSummary(budget.selector),
  max: effectiveMaxInFlight(budget),
  has: membership(budget.hosts)
})
