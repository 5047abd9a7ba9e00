/**
 * Planner properties over random fleets: `planNext` is deterministic whatever the maps' insertion
 * order, and after applying its QueueDispatch actions no budget's in-flight count exceeds its
 * effective max (unless it already did before the tick, in which case it does not grow).
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  type FleetResolved,
  type HostId,
  type HostRolloutState,
  type HostState,
  HOST_STATES,
  type RolloutId,
  selectorKey
} from "../../src/domain/index.js"
import {
  effectiveMaxInFlight,
  type FleetState,
  type ManifestSet,
  planNext,
  prepareManifestSet,
  type QuarantineSet
} from "../../src/planner/index.js"
import { type BudgetSpec, ch, closure, fleet, type FleetSpec, fleetState, manifests, T0 } from "./builders.js"

const CHANNELS = ["a", "b", "c"] as const
const SELECTORS: ReadonlyArray<BudgetSpec["selector"]> = [
  { all: true },
  { tags: ["web"] },
  { tagsAny: ["db", "eu"] },
  { channel: "b" },
  { hosts: ["h00", "h03", "h05", "h08"] },
  { tags: ["web", "eu"] }
]

/** True about one time in `n`. */
const rarely = (n: number) => fc.nat({ max: n - 1 }).map((x) => x === 0)

/** Biased towards dispatch-ready hosts (closure, Pending, unacked, not quarantined) so budgets get contended. */
const arbHost = fc.record({
  channel: fc.constantFrom(...CHANNELS),
  tags: fc.subarray(["web", "db", "eu"]),
  closure: rarely(8).map((none) => !none),
  wave: fc.integer({ min: -1, max: 2 }),
  state: fc.oneof({ arbitrary: fc.constant<HostState>("Pending"), weight: 3 }, { arbitrary: fc.constantFrom<HostState>(...HOST_STATES), weight: 2 }),
  acked: rarely(5),
  probes: fc.nat({ max: 2 }).chain((n) => rarely(4).map((some) => (some ? n : 0))),
  quarantined: rarely(10)
})

const arbScenario = fc.record({
  hosts: fc.array(arbHost, { minLength: 1, maxLength: 20 }),
  waved: fc.record({ a: rarely(3), b: rarely(3), c: rarely(3) }),
  edges: fc.array(fc.tuple(fc.nat({ max: 19 }), fc.nat({ max: 19 })), { maxLength: 6 }),
  channelEdges: fc.array(fc.tuple(fc.constantFrom(...CHANNELS), fc.constantFrom(...CHANNELS)), { maxLength: 2 }),
  budgets: fc.array(
    fc.record({
      selector: fc.constantFrom(...SELECTORS),
      maxInFlight: fc.option(fc.nat({ max: 4 }), { nil: null }),
      maxInFlightPct: fc.option(fc.nat({ max: 100 }), { nil: null })
    }),
    { maxLength: 4 }
  ),
  rollouts: fc.record({
    a: fc.record({ exists: rarely(6).map((no) => !no), terminal: rarely(6), wave: fc.nat({ max: 2 }) }),
    b: fc.record({ exists: rarely(6).map((no) => !no), terminal: rarely(6), wave: fc.nat({ max: 2 }) }),
    c: fc.record({ exists: rarely(6).map((no) => !no), terminal: rarely(6), wave: fc.nat({ max: 2 }) })
  }),
  seed: fc.integer()
})
type Scenario = typeof arbScenario extends fc.Arbitrary<infer T> ? T : never

const name = (i: number) => `h${String(i).padStart(2, "0")}`

interface Inputs {
  readonly set: ManifestSet
  readonly state: FleetState
  readonly quarantines: QuarantineSet
}

/** A deterministic permutation driven by `seed` (a small LCG), or the identity when seed is null. */
const shuffle = <A>(items: ReadonlyArray<A>, seed: number | null): Array<A> => {
  const out = [...items]
  if (seed === null) return out
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j] as A, out[i] as A]
  }
  return out
}
const shuffledMap = <K, V>(map: ReadonlyMap<K, V>, seed: number | null): Map<K, V> => new Map(shuffle([...map], seed))

