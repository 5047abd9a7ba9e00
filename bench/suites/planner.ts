/**
 * `planNext` latency: one full planner tick over 1k, 10k and 100k hosts spread over 16 channels
 * of 4 fleet waves each, with four disruption budgets (count and percentage limits), host edges
 * and channel edges, mid-rollout (earlier waves done, the current wave in flight, later waves
 * Pending), plus a worst case where every host is Pending and passes the wave gate so all six
 * gates run for each. Median of several ticks after a warm-up. Ticks use a manifest set prepared
 * with `prepareManifestSet` (the CP prepares it once per manifest update, every 30 s at most,
 * and ticks every 15 s); one row shows the tick that also rebuilds the index, one the preparation.
 *
 * Invariant: inputs are built once per size and never mutated; each measured tick's output is
 * checked (every Pending unacked host of a non-terminal rollout gets exactly one dispatch
 * action, and at least one host is queued), so a broken planner cannot post a figure.
 */
import { Either } from "effect"
import type {
  ChannelId,
  ChannelRef,
  ClosureHash,
  FleetHost,
  FleetResolved,
  FleetWave,
  HostId,
  HostRolloutState,
  HostState,
  RolloutId,
  RolloutManifest,
  Timestamp
} from "../../src/domain/index.js"
import { makeRolloutId, newPending, projectManifest } from "../../src/domain/index.js"
import type { FleetState, ManifestSet, RolloutSummary } from "../../src/planner/index.js"
import { planNext, prepareManifestSet } from "../../src/planner/index.js"
import { type BenchRow, type BenchSuite, percentile, timed } from "../lib.js"

const CHANNELS = 16
const WAVES = 4
const T0 = Date.UTC(2026, 4, 16, 1) as Timestamp
const HASH = "0".repeat(64)
const REF = "c0ffee" as ChannelRef
const TAGS = [["web"], ["db"], ["web", "eu"], ["cache", "eu"]] as const

const channelName = (c: number) => `ch${String(c).padStart(2, "0")}` as ChannelId
const hostName = (i: number) => `host-${String(i).padStart(6, "0")}` as HostId

interface Scenario {
  readonly set: ManifestSet
  readonly state: FleetState
  /** Pending unacked hosts of non-terminal rollouts: each must get exactly one dispatch action. */
  readonly candidates: number
}

