/**
 * Gate acceptance tests, ported one per line from spec planner-gates-trust §6 (G1–G19): each gate
 * on its own (as the reference's `planner_gates/tests.rs`), then through the whole stack.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  checkChannelEdges,
  checkComplianceWave,
  checkDisruptionBudget,
  checkHostEdges,
  checkQuarantine,
  checkWavePromotion,
  evaluateForDispatch,
  type FleetState,
  type GateCheck,
  makeGateContext,
  type ManifestSet,
  type QuarantineSet
} from "../../src/planner/index.js"
import { selectorKey } from "../../src/domain/index.js"
import { ch, closure, fleet, type FleetSpec, fleetState, hid, manifests, noQuarantine, quarantine, rid } from "./builders.js"

interface Case {
  readonly set: ManifestSet
  readonly state: FleetState
  readonly quarantines?: QuarantineSet
  readonly host: string
  readonly rollout?: string
  readonly tick?: ReadonlyMap<string, number>
}

const run = (gate: GateCheck, c: Case) => {
  const rollout = rid(c.rollout ?? "stable@r1")
  const channel = c.state.rollouts.get(rollout)?.channel ?? ch(rollout.slice(0, rollout.indexOf("@")))
  const ctx = makeGateContext(c.set, c.state, c.quarantines ?? noQuarantine)
  const candidate = { rolloutId: rollout, host: hid(c.host), targetClosure: closure(`${c.host}-closure`), channel }
  return gate(ctx, candidate, c.tick ?? new Map())
}

const stable = (spec: Omit<FleetSpec, "hosts"> = {}, hosts: FleetSpec["hosts"] = { h1: { channel: "stable" }, h2: { channel: "stable" } }) =>
  fleet({ ...spec, hosts })

describe("gate: quarantine", () => {
  const f = stable()
  const set = manifests(f, { stable: "r1" })
  const state = fleetState([{ id: "stable@r1" }], [], [], set)

  it("G1: blocks when the target closure is in the channel's set", () => {
    expect(run(checkQuarantine, { set, state, host: "h1", quarantines: quarantine([["stable", "h1-closure"]]) })).toEqual({
      _tag: "Quarantined",
      channel: "stable",
      closureHash: "h1-closure"
    })
  })

  it("G2: passes on an empty map (and when another channel or closure is quarantined)", () => {
    expect(run(checkQuarantine, { set, state, host: "h1" })).toBeNull()
    expect(run(checkQuarantine, { set, state, host: "h1", quarantines: quarantine([["other", "h1-closure"], ["stable", "x"]]) })).toBeNull()
  })
})

describe("gate: channel_edges", () => {
  const f = fleet({ hosts: { db: { channel: "infra" }, h1: { channel: "stable" } }, channelEdges: [["infra", "stable"]] })
  const both = manifests(f, { infra: "r1", stable: "r1" })

  it("G3: infra→stable blocks while the predecessor rollout is not terminal", () => {
    const state = fleetState([{ id: "infra@r1" }, { id: "stable@r1" }], [], [], both)
    expect(run(checkChannelEdges, { set: both, state, host: "h1" })).toEqual({ _tag: "ChannelEdges", predecessorChannel: "infra" })
  })

  it("G4: passes when the predecessor rollout is terminal", () => {
    const state = fleetState([{ id: "infra@r1", terminal: true }, { id: "stable@r1" }], [], [], both)
    expect(run(checkChannelEdges, { set: both, state, host: "h1" })).toBeNull()
  })

  it("G5: blocks when the predecessor has a manifest but no rollout row", () => {
    const state = fleetState([{ id: "stable@r1" }], [], [], both)
    expect(run(checkChannelEdges, { set: both, state, host: "h1" })).toEqual({ _tag: "ChannelEdges", predecessorChannel: "infra" })
  })

  it("G6: passes when the predecessor has no manifest", () => {
    const onlyStable = manifests(f, { stable: "r1" })
    const state = fleetState([{ id: "stable@r1" }], [], [], onlyStable)
    expect(run(checkChannelEdges, { set: onlyStable, state, host: "h1" })).toBeNull()
  })

  it("G3 (first blocking predecessor reported, in edge order)", () => {
    const f3 = fleet({
      hosts: { a: { channel: "a" }, b: { channel: "b" }, h1: { channel: "stable" } },
      channelEdges: [["a", "stable"], ["b", "stable"]]
    })
    const set = manifests(f3, { a: "r1", b: "r1", stable: "r1" })
    const state = fleetState([{ id: "a@r1", terminal: true }, { id: "b@r1" }, { id: "stable@r1" }], [], [], set)
    expect(run(checkChannelEdges, { set, state, host: "h1" })).toEqual({ _tag: "ChannelEdges", predecessorChannel: "b" })
  })

  it("A8: one Deferred host keeps the predecessor non-terminal, so the successor stays blocked", () => {
    const state = fleetState([{ id: "infra@r1" }, { id: "stable@r1" }], [{ rollout: "infra@r1", host: "db", state: "Deferred" }], [], both)
    expect(run(checkChannelEdges, { set: both, state, host: "h1" })).toEqual({ _tag: "ChannelEdges", predecessorChannel: "infra" })
  })
})

describe("gate: wave_promotion", () => {
  const waved = stable({ waves: { stable: [["h1"], ["h2"]] } }, { h1: { channel: "stable" }, h2: { channel: "stable" }, ghost: { channel: "stable" } })
  const set = manifests(waved, { stable: "r1" })
  const state = fleetState([{ id: "stable@r1", currentWave: 0 }], [], [], set)

  it("G7: a wave-1 host at currentWave 0 → WavePromotion{1, 0}", () => {
    expect(run(checkWavePromotion, { set, state, host: "h2" })).toEqual({ _tag: "WavePromotion", hostWave: 1, currentWave: 0 })
  })

  it("G8: a wave-0 host passes", () => {
    expect(run(checkWavePromotion, { set, state, host: "h1" })).toBeNull()
  })

  it("G9: a host in no wave of a waved channel → HostUnstaged{stable}", () => {
    expect(run(checkWavePromotion, { set, state, host: "ghost" })).toEqual({ _tag: "HostUnstaged", channel: "stable" })
  })

  it("G10: a channel without waves passes", () => {
    const flat = manifests(stable(), { stable: "r1" })
    expect(run(checkWavePromotion, { set: flat, state: fleetState([{ id: "stable@r1" }], [], [], flat), host: "h2" })).toBeNull()
  })

  it("G7 (missing rollout row reads currentWave 0; promoted rollout passes)", () => {
    expect(run(checkWavePromotion, { set, state: fleetState([], []), host: "h2" })).toEqual({ _tag: "WavePromotion", hostWave: 1, currentWave: 0 })
    expect(run(checkWavePromotion, { set, state: fleetState([{ id: "stable@r1", currentWave: 1 }], [], [], set), host: "h2" })).toBeNull()
  })
})

describe("gate: host_edges", () => {
  const f = stable({ edges: [["h2", "h1"], ["h2", "x1"]] }, { h1: { channel: "stable" }, h2: { channel: "stable" }, x1: { channel: "other" } })
  const set = manifests(f, { stable: "r1" })
  const withH1 = (state: "Soaking" | "Converged" | "Deferred") =>
    fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h1", state }], [], set)

  it("G11: blocks while the gating host is Soaking", () => {
    expect(run(checkHostEdges, { set, state: withH1("Soaking"), host: "h2" })).toEqual({ _tag: "HostEdge", gatingHost: "h1" })
  })

  it("G12: passes when the gating host is Converged (also Deferred; the cross-channel edge is skipped)", () => {
    expect(run(checkHostEdges, { set, state: withH1("Converged"), host: "h2" })).toBeNull()
    expect(run(checkHostEdges, { set, state: withH1("Deferred"), host: "h2" })).toBeNull()
  })

  it("G11 (a missing gating record blocks)", () => {
    expect(run(checkHostEdges, { set, state: fleetState([{ id: "stable@r1" }], [], [], set), host: "h2" })).toEqual({ _tag: "HostEdge", gatingHost: "h1" })
  })

  it("A14: a same-channel gating host without a closure (never in the rollout) does not block forever", () => {
    const f14 = stable({ edges: [["h2", "h1"]] }, { h1: { channel: "stable", closure: null }, h2: { channel: "stable" } })
    const set14 = manifests(f14, { stable: "r1" })
    expect(run(checkHostEdges, { set: set14, state: fleetState([{ id: "stable@r1" }], [], [], set14), host: "h2" })).toBeNull()
  })
})

describe("gate: disruption_budget", () => {
  const budgetOf = (max: number) => stable({ budgets: [{ selector: { hosts: ["h1", "h2"] }, maxInFlight: max }] })
  const caseFor = (max: number, h1: "Activating" | "Converged" | "Pending" | "Soaking", host = "h2", tick?: ReadonlyMap<string, number>): Case => {
    const set = manifests(budgetOf(max), { stable: "r1" })
    const state = fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h1", state: h1 }], [], set)
    return tick === undefined ? { set, state, host } : { set, state, host, tick }
  }

  it("G13: budget {h1,h2} max 1 with h1 Activating blocks h2", () => {
    expect(run(checkDisruptionBudget, caseFor(1, "Activating"))).toEqual({ _tag: "DisruptionBudget", inFlight: 1, max: 1, selectorSummary: "hosts:h1,h2" })
  })

  it("G14: max 2 passes", () => {
    expect(run(checkDisruptionBudget, caseFor(2, "Activating"))).toBeNull()
  })

  it("G15: h1 Converged is not counted", () => {
    expect(run(checkDisruptionBudget, caseFor(1, "Converged"))).toBeNull()
  })

  it("G16: h1 Pending does not self-block", () => {
    expect(run(checkDisruptionBudget, caseFor(1, "Pending", "h1"))).toBeNull()
  })

  it("G17: tick count 1 + live 0 ≥ max 1 blocks", () => {
    const key = selectorKey({ tags: [], tagsAny: [], hosts: ["h1", "h2"], channel: null, all: false })
    expect(run(checkDisruptionBudget, caseFor(1, "Pending", "h2", new Map([[key, 1]])))).toEqual({
      _tag: "DisruptionBudget",
      inFlight: 1,
      max: 1,
      selectorSummary: "hosts:h1,h2"
    })
  })

  it("G13 (live count sums every rollout sharing the selector, terminal ones included)", () => {
    const f = fleet({
      hosts: { a1: { channel: "alpha" }, h1: { channel: "stable" }, h2: { channel: "stable" } },
      budgets: [{ selector: { all: true }, maxInFlight: 1 }]
    })
    const set = manifests(f, { alpha: "r1", stable: "r1" })
    const state = fleetState([{ id: "alpha@r1", terminal: true }, { id: "stable@r1" }], [{ rollout: "alpha@r1", host: "a1", state: "Soaking" }], [], set)
    expect(run(checkDisruptionBudget, { set, state, host: "h1" })).toEqual({ _tag: "DisruptionBudget", inFlight: 1, max: 1, selectorSummary: "all" })
  })

  it("max 0 blocks every host; a budget without limits never blocks", () => {
    expect(run(checkDisruptionBudget, caseFor(0, "Converged"))).toMatchObject({ _tag: "DisruptionBudget", inFlight: 0, max: 0 })
    const set = manifests(stable({ budgets: [{ selector: { all: true } }] }), { stable: "r1" })
    const state = fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h1", state: "Activating" }], [], set)
    expect(run(checkDisruptionBudget, { set, state, host: "h2" })).toBeNull()
  })
})

describe("gate: compliance_wave", () => {
  const f = stable({ waves: { stable: [["h1"], ["h2"]] } })
  const set = manifests(f, { stable: "r1" })

  it("G18: probes[r1][h1] = 2 blocks h2 (wave 1)", () => {
    const state = fleetState([{ id: "stable@r1" }], [], [["stable@r1", "h1", 2]], set)
    expect(run(checkComplianceWave, { set, state, host: "h2" })).toEqual({ _tag: "ComplianceWave", failingEventsCount: 2, hostWave: 1 })
  })

  it("G19: an empty map passes", () => {
    expect(run(checkComplianceWave, { set, state: fleetState([{ id: "stable@r1" }], [], [], set), host: "h2" })).toBeNull()
  })

  it("G18 (wave-0 hosts and failures in the same or later waves do not block)", () => {
    const state = fleetState([{ id: "stable@r1" }], [], [["stable@r1", "h2", 3]], set)
    expect(run(checkComplianceWave, { set, state, host: "h1" })).toBeNull()
    expect(run(checkComplianceWave, { set, state, host: "h2" })).toBeNull()
  })
})

describe("gate stack: evaluateForDispatch", () => {
  it("first block wins in the fixed order (quarantine before wave promotion)", () => {
    const f = stable({ waves: { stable: [["h1"], ["h2"]] } })
    const set = manifests(f, { stable: "r1" })
    const state = fleetState([{ id: "stable@r1" }], [], [], set)
    const ctx = makeGateContext(set, state, quarantine([["stable", "h2-closure"]]))
    const candidate = { rolloutId: rid("stable@r1"), host: hid("h2"), targetClosure: closure("h2-closure"), channel: ch("stable") }
    expect(evaluateForDispatch(ctx, candidate, new Map())?._tag).toBe("Quarantined")
    const open = makeGateContext(set, state, noQuarantine)
    expect(evaluateForDispatch(open, candidate, new Map())?._tag).toBe("WavePromotion")
  })
})
