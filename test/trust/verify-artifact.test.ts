/**
 * fleet.resolved verification: spec lines V1–V26, the check order, strict Ed25519 (A12), high-s
 * P-256, and the single-bit-flip property. Every signature is made here, over the canonical form
 * of test/fixtures/trust/signed-artifact.json (signedAt 2026-04-24T10:00Z, window 3 h).
 */
import { verify as nodeVerify, createPublicKey } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, TestClock } from "effect"
import { FleetResolved } from "../../src/domain/fleet.js"
import type { Timestamp } from "../../src/domain/time.js"
import type { TrustedPubkey } from "../../src/domain/trust.js"
import { ED25519_L, isSmallOrderEd25519, P256_N, prepareKey } from "../../src/trust/crypto.js"
import { generateSigningKey, signRaw } from "../../src/trust/keygen.js"
import { verifySignedSidecarEffect, type VerifyOptions } from "../../src/trust/sidecar.js"
import { verifyFleetResolved } from "../../src/trust/verify.js"
import { left, right } from "../support/either.js"
import {
  canonical,
  fixture,
  flipBit,
  keys,
  plusSecs,
  relabel,
  SIGNED_AT,
  signText,
  utf8,
  WINDOW_3H,
  withSchemaVersion
} from "./support.js"

const ART = fixture("signed-artifact.json")
const SIG = signText(keys.ed25519, ART)
const SIG_P256 = signText(keys.p256, ART)
const ED = keys.ed25519.public
const P256 = keys.p256.public

interface Run {
  readonly bytes?: string | Uint8Array
  readonly sig?: Uint8Array
  readonly keys?: ReadonlyArray<TrustedPubkey>
  readonly now?: Timestamp
  readonly windowSecs?: number
  readonly rejectBefore?: Timestamp | null
}

const run = (r: Run = {}) => {
  const options: VerifyOptions = {
    keys: r.keys ?? [ED],
    now: r.now ?? plusSecs(SIGNED_AT, 30 * 60),
    windowSecs: r.windowSecs ?? WINDOW_3H,
    rejectBefore: r.rejectBefore ?? null
  }
  return verifyFleetResolved(r.bytes ?? ART, r.sig ?? SIG, options)
}
const tagOf = (r: Run) => left(run(r))._tag

/** Writes a little-endian integer into 32 bytes. */
const le32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32)
  let v = n
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}
const readLE = (b: Uint8Array): bigint => b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n)
const readBE = (b: Uint8Array): bigint => b.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n)
const be32 = (n: bigint): Uint8Array => le32(n).reverse()

/** The other valid P-256 signature: `(r, n − s)`. */
const p256Twin = (sig: Uint8Array): Uint8Array => {
  const out = new Uint8Array(sig)
  out.set(be32(P256_N - readBE(sig.subarray(32))), 32)
  return out
}