/** The fleet: host i is on channel i mod 16, in wave (i div 16) mod 4 of it; every 10th host gated by its predecessor on the channel. */
const buildFleet = (n: number): FleetResolved => {
  const hosts: Record<string, FleetHost> = {}
  const waves: Record<string, Array<FleetWave>> = {}
  const waveHosts = Array.from({ length: CHANNELS }, () => Array.from({ length: WAVES }, () => [] as Array<HostId>))
  const edges: Array<{ gated: HostId; gates: HostId; reason: string | null }> = []
  for (let i = 0; i < n; i++) {
    const c = i % CHANNELS
    hosts[hostName(i)] = {
      platform: "x86_64-linux",
      tags: TAGS[i % TAGS.length] as ReadonlyArray<string>,
      channel: channelName(c),
      closureHash: `${hostName(i)}-closure` as ClosureHash,
      pubkey: null
    }
    waveHosts[c]?.[Math.floor(i / CHANNELS) % WAVES]?.push(hostName(i))
    if (i % 10 === 0 && i >= CHANNELS) edges.push({ gated: hostName(i), gates: hostName(i - CHANNELS), reason: null })
  }
  for (let c = 0; c < CHANNELS; c++) waves[channelName(c)] = (waveHosts[c] ?? []).map((hs) => ({ hosts: hs, soakMinutes: 5 }))
  const selector = { tags: [] as Array<string>, tagsAny: [] as Array<string>, hosts: [] as Array<string>, channel: null as string | null, all: false }
  return {
    schemaVersion: 1,
    hosts,
    channels: Object.fromEntries(
      Array.from({ length: CHANNELS }, (_, c) => [
        channelName(c),
        { rolloutPolicy: "canary", reconcileIntervalMinutes: 30, signingIntervalMinutes: 60, freshnessWindow: 1440 }
      ])
    ),
    rolloutPolicies: {
      canary: {
        strategy: "canary",
        waves: Array.from({ length: WAVES }, () => ({ selector: { ...selector, all: true }, soakMinutes: 5 })),
        healthGate: {},
        onHealthFailure: "rollback-and-halt"
      }
    },
    waves,
    edges,
    // Channels 0–3 gate 4–15 (their rollouts are terminal, so these edges are evaluated and pass);
    // channel 14 gates 15 (non-terminal: channel 15 is held back by channel-edges).
    channelEdges: [
      ...Array.from({ length: 12 }, (_, k) => ({ gates: channelName(k % 4), gated: channelName(k + 4), reason: null })),
      { gates: channelName(14), gated: channelName(15), reason: "ordering" }
    ],
    disruptionBudgets: [
      { selector: { ...selector, tags: ["web"] }, maxInFlight: Math.max(1, Math.floor(n / 20)), maxInFlightPct: null },
      { selector: { ...selector, tagsAny: ["db", "cache"] }, maxInFlight: null, maxInFlightPct: 10 },
      { selector: { ...selector, all: true }, maxInFlight: Math.max(1, Math.floor(n / 5)), maxInFlightPct: 25 },
      { selector: { ...selector, channel: channelName(3) }, maxInFlight: 5, maxInFlightPct: null }
    ],
    meta: { schemaVersion: 1, signedAt: T0, ciCommit: REF }
  }
}

/** Mid-rollout states: waves before `current` done (a few Deferred), the current one mixed, later ones Pending. */
const stateFor = (wave: number, current: number, i: number, allPending: boolean): HostState => {
  if (allPending) return "Pending"
  if (wave < current) return i % 50 === 0 ? "Deferred" : "Converged"
  if (wave > current) return "Pending"
  const k = i % 8
  return k === 0 ? "Activating" : k === 1 ? "Soaking" : k === 2 ? "Converged" : "Pending"
}

const buildScenario = (n: number, allPending: boolean): Scenario => {
  const fleet = buildFleet(n)
  const rollouts = new Map<ChannelId, RolloutManifest>()
  for (let c = 0; c < CHANNELS; c++) {
    const m = projectManifest(fleet, channelName(c), HASH, T0, REF, "ed25519")
    if (Either.isLeft(m) || m.right === null) throw new Error(`projection failed for ${channelName(c)}`)
    rollouts.set(channelName(c), m.right)
  }
  const summaries = new Map<RolloutId, RolloutSummary>()
  const hostStates = new Map<RolloutId, Map<HostId, HostRolloutState>>()
  const probes = new Map<RolloutId, Map<HostId, number>>()
  let candidates = 0
  for (const [channel, m] of rollouts) {
    const c = Number(channel.slice(2))
    const rid = makeRolloutId(channel, m.channelRef)
    const terminal = !allPending && c < 4
    const currentWave = allPending ? WAVES - 1 : terminal ? WAVES - 1 : 1 + (c % 2)
    summaries.set(rid, { rolloutId: rid, channel, targetRef: m.channelRef, openedAt: T0, terminalAt: terminal ? T0 : null, currentWave, budgets: m.disruptionBudgets })
    const records = new Map<HostId, HostRolloutState>()
    for (const h of m.hostSet) {
      const i = Number(h.hostname.slice(5))
      const state = terminal ? "Converged" : stateFor(h.waveIndex, currentWave, i, allPending)
      const pending = newPending({ rolloutId: rid, hostname: h.hostname, channel, targetClosure: h.targetClosure, dispatchedAt: T0, soakDueAt: T0 })
      records.set(h.hostname, state === "Pending" ? pending : { ...pending, state, dispatchAckedAt: T0 })
      if (state === "Pending" && !terminal) candidates++
    }
    hostStates.set(rid, records)
    if (c === 5) probes.set(rid, new Map([[m.hostSet[0]?.hostname ?? ("" as HostId), 1]]))
  }
  return {
    set: { fleet, rollouts },
    state: { hostStates, rollouts: summaries, outstandingFailingEnforceProbes: probes },
    candidates
  }
}

