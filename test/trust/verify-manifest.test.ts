/**
 * Rollout-manifest verification: spec lines RM1–RM8 and D1–D4, plus the binding to the verified
 * fleet (fleetResolvedHash), per-channel freshness windows, and one poll's manifest-set outcome.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { type ChannelId, type ChannelRef, makeRolloutId } from "../../src/domain/ids.js"
import { ts } from "../../src/domain/time.js"
import { checkRolloutIdDiscriminator, parseRolloutIdRoute } from "../../src/trust/discriminator.js"
import { expectedManifests, verifiedManifestValues, verifyManifestSet } from "../../src/trust/manifestSet.js"
import { signRelease, type SignedRelease } from "../../src/trust/sign.js"
import { channelWindowSecs, verifyFleetSnapshot, verifyRolloutManifest } from "../../src/trust/verify.js"
import { left, right } from "../support/either.js"
import { fixture, flipBit, keys, plusSecs, signText, WINDOW_3H } from "./support.js"

const REF = "def4567abc123def4567abc123def4567abc123d"
const REQUESTED = `stable@${REF}`
const FLEET_HASH = "1".repeat(64)
const M_SIGNED_AT = ts("2026-04-30T12:00:00Z")

const manifestText = (signedAt: string | null, hostSet = true): string =>
  JSON.stringify({
    schemaVersion: 1,
    displayName: "stable@def4567a",
    channel: "stable",
    channelRef: REF,
    fleetResolvedHash: FLEET_HASH,
    hostSet: hostSet
      ? [
          { hostname: "agent-01", waveIndex: 0, targetClosure: "0000000000000000000000000000000000000000-host-a" },
          { hostname: "agent-02", waveIndex: 1, targetClosure: "1111111111111111111111111111111111111111-host-b" }
        ]
      : [],
    healthGate: {},
    complianceFrameworks: ["anssi-bp028"],
    meta: { schemaVersion: 1, signedAt, ciCommit: "def45678", signatureAlgorithm: "ed25519" }
  })

const MANIFEST = manifestText("2026-04-30T12:00:00Z")
const SIG = signText(keys.ed25519, MANIFEST)

const run = (
  over: Partial<{
    bytes: string
    sig: Uint8Array
    keys: ReadonlyArray<{ algorithm: string; public: string }>
    now: number
    windowSecs: number
    rejectBefore: number | null
    requestedId: string
    fleetResolvedHash: string
  }> = {}
) =>
  verifyRolloutManifest(over.bytes ?? MANIFEST, over.sig ?? SIG, {
    keys: over.keys ?? [keys.ed25519.public],
    now: ts(over.now ?? plusSecs(M_SIGNED_AT, 1800)),
    windowSecs: over.windowSecs ?? WINDOW_3H,
    rejectBefore: over.rejectBefore === undefined || over.rejectBefore === null ? null : ts(over.rejectBefore),
    requestedId: over.requestedId ?? REQUESTED,
    fleetResolvedHash: over.fleetResolvedHash ?? FLEET_HASH
  })

describe("verify rollout manifest (RM1–RM8)", () => {
  it("RM1: OK; extra complianceFrameworks ignored, hostSet order kept, [1].waveIndex == 1", () => {
    const m = right(run()).inner()
    expect(m.channel).toBe("stable")
    expect(m.hostSet.map((h) => h.hostname)).toEqual(["agent-01", "agent-02"])
    expect(m.hostSet[1]?.waveIndex).toBe(1)
    expect(m.hostSet[0]?.targetClosure.startsWith("0000")).toBe(true)
    expect("complianceFrameworks" in m).toBe(false)
    // The received order is kept even when it is not sorted.
    const reversed = JSON.stringify({ ...(JSON.parse(MANIFEST) as { hostSet: Array<unknown> }), hostSet: [...(JSON.parse(MANIFEST) as { hostSet: Array<unknown> }).hostSet].reverse() })
    const r = right(run({ bytes: reversed, sig: signText(keys.ed25519, reversed) })).inner()
    expect(r.hostSet.map((h) => h.hostname)).toEqual(["agent-02", "agent-01"])
  })

  it("RM2: tampered signature → BadSignature", () => {
    expect(left(run({ sig: flipBit(SIG, 0, 3) }))._tag).toBe("BadSignature")
  })

  it("RM3: @+4 h with a 3 h window → Stale", () => {
    expect(left(run({ now: plusSecs(M_SIGNED_AT, 4 * 3600) }))._tag).toBe("Stale")
  })

  it("RM4: unsigned (signedAt null) → NotSigned", () => {
    const unsigned = manifestText(null, false)
    expect(left(run({ bytes: unsigned, sig: signText(keys.ed25519, unsigned) }))._tag).toBe("NotSigned")
  })

  it('RM5: a signed `{"not":"a-manifest"}` → Parse', () => {
    const bytes = '{"not":"a-manifest"}'
    expect(left(run({ bytes, sig: signText(keys.ed25519, bytes) }))._tag).toBe("Parse")
  })

  it("RM6: no keys → NoTrustRoots", () => {
    expect(left(run({ keys: [] }))._tag).toBe("NoTrustRoots")
  })

  it("RM7: rejectBefore = signedAt + 1 s → RejectedBeforeTimestamp", () => {
    expect(left(run({ rejectBefore: plusSecs(M_SIGNED_AT, 1) }))._tag).toBe("RejectedBeforeTimestamp")
  })

  it(`RM8: id = ${REQUESTED}, unchanged when a targetClosure changes`, () => {
    const m = right(run()).inner()
    expect(makeRolloutId(m.channel, m.channelRef)).toBe(REQUESTED)
    const first = m.hostSet[0]
    if (first === undefined) throw new Error("two hosts")
    const perturbed = { ...m, hostSet: [{ ...first, targetClosure: "9999-perturbed" as typeof first.targetClosure }] }
    expect(makeRolloutId(perturbed.channel, perturbed.channelRef)).toBe(REQUESTED)
  })

  it("binding: a manifest for another fleet snapshot → FleetHashMismatch naming both hashes", () => {
    const e = left(run({ fleetResolvedHash: "2".repeat(64) }))
    expect(e._tag).toBe("FleetHashMismatch")
    expect(e.message).toContain("2".repeat(64))
    expect(e.message).toContain(FLEET_HASH)
  })

  it("binding: the id check runs before the hash check", () => {
    expect(left(run({ requestedId: `edge@${REF}`, fleetResolvedHash: "2".repeat(64) }))._tag).toBe("RolloutIdMismatch")
  })
})

describe("rollout-id discriminator (D1–D4)", () => {
  it("D1: the canonical id is accepted", () => {
    expect(right(checkRolloutIdDiscriminator("stable", "abc1234deadbeef", "stable@abc1234deadbeef"))).toBe("stable@abc1234deadbeef")
    expect(right(parseRolloutIdRoute("stable@abc1234deadbeef"))).toBe("stable@abc1234deadbeef")
    expect(Either.isRight(run())).toBe(true)
  })

  it("D2: channel substituted → rejected, the message names both ids", () => {
    const e = left(checkRolloutIdDiscriminator("edge", "abc1234deadbeef", "stable@abc1234deadbeef"))
    expect(e.message).toContain("rollout_id discriminator failed")
    expect(e.message).toContain("stable@abc1234deadbeef")
    expect(e.message).toContain("edge@abc1234deadbeef")
    // Through the verifier: a manifest signed for `stable` served under an `edge` id.
    const v = left(run({ requestedId: `edge@${REF}` }))
    expect(v._tag).toBe("RolloutIdMismatch")
    expect(v.message).toContain(`edge@${REF}`)
    expect(v.message).toContain(REQUESTED)
  })

  it("D3: ref substituted → rejected", () => {
    const e = left(checkRolloutIdDiscriminator("stable", "def5678feedface", "stable@abc1234deadbeef"))
    expect(e.message).toContain("stable@def5678feedface")
    expect(left(run({ requestedId: "stable@0000000" }))._tag).toBe("RolloutIdMismatch")
  })

  it("D4: a bare 64-hex request (legacy content hash) → rejected by the route and by the discriminator", () => {
    const legacy = "a".repeat(64)
    expect(left(parseRolloutIdRoute(legacy))._tag).toBe("InvalidRolloutIdRoute")
    expect(left(checkRolloutIdDiscriminator("stable", "abc1234", legacy)).message).toContain("discriminator failed")
  })

  it("the route validator: channel [a-z0-9_-]+, ref lowercase hex", () => {
    for (const ok of ["a@0", "my_chan-2@deadbeef", "stable@0123456789abcdef"]) expect(Either.isRight(parseRolloutIdRoute(ok))).toBe(true)
    for (const bad of ["Stable@abc", "stable@ABC", "stable@", "@abc", "stable@abc@def", "sta ble@abc", "stable@xyz", "stable@abc\n"]) {
      expect(Either.isLeft(parseRolloutIdRoute(bad))).toBe(true)
    }
  })
})

describe("one poll: fleet snapshot and manifest set", () => {
  const SIGNED = ts("2026-05-16T01:00:00Z")
  const COMMIT = "def4567abc"
  const sign = (raw: unknown, signedAt = SIGNED, commit = COMMIT): SignedRelease =>
    right(signRelease(keys.ed25519, raw, { signedAt, ciCommit: commit }))
  const rawFleet = () => JSON.parse(fixture("example-fleet.json")) as { channels: Record<string, { freshnessWindow: number }> }
  const roots = { keys: [keys.ed25519.public], rejectBefore: null }
  const now = plusSecs(SIGNED, 1800)
  const snapshotOf = (release: SignedRelease) =>
    right(verifyFleetSnapshot(release.fleet.bytes, release.fleet.signature, { ...roots, now, windowSecs: 86400 }))
  const fetchedOf = (release: SignedRelease) => new Map(release.manifests.map((m) => [m.rolloutId as string, m]))

  it("the snapshot's hash is the sha256 of the fleet's canonical bytes; every expected manifest verifies", () => {
    const release = sign(rawFleet())
    const snapshot = snapshotOf(release)
    expect(snapshot.fleetResolvedHash).toBe(release.fleet.fleetResolvedHash)
    expect(expectedManifests(snapshot).map((e) => e.rolloutId)).toEqual([`infra@${COMMIT}`, `stable@${COMMIT}`])
    const set = verifyManifestSet(snapshot, fetchedOf(release), { ...roots, now })
    expect([...set.rollouts.keys()]).toEqual(["infra", "stable"])
    expect(set.failures.size).toBe(0)
    expect(set.rollouts.get("stable" as ChannelId)?.inner().hostSet.map((h) => h.waveIndex)).toEqual([0, 1])
    const plain = verifiedManifestValues(set)
    expect(plain.fleet).toBe(snapshot.fleet.inner())
    expect([...plain.rollouts.values()].map((m) => m.channel)).toEqual(["infra", "stable"])
  })

  it("a manifest served under another channel's id fails that channel only (RolloutIdMismatch)", () => {
    const release = sign(rawFleet())
    const fetched = fetchedOf(release)
    const stable = fetched.get(`stable@${COMMIT}`)
    if (stable === undefined) throw new Error("stable manifest")
    fetched.set(`infra@${COMMIT}`, stable)
    const set = verifyManifestSet(snapshotOf(release), fetched, { ...roots, now })
    expect(set.failures.get("infra" as ChannelId)?._tag).toBe("RolloutIdMismatch")
    expect(set.rollouts.has("stable" as ChannelId)).toBe(true)
  })

  it("a manifest from an older fleet snapshot (same ids) → FleetHashMismatch; a missing one → ManifestMissing", () => {
    const current = sign(rawFleet())
    const changed = rawFleet() as { hosts?: Record<string, { closureHash: string | null }> }
    const older = sign({ ...changed, hosts: { ...changed.hosts, "db-01": { ...changed.hosts?.["db-01"], closureHash: "old-db01" } } })
    const fetched = fetchedOf(current)
    const stale = older.manifests.find((m) => m.channel === "infra")
    if (stale === undefined) throw new Error("older infra manifest")
    fetched.set(stale.rolloutId, stale)
    fetched.delete(`stable@${COMMIT}`)
    const set = verifyManifestSet(snapshotOf(current), fetched, { ...roots, now })
    expect(set.failures.get("infra" as ChannelId)?._tag).toBe("FleetHashMismatch")
    expect(set.failures.get("stable" as ChannelId)?._tag).toBe("ManifestMissing")
    expect(set.rollouts.size).toBe(0)
  })

  it("per-channel freshnessWindow (minutes × 60) applies to that channel's manifest only", () => {
    const raw = rawFleet()
    const short = { ...raw, channels: { ...raw.channels, stable: { ...raw.channels["stable"], freshnessWindow: 10 } } }
    const release = sign(short)
    const snapshot = snapshotOf(release)
    expect(channelWindowSecs(snapshot.fleet.inner().channels, "stable")).toBe(600)
    expect(channelWindowSecs(snapshot.fleet.inner().channels, "nope", 123)).toBe(123)
    const set = verifyManifestSet(snapshot, fetchedOf(release), { ...roots, now })
    expect(set.failures.get("stable" as ChannelId)?._tag).toBe("Stale")
    expect(set.rollouts.has("infra" as ChannelId)).toBe(true)
    // Within 10 min + 60 s slack it is fresh.
    const early = verifyManifestSet(snapshot, fetchedOf(release), { ...roots, now: plusSecs(SIGNED, 660) })
    expect(early.rollouts.has("stable" as ChannelId)).toBe(true)
  })

  it("an unsigned-ref fleet (ciCommit null) projects ids with an empty ref", () => {
    const release = right(signRelease(keys.ed25519, rawFleet(), { signedAt: SIGNED, ciCommit: null }))
    expect(release.manifests.map((m) => m.rolloutId)).toEqual(["infra@", "stable@"])
    const set = verifyManifestSet(snapshotOf(release), fetchedOf(release), { ...roots, now })
    expect(set.rollouts.get("infra" as ChannelId)?.inner().channelRef).toBe("" as ChannelRef)
  })
})