describe("verify fleet.resolved (V1–V26)", () => {
  it("V1: valid @+30 min → OK, host h1 present", () => {
    const verified = right(run())
    expect(Object.keys(verified.inner().hosts)).toEqual(["h1"])
    expect(verified.signedAt()).toBe(SIGNED_AT)
  })

  it("V2: signature byte 0 flipped → BadSignature", () => {
    expect(tagOf({ sig: flipBit(SIG, 0, 0) })).toBe("BadSignature")
    const allBits = new Uint8Array(SIG)
    allBits[0] = (allBits[0] as number) ^ 0xff
    expect(tagOf({ sig: allBits })).toBe("BadSignature")
  })

  it("V3: @+4 h with a 3 h window → Stale", () => {
    const e = left(run({ now: plusSecs(SIGNED_AT, 4 * 3600) }))
    expect(e._tag).toBe("Stale")
    if (e._tag === "Stale") expect([e.signedAt, e.now, e.windowSecs]).toEqual([SIGNED_AT, plusSecs(SIGNED_AT, 4 * 3600), WINDOW_3H])
  })

  it("V4: age == window → OK", () => {
    expect(Either.isRight(run({ now: plusSecs(SIGNED_AT, WINDOW_3H) }))).toBe(true)
  })

  it("V5: age == window + 30 s → OK (inside the 60 s slack)", () => {
    expect(Either.isRight(run({ now: plusSecs(SIGNED_AT, WINDOW_3H + 30) }))).toBe(true)
  })

  it("V6: age == window + 61 s → Stale (exactly window + 60 s is still fresh)", () => {
    expect(Either.isRight(run({ now: plusSecs(SIGNED_AT, WINDOW_3H + 60) }))).toBe(true)
    expect(tagOf({ now: plusSecs(SIGNED_AT, WINDOW_3H + 61) })).toBe("Stale")
  })

  it("V7: now = signedAt − 2 d with a 1 d window → FutureDated", () => {
    const e = left(run({ now: plusSecs(SIGNED_AT, -2 * 86400), windowSecs: 86400 }))
    expect(e._tag).toBe("FutureDated")
    if (e._tag === "FutureDated") expect(e.slackSecs).toBe(60)
  })

  it("V8: now = signedAt − 30 s → OK (clock-skew slack); −60 s OK, −61 s FutureDated", () => {
    expect(Either.isRight(run({ now: plusSecs(SIGNED_AT, -30) }))).toBe(true)
    expect(Either.isRight(run({ now: plusSecs(SIGNED_AT, -60) }))).toBe(true)
    expect(tagOf({ now: plusSecs(SIGNED_AT, -61) })).toBe("FutureDated")
  })

  it("V9: every-nullable (signedAt null), correctly signed → NotSigned", () => {
    const text = fixture("every-nullable.json")
    expect(tagOf({ bytes: text, sig: signText(keys.ed25519, text) })).toBe("NotSigned")
  })

  it("V10: Ed25519 signature with s + L (non-canonical scalar) → BadSignature", () => {
    const s = readLE(SIG.subarray(32))
    const malleated = new Uint8Array(SIG)
    malleated.set(le32(s + ED25519_L), 32)
    expect(tagOf({ sig: malleated })).toBe("BadSignature")
  })

  it("V11: schemaVersion 2 (correctly signed) → SchemaVersionUnsupported(2)", () => {
    const v2 = withSchemaVersion(ART, 2)
    const e = left(run({ bytes: v2, sig: signText(keys.ed25519, v2) }))
    expect(e._tag).toBe("SchemaVersionUnsupported")
    if (e._tag === "SchemaVersionUnsupported") expect(e.version).toBe(2)
  })

  it("V12: `{not json` → Parse", () => {
    expect(tagOf({ bytes: "{not json" })).toBe("Parse")
  })

  it("V13: first `\"` replaced by `_` → Parse or BadSignature", () => {
    expect(["Parse", "BadSignature"]).toContain(tagOf({ bytes: ART.replace('"', "_") }))
  })

  it("V14: no keys → NoTrustRoots", () => {
    expect(tagOf({ keys: [] })).toBe("NoTrustRoots")
  })

  it("V15: keys [old, new], signed by new → OK (and by old too, first match wins)", () => {
    const old = generateSigningKey("ed25519")
    expect(Either.isRight(run({ keys: [old.public, ED] }))).toBe(true)
    expect(Either.isRight(run({ keys: [old.public, ED], sig: signText(old, ART) }))).toBe(true)
    expect(tagOf({ keys: [old.public] })).toBe("BadSignature")
  })

  it("V16: only a `dilithium3` key → UnsupportedAlgorithm(\"dilithium3\")", () => {
    const e = left(run({ keys: [relabel(ED, "dilithium3")] }))
    expect(e._tag).toBe("UnsupportedAlgorithm")
    if (e._tag === "UnsupportedAlgorithm") expect(e.algorithm).toBe("dilithium3")
    // Only the first key's algorithm is named (spec A13).
    const two = left(run({ keys: [relabel(ED, "dilithium3"), relabel(ED, "sphincs")] }))
    expect(two._tag === "UnsupportedAlgorithm" && two.algorithm).toBe("dilithium3")
  })

  it("V17: keys [`p256`, ed25519] → OK (the `p256` alias is skipped, not an error)", () => {
    expect(Either.isRight(run({ keys: [relabel(P256, "p256"), ED] }))).toBe(true)
    expect(left(run({ keys: [relabel(P256, "p256")], sig: SIG_P256 }))._tag).toBe("UnsupportedAlgorithm")
  })

  it("V18: P-256 key and signature → OK", () => {
    expect(Either.isRight(run({ keys: [P256], sig: SIG_P256 }))).toBe(true)
  })

  it("V19: P-256 high-s twin (n − s) → OK, and both twins verify", () => {
    const twin = p256Twin(SIG_P256)
    const highS = [SIG_P256, twin].filter((s) => readBE(s.subarray(32)) > P256_N / 2n)
    expect(highS).toHaveLength(1)
    expect(Either.isRight(run({ keys: [P256], sig: twin }))).toBe(true)
    expect(Either.isRight(run({ keys: [P256], sig: SIG_P256 }))).toBe(true)
    // s = n (out of range) is refused rather than normalised.
    const sIsN = new Uint8Array(SIG_P256)
    sIsN.set(be32(P256_N), 32)
    expect(tagOf({ keys: [P256], sig: sIsN })).toBe("BadSignature")
  })

  it("V20: keys [P-256 current, ed25519 previous] → OK whichever of the two signed", () => {
    expect(Either.isRight(run({ keys: [P256, ED], sig: SIG }))).toBe(true)
    expect(Either.isRight(run({ keys: [P256, ED], sig: SIG_P256 }))).toBe(true)
    expect(tagOf({ keys: [P256], sig: SIG })).toBe("BadSignature")
  })

  it("V21: ed25519 key `!!! not base64 !!!` → BadSignature (a bad key is just 'not verified')", () => {
    expect(tagOf({ keys: [{ algorithm: "ed25519", public: "!!! not base64 !!!" }] })).toBe("BadSignature")
    // A bad key does not stop the loop: the next key still verifies.
    expect(Either.isRight(run({ keys: [{ algorithm: "ed25519", public: "!!! not base64 !!!" }, ED] }))).toBe(true)
  })

  it("V22: rejectBefore = signedAt + 60 s → RejectedBeforeTimestamp carrying both times", () => {
    const rejectBefore = plusSecs(SIGNED_AT, 60)
    const e = left(run({ rejectBefore }))
    expect(e._tag).toBe("RejectedBeforeTimestamp")
    if (e._tag === "RejectedBeforeTimestamp") {
      expect(e.signedAt).toBe(SIGNED_AT)
      expect(e.rejectBefore).toBe(rejectBefore)
      expect(e.message).toContain("2026-04-24T10:00:00.000Z")
      expect(e.message).toContain("2026-04-24T10:01:00.000Z")
    }
  })

  it("V23: rejectBefore = signedAt − 60 s → OK", () => {
    expect(Either.isRight(run({ rejectBefore: plusSecs(SIGNED_AT, -60) }))).toBe(true)
  })

  it("V24: no rejectBefore → OK", () => {
    expect(Either.isRight(run({ rejectBefore: null }))).toBe(true)
  })

  it("V25: rejectBefore == signedAt → OK (strict <)", () => {
    expect(Either.isRight(run({ rejectBefore: SIGNED_AT }))).toBe(true)
    expect(tagOf({ rejectBefore: plusSecs(SIGNED_AT, 0.001) })).toBe("RejectedBeforeTimestamp")
  })

  it("V26: rejectBefore + 300 s, window 60 s, now + 600 s → RejectedBeforeTimestamp, not Stale", () => {
    const r = { rejectBefore: plusSecs(SIGNED_AT, 300), windowSecs: 60, now: plusSecs(SIGNED_AT, 600) }
    expect(tagOf(r)).toBe("RejectedBeforeTimestamp")
    expect(tagOf({ ...r, rejectBefore: null })).toBe("Stale")
  })
})

