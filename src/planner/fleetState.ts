/**
 * Building the planner's view before a tick: `buildFleetState` from stored rows, and
 * `advanceCurrentWaves`, the wave-cursor promotion the CP runs before `planNext`.
 *
 * Invariant: pure. The fleet state holds only each channel's *current* rollout (the one its
 * verified manifest names); superseded rollouts are invisible to the planner. Host records are
 * inserted in hostname order so the planner's sorted iteration costs O(n).
 */
import { compareStrings } from "../domain/fleet.js"
import { type HostRolloutState, isTerminalForOrdering } from "../domain/hostState.js"
import { type HostId, makeRolloutId, type RolloutId } from "../domain/ids.js"
import type { RolloutRecord } from "../domain/rollout.js"
import { sortedKeys } from "./order.js"
import type { FleetState, ManifestSet, RolloutSummary } from "./types.js"

/** One row of the probe-failure projection: outstanding failing enforce probes of a host in a rollout. */
export interface ProbeFailureRow {
  readonly rolloutId: RolloutId
  readonly hostname: HostId
  readonly count: number
}

/**
 * The fleet state for a tick: for each channel with a manifest, the host records stored under its
 * rollout id and, when its rollout row exists, a summary (`terminalAt`, `currentWave` from the
 * row, `budgets` from the manifest). Records and rows of other rollouts are ignored. When the
 * probe-failure query failed, pass no rows (the compliance gate is then inert, as the reference).
 */
export const buildFleetState = (
  manifests: ManifestSet,
  hostRecords: Iterable<HostRolloutState>,
  rolloutRecords: Iterable<RolloutRecord>,
  probeFailures: Iterable<ProbeFailureRow> = []
): FleetState => {
  const current = new Map<RolloutId, RolloutSummary | null>()
  const rows = new Map<RolloutId, RolloutRecord>()
  for (const row of rolloutRecords) rows.set(row.rolloutId, row)
  for (const channel of sortedKeys(manifests.rollouts)) {
    const m = manifests.rollouts.get(channel)
    if (m === undefined) continue
    const rolloutId = makeRolloutId(channel, m.channelRef)
    const row = rows.get(rolloutId)
    current.set(
      rolloutId,
      row === undefined
        ? null
        : {
            rolloutId,
            channel,
            targetRef: m.channelRef,
            openedAt: row.openedAt,
            terminalAt: row.terminalAt,
            currentWave: row.currentWave,
            budgets: m.disruptionBudgets
          }
    )
  }
  const grouped = new Map<RolloutId, Array<HostRolloutState>>()
  for (const record of hostRecords) {
    if (!current.has(record.rolloutId)) continue
    const group = grouped.get(record.rolloutId)
    if (group === undefined) grouped.set(record.rolloutId, [record])
    else group.push(record)
  }
  const hostStates = new Map<RolloutId, ReadonlyMap<HostId, HostRolloutState>>()
  for (const [rolloutId, records] of grouped) {
    records.sort((a, b) => compareStrings(a.hostname, b.hostname))
    hostStates.set(rolloutId, new Map(records.map((r) => [r.hostname, r])))
  }
  const rollouts = new Map<RolloutId, RolloutSummary>()
  for (const [rolloutId, summary] of current) if (summary !== null) rollouts.set(rolloutId, summary)
  const probes = new Map<RolloutId, Map<HostId, number>>()
  for (const row of probeFailures) {
    const perHost = probes.get(row.rolloutId) ?? new Map<HostId, number>()
    perHost.set(row.hostname, row.count)
    probes.set(row.rolloutId, perHost)
  }
  return { hostStates, rollouts, outstandingFailingEnforceProbes: probes }
}

/** One promotion done by `advanceCurrentWaves`. */
export interface WaveAdvance {
  readonly rolloutId: RolloutId
  readonly fromWave: number
  readonly toWave: number
}

/**
 * Promotes each non-terminal rollout's `currentWave` by one when its current fleet wave is
 * non-empty, has a successor, and every host in it is done (Converged or Deferred). Returns the
 * new state and the promotions, which the CP persists (`UpdateCurrentWave`). One step per call,
 * as the reference (the CP calls it before every tick).
 *
 * Empty waves are never promoted (reference invariant). Decision (same stuck-forever class as
 * spec A14): a listed host without a closure in the fleet (in no manifest, so it never gets a
 * record) is not waited for; a participating host without a record still holds the wave.
 */
export const advanceCurrentWaves = (
  manifests: ManifestSet,
  fleetState: FleetState
): { readonly fleetState: FleetState; readonly advanced: ReadonlyArray<WaveAdvance> } => {
  const fleet = manifests.fleet
  const advanced: Array<WaveAdvance> = []
  for (const rolloutId of sortedKeys(fleetState.rollouts)) {
    const summary = fleetState.rollouts.get(rolloutId)
    if (summary === undefined || summary.terminalAt !== null) continue
    const waves = fleet.waves[summary.channel] ?? []
    const wave = waves[summary.currentWave]
    if (wave === undefined || summary.currentWave + 1 >= waves.length || wave.hosts.length === 0) continue
    const records = fleetState.hostStates.get(rolloutId)
    const done = wave.hosts.every((h) => {
      if ((fleet.hosts[h]?.closureHash ?? null) === null) return true
      const st = records?.get(h)
      return st !== undefined && isTerminalForOrdering(st.state)
    })
    if (done) advanced.push({ rolloutId, fromWave: summary.currentWave, toWave: summary.currentWave + 1 })
  }
  if (advanced.length === 0) return { fleetState, advanced }
  const rollouts = new Map(fleetState.rollouts)
  for (const a of advanced) {
    const summary = rollouts.get(a.rolloutId)
    if (summary !== undefined) rollouts.set(a.rolloutId, { ...summary, currentWave: a.toWave })
  }
  return { fleetState: { ...fleetState, rollouts }, advanced }
}

/** The rollout id of the first host record (rollouts in sorted order) for a hostname, if any. */
export const activeRolloutForHost = (fleetState: FleetState, host: HostId): RolloutId | undefined =>
  sortedKeys(fleetState.hostStates).find((rid) => fleetState.hostStates.get(rid)?.has(host) === true)
