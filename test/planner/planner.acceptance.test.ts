/**
 * Planner acceptance tests, ported one per line from spec planner-gates-trust §6 (P1–P7), plus
 * the §5 walkthrough on the example fleet.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fs from "node:fs"
import { FleetResolved, ts } from "../../src/domain/index.js"
import { computeSoakDueAt, planNext, type PlanAction } from "../../src/planner/index.js"
import { closure, fleet, fleetState, hid, manifests, noQuarantine, quarantine, rid, T0 } from "./builders.js"

const oneHost = fleet({ hosts: { h1: { channel: "stable" } } })
const set = manifests(oneHost, { stable: "r1" })
const active = (records: Parameters<typeof fleetState>[1]) => fleetState([{ id: "stable@r1" }], records, [], set)
const tags = (actions: ReadonlyArray<PlanAction>) => actions.map((a) => a._tag)

describe("planner: planner.rs", () => {
  it("P1: Pending host, no gate → QueueDispatch{h1, r1}", () => {
    const actions = planNext(set, active([{ rollout: "stable@r1", host: "h1", state: "Pending" }]), noQuarantine, T0)
    expect(actions).toEqual([
      { _tag: "QueueDispatch", host: hid("h1"), rollout: rid("stable@r1"), targetClosure: closure("h1-closure"), soakDueAt: ts(T0 + 300_000) }
    ])
  })

  it("P1 (soakDueAt): a record without soakDueAt is queued with now", () => {
    const now = ts(T0 + 42_000)
    const actions = planNext(set, active([{ rollout: "stable@r1", host: "h1", state: "Pending", soakDueAt: null }]), noQuarantine, now)
    expect(actions).toMatchObject([{ _tag: "QueueDispatch", soakDueAt: now }])
  })

  it("P2: target closure in quarantines.stable → DeferDispatch gate quarantine, no QueueDispatch", () => {
    const actions = planNext(set, active([{ rollout: "stable@r1", host: "h1", state: "Pending" }]), quarantine([["stable", "h1-closure"]]), T0)
    expect(actions).toEqual([
      {
        _tag: "DeferDispatch",
        host: hid("h1"),
        rollout: rid("stable@r1"),
        gate: "quarantine",
        reason: "channel stable closure h1-closure quarantined (sustained probe failures); push a new closure to clear",
        block: { _tag: "Quarantined", channel: "stable", closureHash: "h1-closure" }
      }
    ])
  })

  it("P3: Pending with dispatchAckedAt → no QueueDispatch", () => {
    const actions = planNext(set, active([{ rollout: "stable@r1", host: "h1", state: "Pending", acked: true }]), noQuarantine, T0)
    expect(actions).toEqual([])
  })

  it("P3 (other states): Activating, Soaking, Converged, Deferred, Failed, Reverted hosts are not dispatched", () => {
    for (const state of ["Activating", "Soaking", "Converged", "Deferred", "Failed", "Reverted"] as const) {
      expect(planNext(set, active([{ rollout: "stable@r1", host: "h1", state }]), noQuarantine, T0)).toEqual([])
    }
  })

  it("P4: manifest {stable, r1}, empty state → OpenRollout{rolloutId: stable@r1, targetRef: r1}", () => {
    const actions = planNext(set, fleetState([], []), noQuarantine, T0)
    expect(actions).toEqual([{ _tag: "OpenRollout", rolloutId: "stable@r1", channel: "stable", targetRef: "r1" }])
  })

  it("P5: Terminal stable@r1 present → no OpenRollout", () => {
    const actions = planNext(set, fleetState([{ id: "stable@r1", terminal: true }], [{ rollout: "stable@r1", host: "h1", state: "Converged" }]), noQuarantine, T0)
    expect(actions).toEqual([])
  })

  it("P5 (terminal rollouts): a terminal rollout's Pending hosts are not dispatched", () => {
    const actions = planNext(set, fleetState([{ id: "stable@r1", terminal: true }], [{ rollout: "stable@r1", host: "h1", state: "Pending" }]), noQuarantine, T0)
    expect(actions).toEqual([])
  })

  it("P6: manifest r2 while stable@r1 active → OpenRollout stable@r2", () => {
    const r2 = manifests(oneHost, { stable: "r2" })
    const actions = planNext(r2, active([{ rollout: "stable@r1", host: "h1", state: "Soaking" }]), noQuarantine, T0)
    expect(actions).toEqual([{ _tag: "OpenRollout", rolloutId: "stable@r2", channel: "stable", targetRef: "r2" }])
  })

  it("P7: computeSoakDueAt(t0, 5) = t0 + 5 min; (t0, 0) = t0", () => {
    expect(computeSoakDueAt(T0, 5)).toBe(ts("2026-05-16T01:05:00Z"))
    expect(computeSoakDueAt(T0, 0)).toBe(T0)
  })

  it("order: every OpenRollout precedes every dispatch action", () => {
    const two = fleet({ hosts: { h1: { channel: "stable" }, a1: { channel: "alpha" } } })
    const m = manifests(two, { stable: "r1", alpha: "r1" })
    const actions = planNext(m, fleetState([{ id: "stable@r1" }], [{ rollout: "stable@r1", host: "h1", state: "Pending" }], [], m), noQuarantine, T0)
    expect(tags(actions)).toEqual(["OpenRollout", "QueueDispatch"])
  })
})

describe("planner: §5 walkthrough on the example fleet", () => {
  const example = Schema.decodeUnknownSync(FleetResolved)(
    JSON.parse(fs.readFileSync(new URL("../fixtures/planner/example-fleet.json", import.meta.url), "utf8"))
  )
  const set5 = manifests(example, { infra: "def4567abc", stable: "def4567abc" })
  const pending = (rollout: string, host: string) => ({ rollout, host, state: "Pending" as const })
  const compact = (actions: ReadonlyArray<PlanAction>) =>
    actions.map((a) => (a._tag === "OpenRollout" ? `open ${a.rolloutId}` : a._tag === "QueueDispatch" ? `queue ${a.host}` : `defer ${a.host} ${a.gate}`))

  it("tick 1: OpenRollout for infra@def4567abc and stable@def4567abc", () => {
    expect(compact(planNext(set5, fleetState([], []), noQuarantine, T0))).toEqual(["open infra@def4567abc", "open stable@def4567abc"])
  })

  it("tick 2: db-01 queued; web-01 and web-02 deferred by channel-edges", () => {
    const state = fleetState(
      [{ id: "infra@def4567abc" }, { id: "stable@def4567abc" }],
      [pending("infra@def4567abc", "db-01"), pending("stable@def4567abc", "web-01"), pending("stable@def4567abc", "web-02")],
      [],
      set5
    )
    expect(compact(planNext(set5, state, noQuarantine, T0))).toEqual(["queue db-01", "defer web-01 channel-edges", "defer web-02 channel-edges"])
  })

  it("after db-01 converges: web-01 queued; web-02 deferred by wave-promotion (host_wave=1 > current_wave=0)", () => {
    const state = fleetState(
      [{ id: "infra@def4567abc", terminal: true }, { id: "stable@def4567abc" }],
      [{ rollout: "infra@def4567abc", host: "db-01", state: "Converged" }, pending("stable@def4567abc", "web-01"), pending("stable@def4567abc", "web-02")],
      [],
      set5
    )
    const actions = planNext(set5, state, noQuarantine, T0)
    expect(compact(actions)).toEqual(["queue web-01", "defer web-02 wave-promotion"])
    expect(actions[1]).toMatchObject({ reason: "wave-promotion: host_wave=1 > current_wave=0" })
  })
})