describe("check order and what the signature covers", () => {
  it("NoTrustRoots comes before Parse; Parse before UnsupportedAlgorithm", () => {
    expect(tagOf({ keys: [], bytes: "{not json" })).toBe("NoTrustRoots")
    expect(tagOf({ keys: [relabel(ED, "dilithium3")], bytes: "{not json" })).toBe("Parse")
  })

  it("JSON without a canonical form → Canonicalize (before any signature check)", () => {
    expect(tagOf({ bytes: '{"schemaVersion":1e400}' })).toBe("Canonicalize")
  })

  it("BadSignature comes before every payload check", () => {
    for (const bytes of [withSchemaVersion(ART, 2), fixture("every-nullable.json"), '{"not":"a-fleet"}']) {
      expect(tagOf({ bytes })).toBe("BadSignature")
    }
  })

  it("a correctly signed non-fleet → Parse; SchemaVersionUnsupported comes before NotSigned", () => {
    const notFleet = '{"not":"a-fleet"}'
    expect(tagOf({ bytes: notFleet, sig: signText(keys.ed25519, notFleet) })).toBe("Parse")
    const v3Unsigned = withSchemaVersion(fixture("every-nullable.json"), 3)
    expect(tagOf({ bytes: v3Unsigned, sig: signText(keys.ed25519, v3Unsigned) })).toBe("SchemaVersionUnsupported")
  })

  it("NotSigned comes before rejectBefore and freshness", () => {
    const text = fixture("every-nullable.json")
    expect(tagOf({ bytes: text, sig: signText(keys.ed25519, text), rejectBefore: plusSecs(SIGNED_AT, 1e6), now: plusSecs(SIGNED_AT, 1e9) })).toBe(
      "NotSigned"
    )
  })

  it("the signature covers the canonical form: a signature over the raw pretty bytes does not verify", () => {
    expect(ART).not.toBe(canonical(ART))
    expect(tagOf({ sig: signRaw(keys.ed25519, ART) })).toBe("BadSignature")
    // Any formatting of the same value verifies with the canonical signature.
    expect(Either.isRight(run({ bytes: JSON.stringify(JSON.parse(ART), null, 7) }))).toBe(true)
    expect(Either.isRight(run({ bytes: utf8(canonical(ART)) }))).toBe(true)
  })

  it("unknown fields are covered by the signature", () => {
    const withExtra = JSON.stringify({ ...(JSON.parse(ART) as object), futureField: { level: 1 } })
    const sig = signText(keys.ed25519, withExtra)
    expect(Either.isRight(run({ bytes: withExtra, sig }))).toBe(true)
    expect(tagOf({ bytes: withExtra.replace('"level":1', '"level":2'), sig })).toBe("BadSignature")
  })

  it("meta.signatureAlgorithm is never used to pick the algorithm", () => {
    const lying = ART.replace('"signatureAlgorithm": "ed25519"', '"signatureAlgorithm": "ecdsa-p256"')
    expect(lying).not.toBe(ART)
    expect(Either.isRight(run({ bytes: lying, sig: signText(keys.ed25519, lying) }))).toBe(true)
  })

  it("signatures that are not raw 64 bytes are refused", () => {
    for (const sig of [SIG.subarray(0, 63), new Uint8Array([...SIG, 0]), utf8(Buffer.from(SIG).toString("base64")), new Uint8Array()]) {
      expect(tagOf({ sig })).toBe("BadSignature")
    }
  })

  it("a verified fleet has its rollout policies normalised (all-at-once without waves gets one)", () => {
    const raw = JSON.parse(ART) as { rolloutPolicies: { everyone: { waves: Array<unknown> } } }
    raw.rolloutPolicies.everyone.waves = []
    const text = JSON.stringify(raw)
    const fleet = right(run({ bytes: text, sig: signText(keys.ed25519, text) })).inner()
    expect(fleet.rolloutPolicies["everyone"]?.waves).toEqual([
      { selector: { tags: [], tagsAny: [], hosts: [], channel: null, all: true }, soakMinutes: 0 }
    ])
  })

  it.effect("verifySignedSidecarEffect reads now from the Clock (TestClock)", () =>
    Effect.gen(function* () {
      const options = { keys: [ED], windowSecs: WINDOW_3H }
      yield* TestClock.setTime(plusSecs(SIGNED_AT, 600))
      const ok = yield* verifySignedSidecarEffect(FleetResolved, ART, SIG, options)
      expect(ok.signedAt()).toBe(SIGNED_AT)
      yield* TestClock.setTime(plusSecs(SIGNED_AT, WINDOW_3H + 61))
      const stale = yield* Effect.flip(verifySignedSidecarEffect(FleetResolved, ART, SIG, options))
      expect(stale._tag).toBe("Stale")
    })
  )
})

