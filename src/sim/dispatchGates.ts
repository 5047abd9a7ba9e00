/**
 * The "no dispatch while a gate blocks" invariant, judged on the dispatch observations of one
 * storage epoch (observer.ts: the fleet state the CP held, inside the deciding transaction):
 * - every `queue` observation (a QueueDispatch) passes the planner's own gates: `explain()` on
 *   that state gives no block (with the same per-tick budget accumulator planNext had) and says
 *   the host was a candidate at all (Pending, unacked, rollout not terminal);
 * - every `queue` observation also passes an independent check of the simple gates (written
 *   here, not taken from the planner): the host's target closure is not quarantined on its
 *   channel; every predecessor channel (fleet channel edges) has a terminal rollout; the host's
 *   fleet wave is at most its rollout's current wave; every same-channel host-edge predecessor
 *   with a closure is Converged (or Deferred: done for ordering, as the planner decides);
 * - every `ack` observation (a Pending record acked) follows a `queue` observation of the same
 *   (rollout, host) in the epoch, or answers a dispatch queued on the storage before a wipe
 *   (`answersEarlierStorage`: that epoch's check judged the dispatch; the host really switches
 *   and the CP mirrors it), or else — recovery synthesis, or an ack the CP never asked for —
 *   passes the simple gates at that moment: nothing reaches Activating around the planner;
 * - the epoch's log agrees: each logged QueueDispatch was observed, and each observed one logged.
 *
 * Invariant: pure; each violation carries the simulated second of the decision.
 */
import { compareStrings } from "../domain/fleet.js"
import type { HostId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import { explain } from "../planner/explain.js"
import { buildFleetState } from "../planner/fleetState.js"
import type { ManifestSet } from "../planner/types.js"
import { toQuarantineSet } from "../ports/storage.js"
import type { EpochData } from "./cpProcess.js"
import { answersEarlierStorage, type Violation } from "./invariants.js"
import type { DispatchObservation } from "./observer.js"
import type { SignedSampleFleet } from "./sampleFleet.js"

/** The simple gates that block `observation`'s host, as plain reasons (empty: none). */
export const simpleGateBlocks = (fleet: SignedSampleFleet, observation: DispatchObservation): ReadonlyArray<string> => {
  const f = fleet.fleet
  const channel = f.hosts[observation.host]?.channel
  if (channel === undefined) return [`${observation.host} is not in the fleet`]
  const recordOf = (host: HostId) => observation.records.find((r) => r.rolloutId === observation.rolloutId && r.hostname === host)
  const record = recordOf(observation.host)
  if (record === undefined) return [`no record of ${observation.host} in ${observation.rolloutId}`]
  const blocks: Array<string> = []
  if (observation.quarantines.some((q) => q.channel === channel && q.closureHash === record.targetClosure)) {
    blocks.push(`quarantine: ${record.targetClosure} is quarantined on ${channel}`)
  }
  for (const edge of f.channelEdges) {
    if (edge.gated !== channel) continue
    if (!observation.rollouts.some((r) => r.channel === edge.gates && r.terminalAt !== null)) blocks.push(`channel edge: ${edge.gates} has no terminal rollout`)
  }
  const waves = f.waves[channel] ?? []
  if (waves.length > 0) {
    const hostWave = waves.findIndex((w) => w.hosts.includes(observation.host))
    const currentWave = observation.rollouts.find((r) => r.rolloutId === observation.rolloutId)?.currentWave ?? 0
    if (hostWave < 0 || hostWave > currentWave) blocks.push(`wave: host in wave ${hostWave}, rollout at wave ${currentWave}`)
  }
  for (const edge of f.edges) {
    const gating = f.hosts[edge.gates]
    if (edge.gated !== observation.host || gating === undefined || gating.channel !== channel || gating.closureHash === null) continue
    const state = recordOf(edge.gates)?.state
    if (state !== "Converged" && state !== "Deferred") blocks.push(`host edge: ${edge.gates} is ${state ?? "without a record"}`)
  }
  return blocks
}

/** The planner's first block on `observation` (or why the host was no candidate), null when it would dispatch. */
export const plannerBlock = (manifests: ManifestSet, observation: DispatchObservation): string | null => {
  const fleetState = buildFleetState(manifests, observation.records, observation.rollouts, observation.probeFailures)
  const why = explain(observation.host, manifests, fleetState, toQuarantineSet(observation.quarantines), observation.at as Timestamp, observation.rolloutId)
  if (why === null) return `no record of ${observation.host} in the planner's fleet state`
  if (!why.considered) return `${observation.host} is ${why.state} (no dispatch candidate)`
  return why.firstBlock === null ? null : `planner gate ${why.verdicts.find((v) => v.block !== null)?.gate}: ${why.firstBlock._tag}`
}

const keyOf = (host: string, rolloutId: string, at: number) => `${rolloutId}/${host}@${at}`
const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1)

/** Checks the dispatch decisions of one epoch. `start`: the simulation's start (epoch millis). */
export const checkDispatches = (
  fleet: SignedSampleFleet,
  manifests: ManifestSet,
  epoch: EpochData,
  seed: number,
  start: number
): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const secondOf = (at: number) => Math.round((at - start) / 1000)
  const broke = (at: number, detail: string) =>
    out.push({ seed, atSecond: secondOf(at), invariant: "no-dispatch-while-gated", detail: `epoch ${epoch.index}: ${detail}` })
  const queued = new Set<string>()
  for (const o of epoch.observations) {
    const who = `${o.host} in ${o.rolloutId}`
    if (o.kind === "queue") {
      queued.add(`${o.rolloutId}/${o.host}`)
      const planner = plannerBlock(manifests, o)
      if (planner !== null) broke(o.at, `${who} dispatched while ${planner}`)
      for (const block of simpleGateBlocks(fleet, o)) broke(o.at, `${who} dispatched while ${block}`)
      continue
    }
    if (queued.has(`${o.rolloutId}/${o.host}`)) continue
    if (o.acked !== null && answersEarlierStorage(o.acked, o.rollouts.find((r) => r.rolloutId === o.rolloutId))) continue
    for (const block of simpleGateBlocks(fleet, o)) broke(o.at, `${who} acked without a dispatch while ${block}`)
  }
  const observed = new Map<string, number>()
  for (const o of epoch.observations) if (o.kind === "queue") bump(observed, keyOf(o.host, o.rolloutId, o.at))
  const logged = new Map<string, number>()
  for (const e of epoch.log) {
    if (e.kind !== "plan_action" || (e.payload as { readonly kind?: string }).kind !== "QueueDispatch" || e.hostname === null || e.rolloutId === null) continue
    bump(logged, keyOf(e.hostname, e.rolloutId, e.at))
  }
  for (const key of [...new Set([...observed.keys(), ...logged.keys()])].sort(compareStrings)) {
    const o = observed.get(key) ?? 0
    const l = logged.get(key) ?? 0
    if (o !== l) broke(Number(key.slice(key.lastIndexOf("@") + 1)), `QueueDispatch ${key}: ${l} logged, ${o} decided`)
  }
  return out
}

