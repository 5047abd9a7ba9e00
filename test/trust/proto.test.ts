/**
 * The JCS/proto lines about signed bytes and trust.json: C7, C8, C14, C16, plus the key-list
 * helpers (`activeKeys`, `activeKeysAt`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { ArtifactMeta, FleetResolved } from "../../src/domain/fleet.js"
import { RolloutManifest } from "../../src/domain/manifest.js"
import { ts } from "../../src/domain/time.js"
import { activeKeys, activeKeysAt, KeySlot, TrustConfig } from "../../src/domain/trust.js"
import { canonicalize } from "../../src/trust/jcs.js"
import { signRelease, stampMeta } from "../../src/trust/sign.js"
import { left, right } from "../support/either.js"
import { canonical, fixture, keys, SIGNED_AT } from "./support.js"

const decodeTrust = Schema.decodeUnknownEither(TrustConfig)
const k = (algorithm: string, pub: string) => ({ algorithm, public: pub })

describe("C7: fixtures canonicalise byte-equal to their .canonical", () => {
  for (const name of ["every-nullable", "signed-artifact"]) {
    it(`C7: ${name}.json → ${name}.canonical`, () => {
      const text = fixture(`${name}.json`)
      expect(canonical(text)).toBe(fixture(`${name}.canonical`))
      // The fixture decodes as a fleet (so it is a meaningful artifact, not just JSON).
      expect(Either.isRight(Schema.decodeUnknownEither(FleetResolved)(JSON.parse(text)))).toBe(true)
    })
  }
})

describe("C8: meta.signatureAlgorithm", () => {
  it("C8: absent stays absent, explicit ecdsa-p256 is kept (decode → encode → JCS)", () => {
    const roundTrip = (meta: unknown): string =>
      right(canonicalize(Schema.encodeSync(ArtifactMeta)(Schema.decodeUnknownSync(ArtifactMeta)(meta))))
    const absent = roundTrip({ schemaVersion: 1, signedAt: "2026-04-24T10:00:00Z", ciCommit: "abc" })
    expect(absent).not.toContain("signatureAlgorithm")
    const explicit = roundTrip({ schemaVersion: 1, signedAt: null, ciCommit: null, signatureAlgorithm: "ecdsa-p256" })
    expect(explicit).toContain('"signatureAlgorithm":"ecdsa-p256"')
  })

  it("C8: the raw canonical bytes keep an absent signatureAlgorithm absent", () => {
    expect(canonical(fixture("every-nullable.json"))).not.toContain("signatureAlgorithm")
    expect(canonical(fixture("signed-artifact.json"))).toContain('"signatureAlgorithm":"ed25519"')
  })

  it("C8: stampMeta writes the signing key's algorithm and keeps unknown meta fields", () => {
    const raw = JSON.parse(fixture("every-nullable.json")) as { readonly [key: string]: never }
    const stamped = stampMeta({ ...raw, meta: { schemaVersion: 1, signedAt: null, ciCommit: null, extra: "kept" } }, {
      signedAt: SIGNED_AT,
      ciCommit: "c0ffee"
    }, "ecdsa-p256")
    expect(stamped["meta"]).toEqual({
      schemaVersion: 1,
      signedAt: "2026-04-24T10:00:00.000Z",
      ciCommit: "c0ffee",
      signatureAlgorithm: "ecdsa-p256",
      extra: "kept"
    })
  })
})

describe("C14: manifest canonical bytes", () => {
  const release = right(
    signRelease(keys.ed25519, JSON.parse(fixture("signed-artifact.json")), { signedAt: SIGNED_AT, ciCommit: "0a1b2c3d4e5f" })
  )
  const signed = release.manifests[0]
  if (signed === undefined) throw new Error("the fixture fleet projects one manifest")
  const manifest = Schema.decodeUnknownSync(Schema.parseJson(RolloutManifest))(signed.bytes)
  const bytesOf = (m: RolloutManifest): string => right(canonicalize(Schema.encodeSync(RolloutManifest)(m)))

  it("C14: decode → encode → JCS reproduces the signed bytes exactly", () => {
    expect(bytesOf(manifest)).toBe(signed.bytes)
    expect(canonical(signed.bytes)).toBe(signed.bytes)
  })

  it("C14: changing hostSet order, fleetResolvedHash or a targetClosure changes the bytes", () => {
    const extra = { hostname: "h0", waveIndex: 0, targetClosure: "sha256-0" } as unknown as RolloutManifest["hostSet"][number]
    const twoHosts = { ...manifest, hostSet: [...manifest.hostSet, extra] }
    const reordered = { ...twoHosts, hostSet: [...twoHosts.hostSet].reverse() }
    expect(bytesOf(reordered)).not.toBe(bytesOf(twoHosts))
    expect(bytesOf({ ...manifest, fleetResolvedHash: "0".repeat(64) })).not.toBe(signed.bytes)
    const first = manifest.hostSet[0]
    if (first === undefined) throw new Error("one host")
    const closure = { ...manifest, hostSet: [{ ...first, targetClosure: "sha256-other" as typeof first.targetClosure }] }
    expect(bytesOf(closure)).not.toBe(signed.bytes)
  })
})

describe("C16: trust.json", () => {
  const slot = { current: k("ed25519", "AAAA"), previous: null, rejectBefore: null }

  it("C16: the minimum shape decodes; absent successor/retireAt are null", () => {
    const cfg = right(decodeTrust({ schemaVersion: 1, ciReleaseKey: slot, cacheKeys: [], orgRootKey: null }))
    expect(cfg.ciReleaseKey.current).toEqual(k("ed25519", "AAAA"))
    expect(cfg.ciReleaseKey.successor).toBeNull()
    expect(cfg.ciReleaseKey.retireAt).toBeNull()
    expect(cfg.orgRootKey).toBeNull()
  })

  it("C16: cacheKeys defaults to []", () => {
    const cfg = right(decodeTrust({ schemaVersion: 1, ciReleaseKey: { current: null, previous: null, rejectBefore: null } }))
    expect(cfg.cacheKeys).toEqual([])
  })

  it("C16: cache keys are opaque strings, kept verbatim", () => {
    const cacheKeys = ["cache.example.com:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "attic:cache.example.com:BBBB="]
    const cfg = right(decodeTrust({ schemaVersion: 1, ciReleaseKey: slot, cacheKeys }))
    expect(cfg.cacheKeys).toEqual(cacheKeys)
  })

  it("C16: activeKeys lists current then previous and skips nulls", () => {
    const both = Schema.decodeUnknownSync(KeySlot)({ current: k("ed25519", "AAAA"), previous: k("ecdsa-p256", "BBBB") })
    expect(activeKeys(both).map((x) => x.algorithm)).toEqual(["ed25519", "ecdsa-p256"])
    expect(activeKeys(Schema.decodeUnknownSync(KeySlot)({ current: null, previous: null }))).toEqual([])
    expect(activeKeys(Schema.decodeUnknownSync(KeySlot)({ current: null, previous: k("ed25519", "CCCC") }))).toEqual([
      k("ed25519", "CCCC")
    ])
  })

  it("C16: schemaVersion is required, and only 1 is accepted", () => {
    const missing = left(decodeTrust({ ciReleaseKey: slot }))
    expect(missing.message).toContain("schemaVersion")
    expect(Either.isLeft(decodeTrust({ schemaVersion: 2, ciReleaseKey: slot }))).toBe(true)
  })

  it("C16: orgRootKey is a slot like ciReleaseKey", () => {
    const cfg = right(
      decodeTrust({ schemaVersion: 1, ciReleaseKey: slot, orgRootKey: { current: k("ed25519", "BBBB"), previous: null } })
    )
    expect(cfg.orgRootKey?.current).toEqual(k("ed25519", "BBBB"))
    expect(cfg.orgRootKey?.previous).toBeNull()
    expect(Either.isLeft(decodeTrust({ schemaVersion: 1, ciReleaseKey: slot, orgRootKey: "BBBB" }))).toBe(true)
  })

  it("C16: unknown fields are ignored; timestamps decode to instants; encoding writes explicit nulls", () => {
    const cfg = right(
      decodeTrust({
        schemaVersion: 1,
        future: { x: 1 },
        ciReleaseKey: { ...slot, rejectBefore: "2026-04-24T10:00:00Z", retireAt: "2026-06-01T00:00:00Z", successor: k("ed25519", "DDDD") }
      })
    )
    expect(cfg.ciReleaseKey.rejectBefore).toBe(ts("2026-04-24T10:00:00Z"))
    expect(cfg.ciReleaseKey.retireAt).toBe(ts("2026-06-01T00:00:00Z"))
    expect(Schema.encodeSync(TrustConfig)(cfg).orgRootKey).toBeNull()
  })

  it("activeKeysAt adds the successor only while now < retireAt, after current and previous", () => {
    const s = Schema.decodeUnknownSync(KeySlot)({
      current: k("ed25519", "CUR"),
      previous: k("ed25519", "PREV"),
      successor: k("ecdsa-p256", "NEXT"),
      retireAt: "2026-06-01T00:00:00Z"
    })
    const retire = ts("2026-06-01T00:00:00Z")
    expect(activeKeysAt(s, retire - 1).map((x) => x.public)).toEqual(["CUR", "PREV", "NEXT"])
    expect(activeKeysAt(s, retire).map((x) => x.public)).toEqual(["CUR", "PREV"])
    expect(activeKeysAt({ ...s, retireAt: null }, 0).map((x) => x.public)).toEqual(["CUR", "PREV"])
  })
})
