/**
 * The per-tick gate context: the planner inputs plus indexes derived from them once per tick
 * (host → wave, edges by gated end, prepared budgets, live in-flight counts, failing-probe prefix
 * sums), so that gating n hosts costs O(n log n) instead of the reference's O(n²) scans.
 *
 * Invariant: a context is a pure function of (manifests, fleetState, quarantines); every index
 * answers exactly what a direct scan of those inputs would (budget membership falls back to a
 * Set when a frozen host list is not sorted, so an unsorted producer cannot fool the gate).
 */
import type { ChannelEdge, HostEdge } from "../domain/fleet.js"
import { compareStrings, selectorKey, selectorSummary } from "../domain/fleet.js"
import type { HostState } from "../domain/hostState.js"
import type { ChannelId, HostId, RolloutId } from "../domain/ids.js"
import type { RolloutBudget } from "../domain/manifest.js"
import type { GateBlock } from "./gateBlock.js"
import type { DispatchCandidate, FleetState, ManifestSet, QuarantineSet, TickDispatched } from "./types.js"

/** A frozen budget ready for gating: identity key, summary, effective max and membership test. */
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

/** The planner inputs and the indexes derived from them for one tick. */
export interface GateContext {
  readonly manifests: ManifestSet
  readonly fleetState: FleetState
  readonly quarantines: QuarantineSet
  /** Per channel with a non-empty `fleet.waves` entry: each listed host's first wave index. */
  readonly waveIndex: ReadonlyMap<ChannelId, ReadonlyMap<HostId, number>>
  /** Host edges grouped by their `gated` host, in fleet order. */
  readonly hostEdgesByGated: ReadonlyMap<HostId, ReadonlyArray<HostEdge>>
  /** Channel edges grouped by their `gated` channel, in fleet order. */
  readonly channelEdgesByGated: ReadonlyMap<ChannelId, ReadonlyArray<ChannelEdge>>
  /** Each rollout's budgets, prepared, in manifest order. */
  readonly budgets: ReadonlyMap<RolloutId, ReadonlyArray<PreparedBudget>>
  /** Live in-flight (Activating or Soaking) hosts per budget key, summed over every rollout. */
  readonly liveInFlight: ReadonlyMap<string, number>
  /**
   * Per rollout with a summary and probe failures: `prefix[w]` = failing enforce probes on hosts
   * of the rollout channel's fleet waves `[0, w)`, counted per wave listing as the reference does.
   */
  readonly failingBeforeWave: ReadonlyMap<RolloutId, ReadonlyArray<number>>
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

const isStrictlySorted = (values: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < values.length; i++) if (compareStrings(values[i - 1] as string, values[i] as string) >= 0) return false
  return true
}

const binarySearchHas = (sorted: ReadonlyArray<string>, value: string): boolean => {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const c = compareStrings(sorted[mid] as string, value)
    if (c === 0) return true
    if (c < 0) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/** Membership in a host list: binary search when it is sorted (as producers must write it), else a Set. */
const membership = (hosts: ReadonlyArray<HostId>): ((host: HostId) => boolean) => {
  if (isStrictlySorted(hosts)) return (host) => binarySearchHas(hosts, host)
  const set = new Set<string>(hosts)
  return (host) => set.has(host)
}

const prepareBudget = (budget: RolloutBudget): PreparedBudget => ({
  budget,
  key: selectorKey(budget.selector),
  summary: selectorSummary(budget.selector),
  max: effectiveMaxInFlight(budget),
  has: membership(budget.hosts)
})

const groupBy = <K, V>(items: ReadonlyArray<V>, keyOf: (v: V) => K): Map<K, Array<V>> => {
  const out = new Map<K, Array<V>>()
  for (const item of items) {
    const key = keyOf(item)
    const group = out.get(key)
    if (group === undefined) out.set(key, [item])
    else group.push(item)
  }
  return out
}

/** The first budget per key, in order: the one a rollout contributes to a key's live count. */
const firstPerKey = (budgets: ReadonlyArray<PreparedBudget>): ReadonlyArray<PreparedBudget> => {
  const seen = new Set<string>()
  return budgets.filter((b) => (seen.has(b.key) ? false : (seen.add(b.key), true)))
}

const countLiveInFlight = (
  fleetState: FleetState,
  budgets: ReadonlyMap<RolloutId, ReadonlyArray<PreparedBudget>>
): ReadonlyMap<string, number> => {
  const live = new Map<string, number>()
  for (const [rid, prepared] of budgets) {
    const unique = firstPerKey(prepared)
    for (const b of unique) if (!live.has(b.key)) live.set(b.key, 0)
    const records = fleetState.hostStates.get(rid)
    if (records === undefined || unique.length === 0) continue
    for (const [host, st] of records) {
      if (!isBudgetInFlight(st.state)) continue
      for (const b of unique) if (b.has(host)) live.set(b.key, (live.get(b.key) ?? 0) + 1)
    }
  }
  return live
}

/**
 * Prefix sums of failing probe counts over a channel's fleet waves: `prefix[w]` sums the positive
 * counts of every host listed in waves `[0, w)` (a host listed in two waves counts twice, as in
 * the reference; the block decision is the same either way).
 */
export const failingPrefix = (
  waves: ReadonlyArray<{ readonly hosts: ReadonlyArray<HostId> }>,
  perHost: ReadonlyMap<HostId, number>
): ReadonlyArray<number> => {
  const prefix = [0]
  let sum = 0
  for (const wave of waves) {
    for (const h of wave.hosts) {
      const n = perHost.get(h)
      if (n !== undefined && n > 0) sum += n
    }
    prefix.push(sum)
  }
  return prefix
}

/** Builds the gate context of one tick. Pure: the same inputs give an equivalent context. */
export const makeGateContext = (manifests: ManifestSet, fleetState: FleetState, quarantines: QuarantineSet): GateContext => {
  const fleet = manifests.fleet
  const waveIndex = new Map<ChannelId, Map<HostId, number>>()
  for (const channel of Object.keys(fleet.waves) as Array<ChannelId>) {
    const waves = fleet.waves[channel] ?? []
    if (waves.length === 0) continue
    const index = new Map<HostId, number>()
    waves.forEach((wave, i) => {
      for (const h of wave.hosts) if (!index.has(h)) index.set(h, i)
    })
    waveIndex.set(channel, index)
  }
  const budgets = new Map<RolloutId, ReadonlyArray<PreparedBudget>>()
  for (const [rid, summary] of fleetState.rollouts) budgets.set(rid, summary.budgets.map(prepareBudget))
  const failingBeforeWave = new Map<RolloutId, ReadonlyArray<number>>()
  for (const [rid, perHost] of fleetState.outstandingFailingEnforceProbes) {
    const channel = fleetState.rollouts.get(rid)?.channel
    if (channel !== undefined) failingBeforeWave.set(rid, failingPrefix(fleet.waves[channel] ?? [], perHost))
  }
  return {
    manifests,
    fleetState,
    quarantines,
    waveIndex,
    hostEdgesByGated: groupBy(fleet.edges, (e) => e.gated),
    channelEdgesByGated: groupBy(fleet.channelEdges, (e) => e.gated),
    budgets,
    liveInFlight: countLiveInFlight(fleetState, budgets),
    failingBeforeWave
  }
}

/** One gate: a block, or null when the gate passes. */
export type GateCheck = (ctx: GateContext, candidate: DispatchCandidate, tickDispatched: TickDispatched) => GateBlock | null