/** Builds the planner inputs of a scenario, with every map (and the fleet's host object) inserted in a seed-driven order. */
const materialize = (s: Scenario, seed: number | null): Inputs => {
  const hosts = s.hosts.map((h, i) => ({ ...h, name: name(i) }))
  const spec: FleetSpec = {
    hosts: Object.fromEntries(shuffle(hosts, seed).map((h) => [h.name, { channel: h.channel, tags: h.tags, ...(h.closure ? {} : { closure: null }) }])),
    waves: Object.fromEntries(
      CHANNELS.filter((c) => s.waved[c]).map((c) => [c, [0, 1, 2].map((w) => hosts.filter((h) => h.channel === c && h.wave === w).map((h) => h.name))])
    ),
    edges: s.edges.filter(([x, y]) => x < hosts.length && y < hosts.length).map(([x, y]) => [name(x), name(y)] as const),
    channelEdges: s.channelEdges,
    budgets: s.budgets
  }
  const f: FleetResolved = fleet(spec)
  const withClosure = CHANNELS.filter((c) => hosts.some((h) => h.channel === c && h.closure))
  const set0 = manifests(f, Object.fromEntries(withClosure.map((c) => [c, "r1"])))
  const set: ManifestSet = { fleet: f, rollouts: shuffledMap(set0.rollouts, seed) }
  const live = withClosure.filter((c) => s.rollouts[c].exists)
  const records = hosts
    .filter((h) => h.closure && live.includes(h.channel))
    .map((h) => ({ rollout: `${h.channel}@r1`, host: h.name, state: h.state, acked: h.acked }))
  const state0 = fleetState(
    live.map((c) => ({ id: `${c}@r1`, currentWave: s.rollouts[c].wave, terminal: s.rollouts[c].terminal })),
    shuffle(records, seed),
    hosts.filter((h) => h.probes > 0 && live.includes(h.channel)).map((h) => [`${h.channel}@r1`, h.name, h.probes] as const),
    set0
  )
  const state: FleetState = {
    rollouts: shuffledMap(state0.rollouts, seed),
    hostStates: new Map(shuffle([...state0.hostStates], seed).map(([k, v]) => [k, shuffledMap(v, seed)])),
    outstandingFailingEnforceProbes: shuffledMap(state0.outstandingFailingEnforceProbes, seed)
  }
  const quarantines = new Map(
    shuffle(
      CHANNELS.map((c) => [ch(c), new Set(hosts.filter((h) => h.channel === c && h.quarantined).map((h) => closure(`${h.name}-closure`)))] as const),
      seed
    )
  )
  return { set, state, quarantines }
}

/** In-flight hosts per budget key, computed naively from the spec text (first budget per key of every rollout). */
const inFlightByKey = (state: FleetState, records: ReadonlyMap<RolloutId, ReadonlyMap<HostId, HostRolloutState>>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const [r, summary] of state.rollouts) {
    const keys = new Set<string>()
    for (const b of summary.budgets) {
      const key = selectorKey(b.selector)
      if (keys.has(key)) continue
      keys.add(key)
      const n = [...(records.get(r) ?? new Map<HostId, HostRolloutState>())].filter(
        ([h, st]) => b.hosts.includes(h) && (st.state === "Activating" || st.state === "Soaking")
      ).length
      counts.set(key, (counts.get(key) ?? 0) + n)
    }
  }
  return counts
}

describe("planNext: properties", () => {
  it.prop(
    "deterministic: same input gives the same output, whatever the maps' insertion order or a prepared index",
    [arbScenario],
    ([s]) => {
      const plain = materialize(s, null)
      const shuffled = materialize(s, s.seed)
      const out = planNext(plain.set, plain.state, plain.quarantines, T0)
      expect(planNext(plain.set, plain.state, plain.quarantines, T0)).toEqual(out)
      expect(planNext(shuffled.set, shuffled.state, shuffled.quarantines, T0)).toEqual(out)
      expect(planNext(prepareManifestSet(shuffled.set), shuffled.state, shuffled.quarantines, T0)).toEqual(out)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "budget safety: after applying the QueueDispatch actions, no budget exceeds its effective max",
    [arbScenario],
    ([s]) => {
      const { set, state, quarantines } = materialize(s, s.seed)
      const actions = planNext(set, state, quarantines, T0)
      const after = new Map<RolloutId, Map<HostId, HostRolloutState>>([...state.hostStates].map(([r, m]) => [r, new Map(m)]))
      for (const a of actions) {
        if (a._tag !== "QueueDispatch") continue
        const st = after.get(a.rollout)?.get(a.host)
        expect(st?.state).toBe("Pending")
        if (st !== undefined) after.get(a.rollout)?.set(a.host, { ...st, state: "Activating" })
      }
      const before = inFlightByKey(state, state.hostStates)
      const now = inFlightByKey(state, after)
      for (const summary of state.rollouts.values()) {
        for (const b of summary.budgets) {
          const max = effectiveMaxInFlight(b)
          if (max === null) continue
          const key = selectorKey(b.selector)
          expect(now.get(key) ?? 0).toBeLessThanOrEqual(Math.max(before.get(key) ?? 0, max))
        }
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("budget safety: regression with a saturated budget and a dispatch-ready host", () => {
    const f = fleet({ hosts: { h00: { channel: "a" }, h01: { channel: "a" } }, budgets: [{ selector: { all: true }, maxInFlight: 1 }] })
    const set = manifests(f, { a: "r1" })
    const state = fleetState([{ id: "a@r1" }], [{ rollout: "a@r1", host: "h00", state: "Soaking" }, { rollout: "a@r1", host: "h01", state: "Pending" }], [], set)
    expect(planNext(set, state, new Map(), T0).filter((a) => a._tag === "QueueDispatch")).toEqual([])
  })
})
