/**
 * Test builders for planner inputs, after the reference's `FleetBuilder`: defaults platform
 * `x86_64-linux`, closure `{h}-closure`, policy `p` = all-at-once with one 5-minute wave, channels
 * 30/60/1440 minutes.
 *
 * Invariant: builders only construct data (fleets are decoded through the real `FleetResolved`
 * schema, manifests projected with the real `projectManifest`); they never call the planner.
 */
import { Either, Schema } from "effect"
import {
  type ChannelId,
  type ChannelRef,
  type ClosureHash,
  FleetResolved,
  type HostId,
  type HostRolloutState,
  type HostState,
  makeRolloutId,
  newPending,
  projectManifest,
  type RolloutBudget,
  type RolloutId,
  type RolloutManifest,
  type Selector,
  ts
} from "../../src/domain/index.js"
import type { FleetState, ManifestSet, QuarantineSet, RolloutSummary } from "../../src/planner/index.js"

/** The reference planner suite's t0. */
export const T0 = ts("2026-05-16T01:00:00Z")
/** A fixed 64-hex fleet hash for projections. */
export const HASH = "0".repeat(64)

export const ch = (c: string) => c as ChannelId
export const hid = (h: string) => h as HostId
export const rid = (r: string) => r as RolloutId
export const closure = (c: string) => c as ClosureHash

/** A host of a test fleet. */
export interface HostSpec {
  readonly channel: string
  readonly tags?: ReadonlyArray<string>
  /** Default `{name}-closure`; null for a host in no manifest. */
  readonly closure?: string | null
}

/** A budget of a test fleet (selector fields default empty). */
export interface BudgetSpec {
  readonly selector: Partial<Selector>
  readonly maxInFlight?: number | null
  readonly maxInFlightPct?: number | null
}

/** A test fleet: hosts by name, fleet waves per channel (host lists), edges, budgets. */
export interface FleetSpec {
  readonly hosts: Readonly<Record<string, HostSpec>>
  readonly waves?: Readonly<Record<string, ReadonlyArray<ReadonlyArray<string>>>>
  /** `[gated, gates]` pairs. */
  readonly edges?: ReadonlyArray<readonly [string, string]>
  /** `[gates, gated]` pairs (predecessor first). */
  readonly channelEdges?: ReadonlyArray<readonly [string, string]>
  readonly budgets?: ReadonlyArray<BudgetSpec>
  readonly ciCommit?: string
}

/** The wire JSON of a test fleet (what a producer would sign). */
export const fleetJson = (spec: FleetSpec): Record<string, unknown> => {
  const channels = [...new Set(Object.values(spec.hosts).map((h) => h.channel)), ...Object.keys(spec.waves ?? {})]
  return {
    schemaVersion: 1,
    hosts: Object.fromEntries(
      Object.entries(spec.hosts).map(([name, h]) => [
        name,
        { system: "x86_64-linux", tags: h.tags ?? [], channel: h.channel, closureHash: h.closure === undefined ? `${name}-closure` : h.closure, pubkey: null }
      ])
    ),
    channels: Object.fromEntries(
      channels.map((c) => [c, { rolloutPolicy: "p", reconcileIntervalMinutes: 30, signingIntervalMinutes: 60, freshnessWindow: 1440 }])
    ),
    rolloutPolicies: {
      p: { strategy: "all-at-once", waves: [{ selector: { all: true }, soakMinutes: 5 }], healthGate: {}, onHealthFailure: "halt" }
    },
    waves: Object.fromEntries(Object.entries(spec.waves ?? {}).map(([c, ws]) => [c, ws.map((hosts) => ({ hosts, soakMinutes: 5 }))])),
    edges: (spec.edges ?? []).map(([gated, gates]) => ({ gated, gates, reason: null })),
    channelEdges: (spec.channelEdges ?? []).map(([gates, gated]) => ({ gates, gated, reason: null })),
    disruptionBudgets: (spec.budgets ?? []).map((b) => ({
      selector: b.selector,
      maxInFlight: b.maxInFlight ?? null,
      maxInFlightPct: b.maxInFlightPct ?? null
    })),
    meta: { schemaVersion: 1, signedAt: "2026-05-16T01:00:00Z", ciCommit: spec.ciCommit ?? "r1", signatureAlgorithm: "ed25519" }
  }
}

/** A decoded test fleet. */
export const fleet = (spec: FleetSpec): FleetResolved => Schema.decodeUnknownSync(FleetResolved)(fleetJson(spec))

