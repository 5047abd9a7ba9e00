/**
 * The producer side: key generation and import/export, signing a whole release (fleet,
 * per-channel manifests, revocations), and the on-disk layout written and read back through
 * @effect/platform's FileSystem.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { ts } from "../../src/domain/time.js"
import type { TrustConfig } from "../../src/domain/trust.js"
import { verifyWithKey, prepareKey } from "../../src/trust/crypto.js"
import { canonicalize } from "../../src/trust/jcs.js"
import {
  exportPrivateKeyJwk,
  exportPrivateKeyPem,
  generateSigningKey,
  importSigningKey,
  signRaw
} from "../../src/trust/keygen.js"
import {
  FLEET_RESOLVED_PATH,
  readSignedPair,
  releaseFiles,
  REVOCATIONS_PATH,
  rolloutManifestPath,
  signaturePath,
  TRUST_PATH,
  writeRelease
} from "../../src/trust/layout.js"
import { verifyManifestSet } from "../../src/trust/manifestSet.js"
import { trustRootsAt } from "../../src/trust/sidecar.js"
import { signFleetResolved, signRelease } from "../../src/trust/sign.js"
import { verifyFleetSnapshot, verifyRevocations } from "../../src/trust/verify.js"
import { left, right } from "../support/either.js"
import { fixture, keys, plusSecs } from "./support.js"

const SIGNED = ts("2026-05-16T01:00:00Z")
const META = { signedAt: SIGNED, ciCommit: "def4567abc" }
const rawFleet = (): Record<string, unknown> => JSON.parse(fixture("example-fleet.json")) as Record<string, unknown>

describe("signing keys", () => {
  for (const algorithm of ["ed25519", "ecdsa-p256"] as const) {
    it(`${algorithm}: public key in trust.json form, raw 64-byte signatures that verify`, () => {
      const key = generateSigningKey(algorithm)
      expect(key.public.algorithm).toBe(algorithm)
      expect(Buffer.from(key.public.public, "base64").length).toBe(algorithm === "ed25519" ? 32 : 64)
      const sig = signRaw(key, "hello")
      expect(sig.length).toBe(64)
      const prepared = right(prepareKey(key.public))
      expect(verifyWithKey(prepared, Buffer.from("hello"), sig)).toBe(true)
      expect(verifyWithKey(prepared, Buffer.from("hellO"), sig)).toBe(false)
    })

    it(`${algorithm}: PEM and JWK export → import keep the same key`, () => {
      const key = generateSigningKey(algorithm)
      const fromPem = right(importSigningKey(exportPrivateKeyPem(key)))
      const fromJwk = right(importSigningKey(exportPrivateKeyJwk(key)))
      expect(fromPem.public).toEqual(key.public)
      expect(fromJwk.public).toEqual(key.public)
      expect(verifyWithKey(right(prepareKey(key.public)), Buffer.from("x"), signRaw(fromPem, "x"))).toBe(true)
    })
  }

  it("two generated keys differ", () => {
    expect(generateSigningKey("ed25519").public).not.toEqual(generateSigningKey("ed25519").public)
  })

  it("unusable key material is a typed error", () => {
    expect(left(importSigningKey("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"))._tag).toBe("SigningKeyError")
    expect(left(importSigningKey({ kty: "EC", crv: "P-384" }))._tag).toBe("SigningKeyError")
  })
})

describe("signing a release", () => {
  const release = right(signRelease(keys.ed25519, rawFleet(), META, []))

  it("fleet bytes are canonical, meta is stamped, the hash is over those bytes", () => {
    expect(right(canonicalize(JSON.parse(release.fleet.bytes)))).toBe(release.fleet.bytes)
    const meta = (JSON.parse(release.fleet.bytes) as { meta: unknown }).meta
    expect(meta).toEqual({ schemaVersion: 1, signedAt: "2026-05-16T01:00:00.000Z", ciCommit: "def4567abc", signatureAlgorithm: "ed25519" })
    const snapshot = right(
      verifyFleetSnapshot(release.fleet.bytes, release.fleet.signature, { keys: [keys.ed25519.public], now: SIGNED, windowSecs: 60 })
    )
    expect(snapshot.fleetResolvedHash).toBe(release.fleet.fleetResolvedHash)
  })

  it("one manifest per channel with closures (the `lab` channel has none), bound to the fleet hash", () => {
    expect(release.manifests.map((m) => m.rolloutId)).toEqual(["infra@def4567abc", "stable@def4567abc"])
    for (const m of release.manifests) {
      const parsed = JSON.parse(m.bytes) as { fleetResolvedHash: string; meta: { signedAt: string } }
      expect(parsed.fleetResolvedHash).toBe(release.fleet.fleetResolvedHash)
      expect(parsed.meta.signedAt).toBe("2026-05-16T01:00:00.000Z")
    }
  })

  it("the spec §5 stable manifest: displayName, sorted hostSet with wave indices, frozen budget hosts", () => {
    const stable = release.manifests.find((m) => m.channel === "stable")
    expect(JSON.parse(stable?.bytes ?? "null")).toMatchObject({
      displayName: "stable@def4567a",
      channelRef: "def4567abc",
      hostSet: [
        { hostname: "web-01", waveIndex: 0, targetClosure: "3c4d-web01" },
        { hostname: "web-02", waveIndex: 1, targetClosure: "5e6f-web02" }
      ],
      healthGate: { systemdFailedUnits: { max: 0 } },
      disruptionBudgets: [{ hosts: ["web-01", "web-02"], maxInFlight: 1, maxInFlightPct: null }]
    })
  })

  it("fields unknown to this version survive signing and are covered by the signature", () => {
    const signed = right(signFleetResolved(keys.ed25519, { ...rawFleet(), x_future: { keep: true } }, META))
    expect(signed.bytes).toContain('"x_future":{"keep":true}')
  })

  it("refuses to sign what is not a fleet, or a channel whose policy is missing", () => {
    expect(left(signRelease(keys.ed25519, [1, 2], META))._tag).toBe("SignError")
    expect(left(signRelease(keys.ed25519, { schemaVersion: 1 }, META)).artifact).toBe("fleet.resolved")
    const raw = rawFleet() as { channels: Record<string, Record<string, unknown>> }
    const broken = { ...raw, channels: { ...raw.channels, stable: { ...raw.channels["stable"], rolloutPolicy: "missing" } } }
    const e = left(signRelease(keys.ed25519, broken, META))
    expect(e.artifact).toBe("manifest stable")
    expect(e.message).toContain("missing")
  })

  it("the layout: fleet, revocations and manifests each with a .sig sidecar", () => {
    const trust: TrustConfig = {
      schemaVersion: 1,
      ciReleaseKey: { current: keys.ed25519.public, previous: null, rejectBefore: null, successor: null, retireAt: null },
      cacheKeys: [],
      orgRootKey: null,
      rootCaPem: null,
      issuanceCaPems: []
    }
    expect(releaseFiles(release, trust).map((f) => f.path)).toEqual([
      TRUST_PATH,
      FLEET_RESOLVED_PATH,
      signaturePath(FLEET_RESOLVED_PATH),
      REVOCATIONS_PATH,
      signaturePath(REVOCATIONS_PATH),
      "releases/rollouts/infra@def4567abc.json",
      "releases/rollouts/infra@def4567abc.json.sig",
      "releases/rollouts/stable@def4567abc.json",
      "releases/rollouts/stable@def4567abc.json.sig"
    ])
  })

  it.scoped("writeRelease → readSignedPair → verify: the files on disk verify end to end", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const root = yield* fs.makeTempDirectoryScoped()
      const key = generateSigningKey("ecdsa-p256")
      const signed = right(signRelease(key, rawFleet(), META, []))
      const trust: TrustConfig = {
        schemaVersion: 1,
        ciReleaseKey: { current: key.public, previous: null, rejectBefore: null, successor: null, retireAt: null },
        cacheKeys: [],
        orgRootKey: null,
        rootCaPem: null,
        issuanceCaPems: []
      }
      yield* writeRelease(root, signed, trust)
      const now = plusSecs(SIGNED, 120)
      const roots = trustRootsAt(trust, now)
      const fleet = yield* readSignedPair(root, FLEET_RESOLVED_PATH)
      expect(fleet.signature.length).toBe(64)
      const snapshot = right(verifyFleetSnapshot(fleet.bytes, fleet.signature, { ...roots, now, windowSecs: 86400 }))
      const fetched = new Map<string, { bytes: Uint8Array; signature: Uint8Array }>()
      for (const id of ["infra@def4567abc", "stable@def4567abc"]) fetched.set(id, yield* readSignedPair(root, rolloutManifestPath(id)))
      const set = verifyManifestSet(snapshot, fetched, { ...roots, now })
      expect([...set.rollouts.keys()]).toEqual(["infra", "stable"])
      const revs = yield* readSignedPair(root, REVOCATIONS_PATH)
      expect(Either.isRight(verifyRevocations(revs.bytes, revs.signature, { ...roots, now, windowSecs: 86400 }))).toBe(true)
      const trustText = yield* fs.readFileString(`${root}/${TRUST_PATH}`)
      expect(JSON.parse(trustText)).toMatchObject({ schemaVersion: 1, ciReleaseKey: { current: key.public } })
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
