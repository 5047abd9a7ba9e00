/**
 * Rollout reducer tests, ported one per line from spec state-machines §11 (29–50), plus
 * property tests over random event sequences.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import {
  type ChannelId,
  type ChannelRef,
  type HostId,
  type HostState,
  HOST_STATES,
  newRolloutRecord,
  type RolloutEffect,
  type RolloutEvent,
  type RolloutId,
  type RolloutRecord,
  type RolloutState
} from "../../src/domain/index.js"
import { stepRollout } from "../../src/machine/index.js"
import { left, right } from "../support/either.js"
import { at, T0 } from "../support/host.js"

const ID = "stable@r1" as RolloutId
const opening = (): RolloutRecord => newRolloutRecord({ rolloutId: ID, channel: "stable" as ChannelId, targetRef: "r1" as ChannelRef, openedAt: T0 })
const inRollout = (state: RolloutState, currentWave = 0): RolloutRecord => ({ ...opening(), state, currentWave })

const ev = {
  opened: (): RolloutEvent => ({ _tag: "RolloutOpened", rolloutId: ID, channel: "stable" as ChannelId, targetRef: "r1" as ChannelRef, at: at(1) }),
  joined: (wave: number): RolloutEvent => ({ _tag: "HostJoined", rolloutId: ID, hostId: "h1" as HostId, wave, at: at(2) }),
  hsc: (to: HostState, from: HostState = "Soaking"): RolloutEvent => ({ _tag: "HostStateChanged", rolloutId: ID, hostId: "h1" as HostId, from, to, at: at(3) }),
  wave: (fromWave: number, toWave: number): RolloutEvent => ({ _tag: "WaveAdvanced", rolloutId: ID, fromWave, toWave, at: at(4) }),
  terminal: (): RolloutEvent => ({ _tag: "RolloutTerminal", rolloutId: ID, at: at(5) }),
  successor: (): RolloutEvent => ({ _tag: "SuccessorOpened", supersededRolloutId: ID, successorRolloutId: "stable@r2" as RolloutId, at: at(6) }),
  retention: (): RolloutEvent => ({ _tag: "RetentionExpired", rolloutId: ID, at: at(7) }),
  clearance: (): RolloutEvent => ({ _tag: "OperatorClearance", rolloutId: ID, operator: "ops", reason: "fixed", at: at(8) })
}
const run = (record: RolloutRecord, e: RolloutEvent) => stepRollout(record, e, T0)
const rrt = (from: RolloutState, to: RolloutState, t: number) => ({ _tag: "RecordRolloutTransition", rolloutId: ID, from, to, at: at(t) })

describe("rollout step: unit tests", () => {
  it("29: Opening: HostJoined(0) → Active with one RRT", () => {
    const t = right(run(opening(), ev.joined(0)))
    expect(t.record.state).toBe("Active")
    expect(t.effects).toEqual([rrt("Opening", "Active", 2)])
  })

  it("30: Opening: HostJoined(2) → currentWave stays 0, no UCW", () => {
    const t = right(run(opening(), ev.joined(2)))
    expect(t.record.currentWave).toBe(0)
    expect(t.effects.map((e) => e._tag)).toEqual(["RecordRolloutTransition"])
  })

  it("31: Opening: SuccessorOpened → Superseded with supersededAt", () => {
    const t = right(run(opening(), ev.successor()))
    expect(t.record).toMatchObject({ state: "Superseded", supersededAt: at(6) })
  })

  it("32: Opening: RolloutTerminal and HostStateChanged → Illegal", () => {
    expect(left(run(opening(), ev.terminal()))).toMatchObject({ _tag: "RolloutIllegalForState", from: "Opening", event: "RolloutTerminal" })
    expect(left(run(opening(), ev.hsc("Failed")))).toMatchObject({ _tag: "RolloutIllegalForState", from: "Opening", event: "HostStateChanged" })
  })

  it("33: Active: HSC(to Reverted) → Reverted; HSC(to Failed) → Failed", () => {
    expect(right(run(inRollout("Active"), ev.hsc("Reverted", "Failed"))).record.state).toBe("Reverted")
    expect(right(run(inRollout("Active"), ev.hsc("Failed"))).effects).toEqual([rrt("Active", "Failed", 3)])
  })

  it("34: Active: HSC(to Soaking) → no effects", () => {
    const t = right(run(inRollout("Active"), ev.hsc("Soaking", "Activating")))
    expect(t).toEqual({ record: inRollout("Active"), effects: [] })
  })

  it("35: Active: WaveAdvanced(0→1) → currentWave = 1 plus UCW(1)", () => {
    const t = right(run(inRollout("Active"), ev.wave(0, 1)))
    expect(t.record).toMatchObject({ state: "Active", currentWave: 1 })
    expect(t.effects).toEqual([{ _tag: "UpdateCurrentWave", rolloutId: ID, wave: 1 }])
  })

  it("36: Active: WaveAdvanced(0→0) → Converging", () => {
    const t = right(run(inRollout("Active"), ev.wave(0, 0)))
    expect(t.record.state).toBe("Converging")
    expect(t.effects).toEqual([rrt("Active", "Converging", 4)])
  })

  it("37: Active: RolloutTerminal → Terminal with terminalAt", () => {
    expect(right(run(inRollout("Active"), ev.terminal())).record).toMatchObject({ state: "Terminal", terminalAt: at(5) })
  })

  it("38: Active: SuccessorOpened → supersededAt set", () => {
    expect(right(run(inRollout("Active"), ev.successor())).record).toMatchObject({ state: "Superseded", supersededAt: at(6) })
  })

  it("39: Active: RolloutOpened → Illegal", () => {
    expect(left(run(inRollout("Active"), ev.opened()))._tag).toBe("RolloutIllegalForState")
  })

  it("40: Converging: WaveAdvanced(0→1) → Active with currentWave = 1", () => {
    const t = right(run(inRollout("Converging"), ev.wave(0, 1)))
    expect(t.record).toMatchObject({ state: "Active", currentWave: 1 })
    expect(t.effects).toEqual([rrt("Converging", "Active", 4), { _tag: "UpdateCurrentWave", rolloutId: ID, wave: 1 }])
  })

  it("41: Converging: RolloutTerminal → Terminal; HSC(to Failed) → Failed", () => {
    expect(right(run(inRollout("Converging"), ev.terminal())).record).toMatchObject({ state: "Terminal", terminalAt: at(5) })
    expect(right(run(inRollout("Converging"), ev.hsc("Failed"))).record.state).toBe("Failed")
  })

  it("42: Terminal: SuccessorOpened → Superseded; RetentionExpired → Pruned; repeated RolloutTerminal → noop", () => {
    const terminal = right(run(inRollout("Active"), ev.terminal())).record
    expect(right(run(terminal, ev.successor())).record).toMatchObject({ state: "Superseded", terminalAt: at(5), supersededAt: at(6) })
    expect(right(run(terminal, ev.retention())).record.state).toBe("Pruned")
    expect(right(run(terminal, ev.terminal()))).toEqual({ record: terminal, effects: [] })
  })

  it("43: Reverted and Failed: SuccessorOpened → Superseded; RetentionExpired → Pruned", () => {
    for (const s of ["Reverted", "Failed"] as const) {
      expect(right(run(inRollout(s), ev.successor())).effects).toEqual([rrt(s, "Superseded", 6)])
      expect(right(run(inRollout(s), ev.retention())).effects).toEqual([rrt(s, "Pruned", 7)])
    }
  })

  it("44: Superseded: RetentionExpired → Pruned; repeated SuccessorOpened → noop", () => {
    expect(right(run(inRollout("Superseded"), ev.retention())).record.state).toBe("Pruned")
    expect(right(run(inRollout("Superseded"), ev.successor()))).toEqual({ record: inRollout("Superseded"), effects: [] })
  })

  it("45: Pruned: any event → Illegal{from: Pruned}", () => {
    for (const e of Object.values(ev).map((f) => (f as (...a: Array<number | HostState>) => RolloutEvent)(0, 1))) {
      expect(left(run(inRollout("Pruned"), e))).toMatchObject({ _tag: "RolloutIllegalForState", from: "Pruned" })
    }
  })

  it("§12.13: OperatorClearance → Unimplemented in Reverted and Failed, Illegal elsewhere", () => {
    expect(left(run(inRollout("Reverted"), ev.clearance()))._tag).toBe("RolloutUnimplemented")
    expect(left(run(inRollout("Failed"), ev.clearance()))._tag).toBe("RolloutUnimplemented")
    expect(left(run(inRollout("Active"), ev.clearance()))._tag).toBe("RolloutIllegalForState")
  })

  it("§12.10: Failed ignores a later HSC(to Reverted)", () => {
    expect(right(run(inRollout("Failed"), ev.hsc("Reverted", "Failed")))).toEqual({ record: inRollout("Failed"), effects: [] })
  })
})

/** Random rollout events: 1–31 of them, no OperatorClearance (as the reference's property suite). */
const arbEvent: fc.Arbitrary<RolloutEvent> = fc.oneof(
  fc.constant(ev.opened()),
  fc.nat({ max: 5 }).map((w) => ev.joined(w)),
  fc.tuple(fc.constantFrom(...HOST_STATES), fc.constantFrom(...HOST_STATES)).map(([from, to]) => ev.hsc(to, from)),
  fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 5 })).map(([a, b]) => ev.wave(a, b)),
  fc.constant(ev.terminal()),
  fc.constant(ev.successor()),
  fc.constant(ev.retention())
)

