/**
 * Planner behaviour beyond the reference lines: the honoured `maxInFlightPct` (DESIGN.md), the
 * per-tick budget accumulator across rollouts, `explain`, `buildFleetState` and
 * `advanceCurrentWaves`.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChannelRef, newRolloutRecord, type RolloutBudget } from "../../src/domain/index.js"
import {
  advanceCurrentWaves,
  buildFleetState,
  effectiveMaxInFlight,
  explain,
  type PlanAction,
  planNext,
  prepareManifestSet
} from "../../src/planner/index.js"
import { ch, fleet, fleetState, hid, manifests, noQuarantine, quarantine, record, rid, T0 } from "./builders.js"

const names = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i).padStart(2, "0")}`)
const summary = (actions: ReadonlyArray<PlanAction>) =>
  actions.map((a) => (a._tag === "QueueDispatch" ? `queue ${a.host}` : a._tag === "DeferDispatch" ? `defer ${a.host} ${a.reason}` : `open ${a.rolloutId}`))

const budget = (n: number, maxInFlight: number | null, maxInFlightPct: number | null): RolloutBudget => ({
  selector: { tags: [], tagsAny: [], hosts: [], channel: null, all: true },
  hosts: names(n).map(hid),
  maxInFlight,
  maxInFlightPct
})

describe("disruption budget: maxInFlightPct honoured", () => {
  it("effective max is ceil(pct × hosts / 100), min with maxInFlight, either alone, null with neither", () => {
    expect(effectiveMaxInFlight(budget(10, null, 30))).toBe(3)
    expect(effectiveMaxInFlight(budget(10, null, 25))).toBe(3)
    expect(effectiveMaxInFlight(budget(10, 2, 30))).toBe(2)
    expect(effectiveMaxInFlight(budget(10, 5, 30))).toBe(3)
    expect(effectiveMaxInFlight(budget(10, 4, null))).toBe(4)
    expect(effectiveMaxInFlight(budget(10, null, 0))).toBe(0)
    expect(effectiveMaxInFlight(budget(10, null, null))).toBeNull()
    expect(effectiveMaxInFlight(budget(3, null, 1))).toBe(1)
  })

  it("planNext queues ceil(30% of 10) = 3 hosts, then defers the rest with the budget reason", () => {
    const f = fleet({ hosts: Object.fromEntries(names(10).map((h) => [h, { channel: "stable" }])), budgets: [{ selector: { all: true }, maxInFlightPct: 30 }] })
    const set = manifests(f, { stable: "r1" })
    const state = fleetState([{ id: "stable@r1" }], names(10).map((host) => ({ rollout: "stable@r1", host, state: "Pending" as const })), [], set)
    const actions = summary(planNext(set, state, noQuarantine, T0))
    expect(actions.slice(0, 4)).toEqual(["queue h00", "queue h01", "queue h02", "defer h03 disruption-budget: 3/3 in flight (all)"])
    expect(actions.filter((a) => a.startsWith("queue"))).toHaveLength(3)
  })

  it("live in-flight hosts and this tick's dispatches share the budget", () => {
    const f = fleet({ hosts: Object.fromEntries(names(10).map((h) => [h, { channel: "stable" }])), budgets: [{ selector: { all: true }, maxInFlight: 5, maxInFlightPct: 30 }] })
    const set = manifests(f, { stable: "r1" })
    const state = fleetState(
      [{ id: "stable@r1" }],
      [{ rollout: "stable@r1", host: "h09", state: "Soaking" as const }, ...names(9).map((host) => ({ rollout: "stable@r1", host, state: "Pending" as const }))],
      [],
      set
    )
    expect(summary(planNext(set, state, noQuarantine, T0)).slice(0, 3)).toEqual(["queue h00", "queue h01", "defer h02 disruption-budget: 3/3 in flight (all)"])
  })
})

describe("per-tick accumulator across rollouts", () => {
  it("two channels sharing a selector get one slot between them; the sorted-first rollout wins", () => {
    const f = fleet({ hosts: { a1: { channel: "alpha" }, b1: { channel: "beta" } }, budgets: [{ selector: { all: true }, maxInFlight: 1 }] })
    const set = manifests(f, { alpha: "r1", beta: "r1" })
    const state = fleetState(
      [{ id: "beta@r1" }, { id: "alpha@r1" }],
      [{ rollout: "beta@r1", host: "b1", state: "Pending" }, { rollout: "alpha@r1", host: "a1", state: "Pending" }],
      [],
      set
    )
    expect(summary(planNext(set, state, noQuarantine, T0))).toEqual(["queue a1", "defer b1 disruption-budget: 1/1 in flight (all)"])
  })

  it("a deferred host does not count against the budget; an unlimited budget still counts queued hosts", () => {
    const f = fleet({
      hosts: { h1: { channel: "s" }, h2: { channel: "s" }, h3: { channel: "s" } },
      budgets: [{ selector: { hosts: ["h1", "h2", "h3"] } }, { selector: { all: true }, maxInFlight: 1 }]
    })
    const set = manifests(f, { s: "r1" })
    const state = fleetState([{ id: "s@r1" }], ["h1", "h2", "h3"].map((host) => ({ rollout: "s@r1", host, state: "Pending" as const })), [], set)
    const actions = summary(planNext(set, state, quarantine([["s", "h1-closure"]]), T0))
    expect(actions).toEqual([
      "defer h1 channel s closure h1-closure quarantined (sustained probe failures); push a new closure to clear",
      "queue h2",
      "defer h3 disruption-budget: 1/1 in flight (all)"
    ])
  })

  it("budget membership is exact even when a manifest's budget hosts are not sorted", () => {
    const f = fleet({ hosts: { h1: { channel: "s" }, h2: { channel: "s" }, h3: { channel: "s" } } })
    const set = manifests(f, { s: "r1" })
    const unsorted: RolloutBudget = { ...budget(0, 1, null), hosts: ["h3", "h1"].map(hid) }
    const state = fleetState([{ id: "s@r1", budgets: [unsorted] }], ["h1", "h2", "h3"].map((host) => ({ rollout: "s@r1", host, state: "Pending" as const })))
    expect(summary(planNext(set, state, noQuarantine, T0))).toEqual(["queue h1", "queue h2", "defer h3 disruption-budget: 1/1 in flight (all)"])
  })
})

describe("explain", () => {
  const f = fleet({
    hosts: Object.fromEntries(names(4).map((h) => [h, { channel: "stable" }])),
    waves: { stable: [["h00", "h01", "h02"], ["h03"]] },
    budgets: [{ selector: { all: true }, maxInFlight: 2 }]
  })
  const set = manifests(f, { stable: "r1" })
  const state = fleetState([{ id: "stable@r1" }], names(4).map((host) => ({ rollout: "stable@r1", host, state: "Pending" as const })), [], set)

  it("returns every gate's verdict in order, with the tick accumulator as planNext has it at that host", () => {
    const e = explain(hid("h02"), set, state, noQuarantine, T0)
    expect(e?.verdicts.map((v) => v.gate)).toEqual(["quarantine", "channel_edges", "wave_promotion", "host_edges", "disruption_budget", "compliance_wave"])
    expect(e?.verdicts.filter((v) => v.block !== null).map((v) => v.block)).toEqual([
      { _tag: "DisruptionBudget", inFlight: 2, max: 2, selectorSummary: "all" }
    ])
    const deferred = planNext(set, state, noQuarantine, T0).find((a) => a._tag === "DeferDispatch" && a.host === "h02")
    expect(deferred).toMatchObject({ block: e?.firstBlock })
    expect(e?.considered).toBe(true)
  })

  it("reports every blocking gate, not only the first", () => {
    const e = explain(hid("h03"), set, state, quarantine([["stable", "h03-closure"]]), T0)
    expect(e?.verdicts.filter((v) => v.block !== null).map((v) => v.gate)).toEqual(["quarantine", "wave_promotion", "disruption_budget"])
    expect(e?.firstBlock?._tag).toBe("Quarantined")
  })

  it("a first host passes everything; a non-Pending host is not considered; an unknown host gives null", () => {
    expect(explain(hid("h00"), set, state, noQuarantine, T0)?.firstBlock).toBeNull()
    const soaking = fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h00", state: "Soaking" }], [], set)
    expect(explain(hid("h00"), set, soaking, noQuarantine, T0)).toMatchObject({ considered: false, state: "Soaking", rolloutId: "stable@r1" })
    expect(explain(hid("nope"), set, state, noQuarantine, T0)).toBeNull()
  })
})

describe("buildFleetState", () => {
  const f = fleet({ hosts: { b: { channel: "s" }, a: { channel: "s" }, x: { channel: "t" } }, budgets: [{ selector: { all: true }, maxInFlight: 1 }] })
  const set = manifests(f, { s: "r2", t: "r1" })
  const row = (id: string, currentWave = 0) => ({
    ...newRolloutRecord({ rolloutId: rid(id), channel: ch(id.slice(0, id.indexOf("@"))), targetRef: id.slice(id.indexOf("@") + 1) as ChannelRef, openedAt: T0 }),
    currentWave
  })

  it("keeps only each channel's current rollout; summary only with a row; budgets from the manifest; hosts sorted", () => {
    const state = buildFleetState(
      set,
      [record({ rollout: "s@r2", host: "b", state: "Pending" }), record({ rollout: "s@r1", host: "a", state: "Soaking" }), record({ rollout: "s@r2", host: "a", state: "Pending" }), record({ rollout: "t@r1", host: "x", state: "Pending" })],
      [row("s@r2", 1), row("s@r1")],
      [{ rolloutId: rid("s@r2"), hostname: hid("a"), count: 2 }]
    )
    expect([...state.rollouts.keys()]).toEqual(["s@r2"])
    expect(state.rollouts.get(rid("s@r2"))).toMatchObject({ channel: "s", targetRef: "r2", currentWave: 1, terminalAt: null, budgets: set.rollouts.get(ch("s"))?.disruptionBudgets })
    expect([...state.hostStates.keys()].sort()).toEqual(["s@r2", "t@r1"])
    expect([...(state.hostStates.get(rid("s@r2"))?.keys() ?? [])]).toEqual(["a", "b"])
    expect(state.outstandingFailingEnforceProbes.get(rid("s@r2"))?.get(hid("a"))).toBe(2)
  })
})

describe("advanceCurrentWaves", () => {
  const spec = {
    hosts: { h1: { channel: "s" }, h2: { channel: "s" }, h3: { channel: "s" }, nc: { channel: "s", closure: null } },
    waves: { s: [["h1", "nc"], ["h2"], [], ["h3"]] }
  }
  const set = manifests(fleet(spec), { s: "r1" })
  const advance = (wave: number, rows: ReadonlyArray<readonly [string, "Converged" | "Deferred" | "Soaking" | "Failed"]>, terminal = false) =>
    advanceCurrentWaves(set, fleetState([{ id: "s@r1", currentWave: wave, terminal }], rows.map(([host, state]) => ({ rollout: "s@r1", host, state }))))

  it("promotes by one when every participating host of the current wave is Converged or Deferred", () => {
    const r = advance(0, [["h1", "Converged"]])
    expect(r.advanced).toEqual([{ rolloutId: "s@r1", fromWave: 0, toWave: 1 }])
    expect(r.fleetState.rollouts.get(rid("s@r1"))?.currentWave).toBe(1)
    expect(advance(1, [["h2", "Deferred"]]).advanced).toHaveLength(1)
  })

  it("holds while a host is Soaking or Failed, or has no record", () => {
    expect(advance(0, [["h1", "Soaking"]]).advanced).toEqual([])
    expect(advance(0, [["h1", "Failed"]]).advanced).toEqual([])
    expect(advance(0, []).advanced).toEqual([])
  })

  it("never promotes an empty wave, past the last wave, or a terminal rollout; leaves the input untouched", () => {
    expect(advance(2, []).advanced).toEqual([])
    expect(advance(3, [["h3", "Converged"]]).advanced).toEqual([])
    expect(advance(0, [["h1", "Converged"]], true).advanced).toEqual([])
    const before = fleetState([{ id: "s@r1", currentWave: 0 }], [{ rollout: "s@r1", host: "h1", state: "Converged" }])
    advanceCurrentWaves(set, before)
    expect(before.rollouts.get(rid("s@r1"))?.currentWave).toBe(0)
  })
})

describe("prepareManifestSet", () => {
  const f = fleet({ hosts: { h1: { channel: "s" }, h2: { channel: "s" } }, waves: { s: [["h1"], ["h2"]] } })
  const set = manifests(f, { s: "r1" })
  const state = fleetState([{ id: "s@r1" }], ["h1", "h2"].map((host) => ({ rollout: "s@r1", host, state: "Pending" as const })), [], set)

  it("a prepared set plans exactly as the plain one", () => {
    expect(planNext(prepareManifestSet(set), state, noQuarantine, T0)).toEqual(planNext(set, state, noQuarantine, T0))
  })

  it("an index built for other objects is ignored, so it can never go stale", () => {
    const flat = manifests(fleet({ hosts: { h1: { channel: "s" }, h2: { channel: "s" } } }), { s: "r1" })
    const stale = { ...set, index: prepareManifestSet(flat).index }
    expect(summary(planNext(stale, state, noQuarantine, T0))).toEqual(["queue h1", "defer h2 wave-promotion: host_wave=1 > current_wave=0"])
  })
})