describe("strict Ed25519 (spec A12)", () => {
  const identity = new Uint8Array(32)
  identity[0] = 1

  it("the identity key with R = identity, s = 0 is refused, though plain OpenSSL accepts it", () => {
    const forged = new Uint8Array(64)
    forged.set(identity, 0)
    const identityKey = { algorithm: "ed25519", public: Buffer.from(identity).toString("base64") }
    const raw = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(identity).toString("base64url") }, format: "jwk" })
    expect(nodeVerify(null, utf8(canonical(ART)), raw, forged)).toBe(true)
    expect(tagOf({ keys: [identityKey], sig: forged })).toBe("BadSignature")
  })

  it("every small-order point encoding (canonical or not) is recognised; a real key is not", () => {
    const p = (1n << 255n) - 19n
    const y8 = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n
    const ys = [0n, 1n, p - 1n, y8, p - y8]
    for (const y of ys) {
      for (const encoded of [y, y + p].filter((v) => v < 1n << 255n)) {
        for (const sign of [0n, 1n << 255n]) {
          const bytes = le32(encoded | sign)
          expect(isSmallOrderEd25519(bytes)).toBe(true)
          expect(Either.isLeft(prepareKey({ algorithm: "ed25519", public: Buffer.from(bytes).toString("base64") }))).toBe(true)
        }
      }
    }
    const realKey = Buffer.from(ED.public, "base64")
    expect(isSmallOrderEd25519(realKey)).toBe(false)
  })

  it("a small-order R in an otherwise valid-looking signature is refused", () => {
    const withIdentityR = new Uint8Array(SIG)
    withIdentityR.set(identity, 0)
    expect(tagOf({ sig: withIdentityR })).toBe("BadSignature")
  })

  it("key material must be canonical padded base64 of the right length", () => {
    const raw = Buffer.from(ED.public, "base64")
    for (const pub of [raw.toString("base64url"), ED.public.replace(/=+$/, ""), ` ${ED.public}`, raw.subarray(1).toString("base64")]) {
      expect(Either.isLeft(prepareKey({ algorithm: "ed25519", public: pub }))).toBe(true)
    }
    expect(Either.isLeft(prepareKey({ algorithm: "ecdsa-p256", public: Buffer.alloc(64, 1).toString("base64") }))).toBe(true)
    expect(Either.isRight(prepareKey(P256))).toBe(true)
  })
})

describe("tamper property: one flipped bit anywhere fails verification", () => {
  for (const [name, key, pub] of [
    ["ed25519", keys.ed25519, ED],
    ["ecdsa-p256", keys.p256, P256]
  ] as const) {
    // The published bytes are canonical (as CI writes them), so a flip never leaves the canonical form unchanged.
    const bytes = utf8(canonical(ART))
    const sig = signRaw(key, bytes)
    const opts = { keys: [pub], now: plusSecs(SIGNED_AT, 60), windowSecs: WINDOW_3H }

    it(`${name}: the untampered artifact verifies`, () => {
      expect(Either.isRight(verifyFleetResolved(bytes, sig, opts))).toBe(true)
    })

    it.prop(`${name}: flipping one bit of the artifact fails`, [fc.nat(bytes.length - 1), fc.nat(7)], ([index, bit]) => {
      expect(Either.isLeft(verifyFleetResolved(flipBit(bytes, index, bit), sig, opts))).toBe(true)
    })

    it.prop(`${name}: flipping one bit of the signature fails`, [fc.nat(63), fc.nat(7)], ([index, bit]) => {
      expect(left(verifyFleetResolved(bytes, flipBit(sig, index, bit), opts))._tag).toBe("BadSignature")
    })
  }
})
