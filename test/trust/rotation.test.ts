/**
 * Trust-rotation reminders: spec lines T1–T7, and that the reminder and the key list agree
 * (the successor is accepted exactly until the reminder starts).
 */
import { describe, expect, it } from "@effect/vitest"
import { ts } from "../../src/domain/time.js"
import { activeKeysAt, type KeySlot, type TrustConfig } from "../../src/domain/trust.js"
import { checkTrustRotations } from "../../src/trust/rotation.js"

const NOW = ts("2026-05-16T01:00:00Z")
const key = (pub: string) => ({ algorithm: "ed25519", public: pub })
const slot = (successor: string | null, retireAt: number | null): KeySlot => ({
  current: key("AAAA"),
  previous: null,
  rejectBefore: null,
  successor: successor === null ? null : key(successor),
  retireAt: retireAt === null ? null : ts(retireAt)
})
const trust = (ci: KeySlot, org: KeySlot | null = null): TrustConfig => ({
  schemaVersion: 1,
  ciReleaseKey: ci,
  cacheKeys: [],
  orgRootKey: org,
  rootCaPem: null,
  issuanceCaPems: []
})
const HOUR = 3_600_000

describe("checkTrustRotations (T1–T7)", () => {
  it("T1: retireAt in the future → nothing", () => {
    expect(checkTrustRotations(trust(slot("CCCC", NOW + 7 * 24 * HOUR)), NOW)).toEqual([])
  })

  it("T2: retireAt past with a successor → one ciReleaseKey action carrying retireAt", () => {
    expect(checkTrustRotations(trust(slot("CCCC", NOW - HOUR)), NOW)).toEqual([
      { _tag: "RotateTrustRoot", which: "ciReleaseKey", retireAt: NOW - HOUR }
    ])
  })

  it("T3: retireAt past without a successor → nothing", () => {
    expect(checkTrustRotations(trust(slot(null, NOW - 24 * HOUR)), NOW)).toEqual([])
  })

  it("T4: successor without retireAt → nothing", () => {
    expect(checkTrustRotations(trust(slot("CCCC", null)), NOW)).toEqual([])
  })

  it("T5: the orgRootKey slot also emits", () => {
    expect(checkTrustRotations(trust(slot(null, null), slot("DDDD", NOW - HOUR / 2)), NOW)).toEqual([
      { _tag: "RotateTrustRoot", which: "orgRootKey", retireAt: NOW - HOUR / 2 }
    ])
  })

  it("T6: both slots due → two actions, ciReleaseKey first", () => {
    const actions = checkTrustRotations(trust(slot("CCCC", NOW - HOUR), slot("DDDD", NOW - HOUR)), NOW)
    expect(actions.map((a) => a.which)).toEqual(["ciReleaseKey", "orgRootKey"])
  })

  it("T7: now == retireAt counts as due (and one ms before does not)", () => {
    expect(checkTrustRotations(trust(slot("CCCC", NOW)), NOW)).toHaveLength(1)
    expect(checkTrustRotations(trust(slot("CCCC", NOW + 1)), NOW)).toHaveLength(0)
  })

  it("the successor is in the key list exactly until the reminder starts", () => {
    const s = slot("NEXT", NOW)
    for (const at of [NOW - 1, NOW, NOW + 1]) {
      const accepted = activeKeysAt(s, at).some((k) => k.public === "NEXT")
      const due = checkTrustRotations(trust(s), at).length > 0
      expect(accepted).toBe(!due)
    }
  })
})
