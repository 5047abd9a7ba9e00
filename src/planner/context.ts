/**
 * The per-tick gate context: the planner inputs, the manifest-set index (see manifestIndex.ts)
 * and what depends on the fleet state (each rollout's prepared budgets, live in-flight counts,
 * failing-probe prefix sums), so that gating n hosts costs O(n log n) instead of the reference's
 * O(n²) scans.
 *
 * Invariant: a context is a pure function of (manifests, fleetState, quarantines); every index
 * answers exactly what a direct scan of those inputs would.
 */
import { type ChannelId, type HostId, makeRolloutId, type RolloutId } from "../domain/ids.js"
import type { ChannelEdge } from "../domain/fleet.js"
import { isBudgetInFlight, type PreparedBudget, prepareBudget } from "./budgets.js"
import type { GateBlock } from "./gateBlock.js"
import { type ManifestIndex, manifestIndexOf } from "./manifestIndex.js"
import type { DispatchCandidate, FleetState, ManifestSet, QuarantineSet, TickDispatched } from "./types.js"

/** The planner inputs and the indexes derived from them for one tick. */
export interface GateContext extends Omit<ManifestIndex, "fleet" | "rollouts" | "budgets"> {
  readonly manifests: ManifestSet
  readonly fleetState: FleetState
  readonly quarantines: QuarantineSet
  /** Each rollout's budgets (its summary's frozen list), prepared, in order. */
  readonly budgets: ReadonlyMap<RolloutId, ReadonlyArray<PreparedBudget>>
  /** The channel-edges verdict per gated channel (it depends on the channel only). */
  readonly channelEdgeBlocks: ReadonlyMap<ChannelId, GateBlock | null>
  /** Live in-flight (Activating or Soaking) hosts per budget key, summed over every rollout. */
  readonly liveInFlight: ReadonlyMap<string, number>
  /**
   * Per rollout with a summary and probe failures: `prefix[w]` = failing enforce probes on hosts
   * of the rollout channel's fleet waves `[0, w)`, counted per wave listing as the reference does.
   */
  readonly failingBeforeWave: ReadonlyMap<RolloutId, ReadonlyArray<number>>
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

/**
 * The channel-edges verdict of a channel: the first edge (fleet order) gating it whose predecessor
 * has a manifest and either no rollout row yet (it is about to open: fresh-boot protection) or a
 * rollout with `terminalAt` null. A predecessor without a verified manifest means "no predecessor
 * work". Only `terminalAt` counts (spec A7: Failed/Reverted/Superseded do not release; one Deferred
 * host keeps the predecessor non-terminal, spec A8).
 */
const channelEdgeBlock = (manifests: ManifestSet, fleetState: FleetState, edges: ReadonlyArray<ChannelEdge>): GateBlock | null => {
  for (const edge of edges) {
    const predecessor = manifests.rollouts.get(edge.gates)
    if (predecessor === undefined) continue
    const summary = fleetState.rollouts.get(makeRolloutId(edge.gates, predecessor.channelRef))
    if (summary === undefined || summary.terminalAt === null) return { _tag: "ChannelEdges", predecessorChannel: edge.gates }
  }
  return null
}

/** Builds the gate context of one tick. Pure: the same inputs give an equivalent context. */
export const makeGateContext = (manifests: ManifestSet, fleetState: FleetState, quarantines: QuarantineSet): GateContext => {
  const index = manifestIndexOf(manifests)
  const budgets = new Map<RolloutId, ReadonlyArray<PreparedBudget>>()
  for (const [rid, summary] of fleetState.rollouts) budgets.set(rid, index.budgets.get(summary.budgets) ?? summary.budgets.map(prepareBudget))
  const failingBeforeWave = new Map<RolloutId, ReadonlyArray<number>>()
  for (const [rid, perHost] of fleetState.outstandingFailingEnforceProbes) {
    const channel = fleetState.rollouts.get(rid)?.channel
    if (channel !== undefined) failingBeforeWave.set(rid, failingPrefix(manifests.fleet.waves[channel] ?? [], perHost))
  }
  return {
    manifests,
    fleetState,
    quarantines,
    waveIndex: index.waveIndex,
    hostEdgesByGated: index.hostEdgesByGated,
    channelEdgesByGated: index.channelEdgesByGated,
    budgets,
    channelEdgeBlocks: new Map(
      Array.from(index.channelEdgesByGated, ([channel, edges]) => [channel, channelEdgeBlock(manifests, fleetState, edges)] as const)
    ),
    liveInFlight: countLiveInFlight(fleetState, budgets),
    failingBeforeWave
  }
}

/** One gate: a block, or null when the gate passes. */
export type GateCheck = (ctx: GateContext, candidate: DispatchCandidate, tickDispatched: TickDispatched) => GateBlock | null
