/**
 * Indexes derived from the manifest set alone (host → fleet wave, edges by gated end, prepared
 * budgets of every manifest). The CP builds them once per verified manifest update with
 * `prepareManifestSet`, so planner ticks between updates (every 15 s) do not pay for them.
 *
 * Invariant: an index is only used for the exact `fleet` and `rollouts` objects it was built
 * from (identity check); otherwise the planner rebuilds it, so a stale index cannot be used.
 */
import type { ChannelEdge, HostEdge } from "../domain/fleet.js"
import { firstWaveIndex } from "../domain/fleet.js"
import type { ChannelId, HostId } from "../domain/ids.js"
import type { RolloutBudget } from "../domain/manifest.js"
import { type PreparedBudget, prepareBudget } from "./budgets.js"
import type { ManifestSet } from "./types.js"

/** What the gates need from the manifest set, precomputed. */
export interface ManifestIndex {
  /** The fleet object this index was built from. */
  readonly fleet: ManifestSet["fleet"]
  /** The rollouts map this index was built from. */
  readonly rollouts: ManifestSet["rollouts"]
  /** Per channel with a non-empty `fleet.waves` entry: each listed host's first wave index. */
  readonly waveIndex: ReadonlyMap<ChannelId, ReadonlyMap<HostId, number>>
  /** Host edges grouped by their `gated` host, in fleet order. */
  readonly hostEdgesByGated: ReadonlyMap<HostId, ReadonlyArray<HostEdge>>
  /** Channel edges grouped by their `gated` channel, in fleet order. */
  readonly channelEdgesByGated: ReadonlyMap<ChannelId, ReadonlyArray<ChannelEdge>>
  /** Each manifest's `disruptionBudgets` array (by identity), prepared. */
  readonly budgets: ReadonlyMap<ReadonlyArray<RolloutBudget>, ReadonlyArray<PreparedBudget>>
}

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

/** Builds the index of a manifest set. */
export const buildManifestIndex = (manifests: ManifestSet): ManifestIndex => {
  const fleet = manifests.fleet
  const waveIndex = new Map<ChannelId, ReadonlyMap<HostId, number>>()
  for (const channel of Object.keys(fleet.waves) as Array<ChannelId>) {
    const waves = fleet.waves[channel] ?? []
    if (waves.length > 0) waveIndex.set(channel, firstWaveIndex(waves))
  }
  const budgets = new Map<ReadonlyArray<RolloutBudget>, ReadonlyArray<PreparedBudget>>()
  for (const m of manifests.rollouts.values()) budgets.set(m.disruptionBudgets, m.disruptionBudgets.map(prepareBudget))
  return {
    fleet,
    rollouts: manifests.rollouts,
    waveIndex,
    hostEdgesByGated: groupBy(fleet.edges, (e) => e.gated),
    channelEdgesByGated: groupBy(fleet.channelEdges, (e) => e.gated),
    budgets
  }
}

/** A manifest set with its index attached. */
export type PreparedManifestSet = ManifestSet & { readonly index: ManifestIndex }

/** The manifest set with its index attached: what the CP should pass to every tick until the next update. */
export const prepareManifestSet = (manifests: ManifestSet): PreparedManifestSet => ({
  fleet: manifests.fleet,
  rollouts: manifests.rollouts,
  index: buildManifestIndex(manifests)
})

/** The set's attached index when it was built for these very objects, else a fresh one. */
export const manifestIndexOf = (manifests: ManifestSet): ManifestIndex =>
  manifests.index !== undefined && manifests.index.fleet === manifests.fleet && manifests.index.rollouts === manifests.rollouts
    ? manifests.index
    : buildManifestIndex(manifests)
