/**
 * Revocations verification: spec lines RV1–RV9 (the same matrix as fleet.resolved, on
 * `{schemaVersion, meta, revocations: [{hostname, notBefore, reason, revokedBy}]}`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { ts } from "../../src/domain/time.js"
import type { RevocationEntry } from "../../src/domain/trust.js"
import { canonicalize } from "../../src/trust/jcs.js"
import { signRevocations } from "../../src/trust/sign.js"
import { verifyRevocations } from "../../src/trust/verify.js"
import { left, right } from "../support/either.js"
import { flipBit, keys, plusSecs, signText, WINDOW_3H } from "./support.js"

const SIGNED_AT = ts("2026-04-28T10:00:00Z")
const REVOCATIONS = JSON.stringify({
  meta: { schemaVersion: 1, signedAt: "2026-04-28T10:00:00Z", ciCommit: "abc12345", signatureAlgorithm: "ed25519" },
  revocations: [{ hostname: "old-laptop", notBefore: "2026-04-26T00:00:00Z", reason: "decommissioned", revokedBy: "operator" }],
  schemaVersion: 1
})
const SIG = signText(keys.ed25519, REVOCATIONS)
const opts = (over: { now?: number; rejectBefore?: number | null; windowSecs?: number; noKeys?: boolean } = {}) => ({
  keys: over.noKeys === true ? [] : [keys.ed25519.public],
  now: ts(over.now ?? plusSecs(SIGNED_AT, 1800)),
  windowSecs: over.windowSecs ?? WINDOW_3H,
  rejectBefore: over.rejectBefore === undefined || over.rejectBefore === null ? null : ts(over.rejectBefore)
})

describe("verify revocations (RV1–RV9)", () => {
  it("RV1: valid @+30 min → OK with the entry decoded", () => {
    const revs = right(verifyRevocations(REVOCATIONS, SIG, opts())).inner()
    expect(revs.revocations).toEqual([
      { hostname: "old-laptop", notBefore: ts("2026-04-26T00:00:00Z"), reason: "decommissioned", revokedBy: "operator" }
    ])
  })

  it("RV2: tampered signature → BadSignature", () => {
    expect(left(verifyRevocations(REVOCATIONS, flipBit(SIG, 0, 7), opts()))._tag).toBe("BadSignature")
  })

  it("RV3: @+4 h with a 3 h window → Stale", () => {
    expect(left(verifyRevocations(REVOCATIONS, SIG, opts({ now: plusSecs(SIGNED_AT, 4 * 3600) })))._tag).toBe("Stale")
  })

  it("RV4: unsigned (signedAt null) → NotSigned", () => {
    const unsigned = JSON.stringify({ meta: { schemaVersion: 1, signedAt: null, ciCommit: "abc12345" }, revocations: [], schemaVersion: 1 })
    expect(left(verifyRevocations(unsigned, signText(keys.ed25519, unsigned), opts()))._tag).toBe("NotSigned")
  })

  it("RV5: an empty list is valid; reason and revokedBy may be omitted", () => {
    const empty = right(signRevocations(keys.ed25519, [], { signedAt: SIGNED_AT, ciCommit: "abc12345" }))
    expect(right(verifyRevocations(empty.bytes, empty.signature, opts())).inner().revocations).toEqual([])
    const bare = JSON.stringify({ ...(JSON.parse(REVOCATIONS) as object), revocations: [{ hostname: "h", notBefore: "2026-04-26T00:00:00Z" }] })
    const entry = right(verifyRevocations(bare, signText(keys.ed25519, bare), opts())).inner().revocations[0]
    expect(entry?.reason).toBeNull()
    expect(entry?.revokedBy).toBeNull()
  })

  it('RV6: a signed `{"not":"a-revocations"}` → Parse', () => {
    const bytes = '{"not":"a-revocations"}'
    expect(left(verifyRevocations(bytes, signText(keys.ed25519, bytes), opts()))._tag).toBe("Parse")
  })

  it("RV7: no keys → NoTrustRoots", () => {
    expect(left(verifyRevocations(REVOCATIONS, SIG, opts({ noKeys: true })))._tag).toBe("NoTrustRoots")
  })

  it("RV8: rejectBefore = signedAt + 1 s → RejectedBeforeTimestamp", () => {
    expect(left(verifyRevocations(REVOCATIONS, SIG, opts({ rejectBefore: plusSecs(SIGNED_AT, 1) })))._tag).toBe(
      "RejectedBeforeTimestamp"
    )
  })

  it("RV9: no rejectBefore disables the gate", () => {
    expect(Either.isRight(verifyRevocations(REVOCATIONS, SIG, opts({ rejectBefore: null })))).toBe(true)
  })

  it("signRevocations output round-trips through the verifier with ecdsa-p256 too", () => {
    const entries: ReadonlyArray<RevocationEntry> = [
      { hostname: "b" as RevocationEntry["hostname"], notBefore: ts("2026-04-26T00:00:00Z"), reason: null, revokedBy: "ops" }
    ]
    const signed = right(signRevocations(keys.p256, entries, { signedAt: SIGNED_AT, ciCommit: null }))
    expect(right(canonicalize(JSON.parse(signed.bytes)))).toBe(signed.bytes)
    const revs = right(verifyRevocations(signed.bytes, signed.signature, { ...opts(), keys: [keys.p256.public] })).inner()
    expect(revs.revocations).toEqual(entries)
    expect(revs.meta.signatureAlgorithm).toBe("ecdsa-p256")
  })
})