const check = (s: Scenario, actions: ReturnType<typeof planNext>): void => {
  const dispatch = actions.filter((a) => a._tag !== "OpenRollout")
  if (dispatch.length !== s.candidates) throw new Error(`expected ${s.candidates} dispatch actions, got ${dispatch.length}`)
  if (!dispatch.some((a) => a._tag === "QueueDispatch")) throw new Error("no host was queued")
}

interface Measured {
  readonly median: number
  readonly queued: number
  readonly deferred: number
}

/** Median tick time; `prepared` attaches the manifest-set index first (as the CP does once per manifest update). */
const measure = async (s: Scenario, prepared: boolean, ticks: number): Promise<Measured> => {
  const set = prepared ? prepareManifestSet(s.set) : s.set
  for (let w = 0; w < 5; w++) check(s, planNext(set, s.state, new Map(), T0)) // warm-up: let the JIT settle
  const times: Array<number> = []
  let last: ReturnType<typeof planNext> = []
  for (let t = 0; t < ticks; t++) {
    const { value, ms } = await timed(() => planNext(set, s.state, new Map(), T0))
    check(s, value)
    last = value
    times.push(ms)
  }
  return {
    median: percentile(times, 50),
    queued: last.filter((a) => a._tag === "QueueDispatch").length,
    deferred: last.filter((a) => a._tag === "DeferDispatch").length
  }
}

/** Median time of `prepareManifestSet` (the per-manifest-update part). */
const measurePrepare = async (s: Scenario, runs: number): Promise<number> => {
  const times: Array<number> = []
  for (let r = 0; r < runs; r++) times.push((await timed(() => prepareManifestSet(s.set))).ms)
  return percentile(times, 50)
}

const TARGET_10K_MS = 20
const hostsLabel = (n: number) => `${n.toLocaleString("en-US")} hosts / 16 channels / 4 waves`

const row = (label: string, n: number, r: Measured): BenchRow => ({
  benchmark: `planNext ${label}, ${hostsLabel(n)} (${r.queued} queued, ${r.deferred} deferred)`,
  result: `${r.median.toFixed(2)} ms median`,
  target: n === 10_000 ? `< ${TARGET_10K_MS} ms` : "",
  met: n === 10_000 ? r.median < TARGET_10K_MS : null
})

const TICKS: Readonly<Record<number, number>> = { 1_000: 31, 10_000: 21, 100_000: 9 }

/** The planner benchmark suite. */
export const suite: BenchSuite = {
  name: "planner",
  run: async () => {
    const rows: Array<BenchRow> = []
    for (const n of [1_000, 10_000, 100_000]) {
      const mid = buildScenario(n, false)
      rows.push(row("tick, mid-rollout, prepared manifest set", n, await measure(mid, true, TICKS[n] ?? 9)))
      if (n >= 10_000) {
        rows.push(row("tick, mid-rollout, index rebuilt in the tick (first tick after a manifest update)", n, await measure(mid, false, TICKS[n] ?? 9)))
        const worst = buildScenario(n, true)
        rows.push(row("tick, every host Pending through all six gates, prepared manifest set", n, await measure(worst, true, TICKS[n] ?? 9)))
        rows.push({
          benchmark: `prepareManifestSet, ${hostsLabel(n)} (once per manifest update)`,
          result: `${(await measurePrepare(mid, 7)).toFixed(2)} ms median`,
          target: "",
          met: null
        })
      }
    }
    return rows
  }
}