/** Folds a sequence, keeping the record on errors (as the applier does), and checks `check` after each step. */
const walk = (events: ReadonlyArray<RolloutEvent>, check: (before: RolloutRecord, after: RolloutRecord, effects: ReadonlyArray<RolloutEffect>) => void) => {
  let record = opening()
  for (const e of events) {
    const result = run(record, e)
    if (Either.isRight(result)) {
      check(record, result.right.record, result.right.effects)
      record = result.right.record
    }
  }
}

describe("rollout step: properties", () => {
  const seqs = fc.array(arbEvent, { minLength: 1, maxLength: 31 })

  it.prop("46/47: Terminal implies terminalAt; Superseded implies supersededAt", [seqs], ([events]) => {
    walk(events, (_b, after) => {
      if (after.state === "Terminal") expect(after.terminalAt).not.toBeNull()
      if (after.state === "Superseded") expect(after.supersededAt).not.toBeNull()
    })
  })

  it.prop("48: Pruned is absorbing", [seqs], ([events]) => {
    walk(events, (before, after) => {
      if (before.state === "Pruned") expect.fail(`Pruned accepted an event and became ${after.state}`)
    })
  })

  it.prop("49: currentWave is monotonic", [seqs], ([events]) => {
    walk(events, (before, after) => expect(after.currentWave).toBeGreaterThanOrEqual(before.currentWave))
  })

  it("49: regression seed: HostJoined(wave 3) then WaveAdvanced(0→1) keeps currentWave monotonic", () => {
    const active = right(run(opening(), ev.joined(3))).record
    const t = right(run({ ...active, currentWave: 3 }, ev.wave(0, 1)))
    expect(t.record.currentWave).toBe(3)
    expect(t.effects).toEqual([])
  })

  it.prop("50: every RRT's from/to matches the real state change, and there is at most one", [seqs], ([events]) => {
    walk(events, (before, after, effects) => {
      const rrts = effects.filter((e) => e._tag === "RecordRolloutTransition")
      expect(rrts.length).toBe(before.state === after.state ? 0 : 1)
      for (const r of rrts) expect([r.from, r.to]).toEqual([before.state, after.state])
    })
  })
})
