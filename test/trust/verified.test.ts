/**
 * `Verified<T>` stays opaque: no public constructor, no decoder, not re-exported minting; the
 * explicitly named test helper exists.
 */
import { describe, expect, it } from "@effect/vitest"
import { ts } from "../../src/domain/time.js"
import * as Trust from "../../src/trust/index.js"
import { isVerified, unverifiedForTests, Verified } from "../../src/trust/verified.js"

describe("Verified<T>", () => {
  it("only verify functions (and unverifiedForTests) create one; the trust index does not export the minting function", () => {
    expect("mintVerified" in Trust).toBe(false)
    expect(Object.keys(Trust).filter((name) => /mint/i.test(name))).toEqual([])
    // Compile-time check (tsc runs in `npm test`): the constructor is private outside the class.
    const construct = () =>
      // @ts-expect-error the constructor is private
      new Verified({ a: 1 }, ts(0))
    expect(construct).toBeTypeOf("function")
  })

  it("unverifiedForTests wraps a value and its signedAt; readers see the value", () => {
    const v = unverifiedForTests({ hosts: ["h1"] }, ts("2026-04-24T10:00:00Z"))
    expect(isVerified(v)).toBe(true)
    expect(v.inner()).toEqual({ hosts: ["h1"] })
    expect(v.intoInner()).toBe(v.inner())
    expect(v.signedAt()).toBe(ts("2026-04-24T10:00:00Z"))
  })

  it("serialising and parsing back does not give a Verified; look-alikes are not Verified", () => {
    const v = unverifiedForTests({ secret: "payload" }, ts(0))
    expect(isVerified(JSON.parse(JSON.stringify(v)))).toBe(false)
    expect(isVerified({ inner: () => 1, signedAt: () => 0, [Trust.VerifiedTypeId]: Trust.VerifiedTypeId })).toBe(false)
    expect(String(v)).not.toContain("payload")
    expect(JSON.stringify(v)).not.toContain("payload")
  })
})
