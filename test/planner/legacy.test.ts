/**
 * The legacy v0.1 fixture scenarios that still make sense under the v0.2 planner, data-driven:
 * rows → buildFleetState → advanceCurrentWaves → planNext, compared in order (see
 * legacyScenarios.ts for which scenarios are ported and why the others are not).
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChannelRef, newRolloutRecord, ts } from "../../src/domain/index.js"
import { advanceCurrentWaves, buildFleetState, type PlanAction, planNext } from "../../src/planner/index.js"
import { ch, fleet, manifests, noQuarantine, record, rid } from "./builders.js"
import { type ExpectedAction, LEGACY_SCENARIOS } from "./legacyScenarios.js"

const NOW = ts("2026-04-24T10:00:00Z")

const compact = (a: PlanAction): ExpectedAction =>
  a._tag === "OpenRollout"
    ? { open: a.rolloutId }
    : a._tag === "QueueDispatch"
      ? { queue: a.host, rollout: a.rollout }
      : { defer: a.host, rollout: a.rollout, gate: a.gate, reason: a.reason }

describe("legacy fixtures under the v0.2 planner", () => {
  for (const s of LEGACY_SCENARIOS) {
    it(`${s.name} (v0.1: ${s.legacy})`, () => {
      const f = fleet(s.fleet)
      const set = manifests(f, s.manifests)
      const rows = s.rollouts.map((r) => ({
        ...newRolloutRecord({ rolloutId: rid(`${r.channel}@${r.ref}`), channel: ch(r.channel), targetRef: r.ref as ChannelRef, openedAt: NOW }),
        state: r.terminal === true ? ("Terminal" as const) : ("Active" as const),
        currentWave: r.currentWave ?? 0,
        terminalAt: r.terminal === true ? NOW : null
      }))
      const records = s.hosts.map(([rollout, host, state]) => record({ rollout, host, state }))
      const { fleetState, advanced } = advanceCurrentWaves(set, buildFleetState(set, records, rows))
      expect(advanced.map((a) => [a.rolloutId, a.toWave])).toEqual(s.expectedAdvances)
      expect(planNext(set, fleetState, noQuarantine, NOW).map(compact)).toEqual(s.expectedActions)
    })
  }
})