/** Projects the manifest of `channel` at `ref`; fails the test when the projection is empty or fails. */
export const manifestOf = (f: FleetResolved, channel: string, ref: string): RolloutManifest => {
  const m = projectManifest(f, ch(channel), HASH, T0, ref, "ed25519")
  if (Either.isLeft(m) || m.right === null) throw new Error(`no manifest for ${channel}`)
  return m.right
}

/** A manifest set: the fleet and, per channel, its manifest at the given ref. */
export const manifests = (f: FleetResolved, refs: Readonly<Record<string, string>>): ManifestSet => ({
  fleet: f,
  rollouts: new Map(Object.entries(refs).map(([c, ref]) => [ch(c), manifestOf(f, c, ref)]))
})

/** A rollout summary; budgets default to the channel manifest's (when a manifest set is given). */
export interface SummarySpec {
  readonly id: string
  readonly currentWave?: number
  readonly terminal?: boolean
  readonly budgets?: ReadonlyArray<RolloutBudget>
}

/** A host record of a rollout in a state (`acked` sets `dispatchAckedAt`; non-Pending states are acked). */
export interface RecordSpec {
  readonly rollout: string
  readonly host: string
  readonly state: HostState
  readonly acked?: boolean
  readonly soakDueAt?: number | null
}

/** A host record built with the real constructor, then moved to the requested state. */
export const record = (r: RecordSpec): HostRolloutState => {
  const id = rid(r.rollout)
  const channel = ch(id.slice(0, id.indexOf("@")))
  const base = newPending({
    rolloutId: id,
    hostname: hid(r.host),
    channel,
    targetClosure: closure(`${r.host}-closure`),
    dispatchedAt: T0,
    soakDueAt: ts(T0 + 5 * 60_000)
  })
  const acked = r.acked ?? r.state !== "Pending"
  return {
    ...base,
    state: r.state,
    dispatchAckedAt: acked ? ts(T0 + 1000) : null,
    soakDueAt: r.soakDueAt === undefined ? base.soakDueAt : r.soakDueAt === null ? null : ts(r.soakDueAt)
  }
}

/** A fleet state from summaries, records and probe failures (`[rollout, host, count]`). */
export const fleetState = (
  summaries: ReadonlyArray<SummarySpec>,
  records: ReadonlyArray<RecordSpec>,
  probes: ReadonlyArray<readonly [string, string, number]> = [],
  set?: ManifestSet
): FleetState => {
  const rollouts = new Map<RolloutId, RolloutSummary>()
  for (const s of summaries) {
    const id = rid(s.id)
    const channel = ch(id.slice(0, id.indexOf("@")))
    rollouts.set(id, {
      rolloutId: id,
      channel,
      targetRef: id.slice(id.indexOf("@") + 1) as ChannelRef,
      openedAt: T0,
      terminalAt: s.terminal === true ? T0 : null,
      currentWave: s.currentWave ?? 0,
      budgets: s.budgets ?? set?.rollouts.get(channel)?.disruptionBudgets ?? []
    })
  }
  const hostStates = new Map<RolloutId, Map<HostId, HostRolloutState>>()
  for (const r of records) {
    const inner = hostStates.get(rid(r.rollout)) ?? new Map<HostId, HostRolloutState>()
    inner.set(hid(r.host), record(r))
    hostStates.set(rid(r.rollout), inner)
  }
  const outstanding = new Map<RolloutId, Map<HostId, number>>()
  for (const [r, h, n] of probes) {
    const inner = outstanding.get(rid(r)) ?? new Map<HostId, number>()
    inner.set(hid(h), n)
    outstanding.set(rid(r), inner)
  }
  return { hostStates, rollouts, outstandingFailingEnforceProbes: outstanding }
}

/** No quarantined closures. */
export const noQuarantine: QuarantineSet = new Map()

/** A quarantine set from `[channel, closure]` pairs. */
export const quarantine = (pairs: ReadonlyArray<readonly [string, string]>): QuarantineSet => {
  const out = new Map<ChannelId, Set<ClosureHash>>()
  for (const [c, h] of pairs) out.set(ch(c), (out.get(ch(c)) ?? new Set<ClosureHash>()).add(closure(h)))
  return out
}

/** A rollout id from a channel and ref. */
export const rolloutOf = (channel: string, ref: string) => makeRolloutId(ch(channel), ref as ChannelRef)
