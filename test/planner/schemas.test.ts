/**
 * fleet.resolved and rollout-manifest schemas: the proto lines of spec §6 that concern them
 * (C9–C13, C15), the A1 `system`/`platform` spelling, the null/omitted encoding rules of §2 and
 * the §2.2 projection.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as fs from "node:fs"
import {
  currentRolloutIds,
  FleetResolved,
  freshnessWindowSeconds,
  normalizeRolloutPolicies,
  projectManifest,
  RolloutManifest,
  type Selector,
  selectorKey,
  selectorMatches,
  selectorSummary,
  ts
} from "../../src/domain/index.js"
import { ch, fleet, fleetJson, HASH, T0 } from "./builders.js"

const exampleJson = JSON.parse(fs.readFileSync(new URL("../fixtures/planner/example-fleet.json", import.meta.url), "utf8")) as Record<string, unknown>
const decodeFleet = Schema.decodeUnknownSync(FleetResolved)
const encodeFleet = Schema.encodeSync(FleetResolved)
const sel = (s: Partial<Selector>): Selector => ({ tags: [], tagsAny: [], hosts: [], channel: null, all: false, ...s })

describe("fleet.resolved schema", () => {
  it("C9: unknown fields at top level, in hosts and in meta are ignored", () => {
    const json = structuredClone(exampleJson) as { hosts: Record<string, Record<string, unknown>>; meta: Record<string, unknown> } & Record<string, unknown>
    json["futureTopLevel"] = { x: 1 }
    ;(json.hosts["web-01"] as Record<string, unknown>)["futureHostField"] = [1, 2]
    json.meta["futureMetaField"] = "y"
    const decoded = decodeFleet(json)
    expect(decoded).toEqual(decodeFleet(exampleJson))
    expect(Object.keys(encodeFleet(decoded))).not.toContain("futureTopLevel")
  })

  it("C10: freshnessWindow 180 (minutes) → 10 800 s", () => {
    const f = decodeFleet({ ...exampleJson, channels: { c: { rolloutPolicy: "p", reconcileIntervalMinutes: 1, signingIntervalMinutes: 1, freshnessWindow: 180 } } })
    const c = f.channels[ch("c")]
    expect(c && freshnessWindowSeconds(c)).toBe(10_800)
  })

  it("C11: before/after aliases parse; output uses gates/gated", () => {
    const f = decodeFleet({ ...exampleJson, channelEdges: [{ before: "infra", after: "stable", reason: null }] })
    expect(f.channelEdges).toEqual([{ gates: "infra", gated: "stable", reason: null }])
    expect(encodeFleet(f).channelEdges).toEqual([{ gates: "infra", gated: "stable", reason: null }])
  })

  it("C11 (canonical names win over aliases; a missing reason decodes as null)", () => {
    const f = decodeFleet({ ...exampleJson, channelEdges: [{ gates: "a", gated: "b", before: "x", after: "y" }] })
    expect(f.channelEdges).toEqual([{ gates: "a", gated: "b", reason: null }])
  })

  it("A1: hosts accept `system` or `platform` (platform wins when both), encode `platform`", () => {
    const f = decodeFleet({
      ...exampleJson,
      hosts: {
        a: { system: "x86_64-linux", channel: "infra", closureHash: null, pubkey: null },
        b: { platform: "aarch64-linux", channel: "infra", closureHash: null, pubkey: null },
        c: { system: "old", platform: "new", channel: "infra", closureHash: null, pubkey: null }
      }
    })
    expect(Object.values(f.hosts).map((h) => h.platform)).toEqual(["x86_64-linux", "aarch64-linux", "new"])
    expect(encodeFleet(f).hosts["a"]).toEqual({ platform: "x86_64-linux", tags: [], channel: "infra", closureHash: null, pubkey: null })
    expect(Either.isLeft(Schema.decodeUnknownEither(FleetResolved)({ ...exampleJson, hosts: { a: { channel: "infra" } } }))).toBe(true)
  })

  it("§2 encoding: unset optionals are explicit nulls; pin, pin.expiresAt, signatureAlgorithm and compliance are omitted", () => {
    const f = decodeFleet({
      schemaVersion: 1,
      hosts: {
        a: { platform: "p", channel: "c" },
        b: { platform: "p", channel: "c", pin: { commit: "abc", reason: "hold" } },
        d: { platform: "p", channel: "c", pin: { commit: "abc", reason: "hold", expiresAt: "2026-05-16T01:00:00Z" } }
      },
      channels: {},
      disruptionBudgets: [{ selector: {} }],
      edges: [{ gated: "a", gates: "b" }],
      meta: { schemaVersion: 1 }
    })
    const out = encodeFleet(f)
    expect(out.meta).toEqual({ schemaVersion: 1, signedAt: null, ciCommit: null })
    expect(out.hosts["a"]).toEqual({ platform: "p", tags: [], channel: "c", closureHash: null, pubkey: null })
    expect(out.hosts["b"]?.pin).toEqual({ commit: "abc", reason: "hold" })
    expect(f.hosts["d" as never]).toMatchObject({ pin: { expiresAt: T0 } })
    expect(out.disruptionBudgets).toEqual([{ selector: sel({}), maxInFlight: null, maxInFlightPct: null }])
    expect(out.edges).toEqual([{ gated: "a", gates: "b", reason: null }])
    expect(out.rolloutPolicies).toEqual({})
    expect(out.waves).toEqual({})
    expect(out.channelEdges).toEqual([])
  })

  it("§2 encoding: an explicit signatureAlgorithm is kept", () => {
    expect(encodeFleet(decodeFleet({ ...exampleJson, meta: { schemaVersion: 1, signatureAlgorithm: "ecdsa-p256" } })).meta).toEqual({
      schemaVersion: 1,
      signedAt: null,
      ciCommit: null,
      signatureAlgorithm: "ecdsa-p256"
    })
  })

  it("bad input is rejected with a parse error (schemaVersion is read but not checked here)", () => {
    expect(Either.isLeft(Schema.decodeUnknownEither(FleetResolved)({ ...exampleJson, hosts: [] as unknown }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(FleetResolved)({ ...exampleJson, meta: { schemaVersion: 1, signedAt: "yesterday" } }))).toBe(true)
    expect(decodeFleet({ ...exampleJson, schemaVersion: 2 }).schemaVersion).toBe(2)
  })
})

describe("selectors", () => {
  it("C12: summaries tags:prod,server, tags_any:a,b, hosts:aaa,zzz, unknown (and all, channel:<c>)", () => {
    expect(selectorSummary(sel({ tags: ["server", "prod"] }))).toBe("tags:prod,server")
    expect(selectorSummary(sel({ tagsAny: ["b", "a"] }))).toBe("tags_any:a,b")
    expect(selectorSummary(sel({ hosts: ["zzz", "aaa"] }))).toBe("hosts:aaa,zzz")
    expect(selectorSummary(sel({}))).toBe("unknown")
    expect(selectorSummary(sel({ all: true, tags: ["x"] }))).toBe("all")
    expect(selectorSummary(sel({ channel: "stable", tags: ["x"] }))).toBe("channel:stable")
  })

  it("match is an OR of all, hosts, channel, every tag, any tag", () => {
    const host = { tags: ["web", "eu"], channel: "stable" }
    expect(selectorMatches(sel({ all: true }), "h", host)).toBe(true)
    expect(selectorMatches(sel({ hosts: ["h"] }), "h", host)).toBe(true)
    expect(selectorMatches(sel({ channel: "stable" }), "h", host)).toBe(true)
    expect(selectorMatches(sel({ tags: ["web", "eu"] }), "h", host)).toBe(true)
    expect(selectorMatches(sel({ tags: ["web", "us"] }), "h", host)).toBe(false)
    expect(selectorMatches(sel({ tagsAny: ["us", "eu"] }), "h", host)).toBe(true)
    expect(selectorMatches(sel({ tags: ["us"], hosts: ["h"] }), "h", host)).toBe(true)
    expect(selectorMatches(sel({}), "h", host)).toBe(false)
  })

  it("identity is structural with arrays in order", () => {
    expect(selectorKey(sel({ tags: ["a", "b"] }))).toBe(selectorKey(sel({ tags: ["a", "b"] })))
    expect(selectorKey(sel({ tags: ["a", "b"] }))).not.toBe(selectorKey(sel({ tags: ["b", "a"] })))
    expect(selectorKey(sel({ tags: ["a"] }))).not.toBe(selectorKey(sel({ tagsAny: ["a"] })))
  })
})

describe("normalizeRolloutPolicies", () => {
  const policies = {
    flat: { strategy: "all-at-once", waves: [], healthGate: {}, onHealthFailure: "halt" },
    explicit: { strategy: "all-at-once", waves: [{ selector: { hosts: ["a"] }, soakMinutes: 3 }], healthGate: {}, onHealthFailure: "halt" },
    canary: { strategy: "canary", waves: [], healthGate: {}, onHealthFailure: "rollback-and-halt" }
  }

  it("C13: synthesises the wave, keeps explicit waves, leaves canary alone, accepts an empty map", () => {
    const f = normalizeRolloutPolicies(decodeFleet({ ...exampleJson, rolloutPolicies: policies }))
    expect(f.rolloutPolicies["flat"]?.waves).toEqual([{ selector: sel({ all: true }), soakMinutes: 0 }])
    expect(f.rolloutPolicies["explicit"]?.waves).toEqual([{ selector: sel({ hosts: ["a"] }), soakMinutes: 3 }])
    expect(f.rolloutPolicies["canary"]?.waves).toEqual([])
    const empty = decodeFleet({ ...exampleJson, rolloutPolicies: {} })
    expect(normalizeRolloutPolicies(empty).rolloutPolicies).toEqual({})
  })
})

describe("rollout manifest and projection (§2.2)", () => {
  const example = decodeFleet(exampleJson)
  const project = (channel: string, f = example) => projectManifest(f, ch(channel), HASH, ts("2026-05-16T01:00:00Z"), "def4567abc", "ed25519")

  it("projects the §5 stable manifest: sorted hostSet, fleet wave indexes, frozen budgets, meta", () => {
    const m = project("stable")
    expect(Either.isRight(m) && m.right).toEqual({
      schemaVersion: 1,
      displayName: "stable@def4567a",
      channel: "stable",
      channelRef: "def4567abc",
      fleetResolvedHash: HASH,
      hostSet: [
        { hostname: "web-01", waveIndex: 0, targetClosure: "3c4d-web01" },
        { hostname: "web-02", waveIndex: 1, targetClosure: "5e6f-web02" }
      ],
      healthGate: { systemdFailedUnits: { max: 0 } },
      disruptionBudgets: [{ selector: sel({ tags: ["web"] }), hosts: ["web-01", "web-02"], maxInFlight: 1, maxInFlightPct: null }],
      meta: { schemaVersion: 1, signedAt: ts("2026-05-16T01:00:00Z"), ciCommit: "def4567abc", signatureAlgorithm: "ed25519" }
    })
  })

  it("C15: waveIndex / targetClosure are camelCase on the wire; extra fields ignored; hostSet order kept on decode", () => {
    const m = project("stable")
    if (Either.isLeft(m) || m.right === null) return expect.fail("no manifest")
    const wire = Schema.encodeSync(RolloutManifest)(m.right)
    expect(wire.hostSet[0]).toEqual({ hostname: "web-01", waveIndex: 0, targetClosure: "3c4d-web01" })
    const reversed = { ...wire, hostSet: [...wire.hostSet].reverse(), complianceFrameworks: ["x"] }
    const back = Schema.decodeUnknownSync(RolloutManifest)(reversed)
    expect(back.hostSet.map((h) => h.hostname)).toEqual(["web-02", "web-01"])
    expect(back.hostSet[0]?.waveIndex).toBe(1)
  })

  it("fleetResolvedHash must be 64 lowercase hex", () => {
    const m = project("stable")
    if (Either.isLeft(m) || m.right === null) return expect.fail("no manifest")
    const wire = Schema.encodeSync(RolloutManifest)(m.right)
    expect(Either.isLeft(Schema.decodeUnknownEither(RolloutManifest)({ ...wire, fleetResolvedHash: "A".repeat(64) }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(RolloutManifest)({ ...wire, fleetResolvedHash: "a".repeat(63) }))).toBe(true)
  })

  it("budgets resolve against all fleet hosts, not just the channel's", () => {
    const f = fleet({ hosts: { b: { channel: "x", tags: ["t"] }, a: { channel: "y", tags: ["t"] } }, budgets: [{ selector: { tags: ["t"] }, maxInFlightPct: 50 }] })
    const m = projectManifest(f, ch("x"), HASH, T0, "r1", undefined)
    expect(Either.isRight(m) && m.right?.disruptionBudgets).toEqual([{ selector: sel({ tags: ["t"] }), hosts: ["a", "b"], maxInFlight: null, maxInFlightPct: 50 }])
    expect(Either.isRight(m) && m.right?.meta).toEqual({ schemaVersion: 1, signedAt: T0, ciCommit: "r1" })
  })

  it("an unassigned host gets waveIndex 0 (spec A11); a null ciCommit gives ref '' and displayName channel@unknown", () => {
    const f = fleet({ hosts: { a: { channel: "x" }, b: { channel: "x" } }, waves: { x: [["a"]] } })
    const m = projectManifest(f, ch("x"), HASH, T0, null, "ed25519")
    expect(Either.isRight(m) && m.right?.hostSet.map((h) => h.waveIndex)).toEqual([0, 0])
    expect(Either.isRight(m) && [m.right?.channelRef, m.right?.displayName]).toEqual(["", "x@unknown"])
  })

  it("no host with a closure → null; unknown channel or policy → error", () => {
    const f = fleet({ hosts: { a: { channel: "x", closure: null } } })
    expect(projectManifest(f, ch("x"), HASH, T0, "r", "ed25519")).toEqual(Either.right(null))
    const unknown = projectManifest(f, ch("nope"), HASH, T0, "r", "ed25519")
    expect(Either.isLeft(unknown) && unknown.left.message).toBe("channel nope missing from fleet.channels")
    const noPolicy = decodeFleet({ ...fleetJson({ hosts: { a: { channel: "x" } } }), rolloutPolicies: {} })
    const missing = projectManifest(noPolicy, ch("x"), HASH, T0, "r", "ed25519")
    expect(Either.isLeft(missing) && missing.left.message).toBe("rollout policy p for channel x not found in fleet.rolloutPolicies")
  })

  it("currentRolloutIds: one id per channel with a non-null projection; none for an unsigned fleet", () => {
    expect([...currentRolloutIds(example, HASH)]).toEqual(["infra@def4567abc", "stable@def4567abc"])
    const partly = fleet({ hosts: { a: { channel: "x" }, b: { channel: "y", closure: null } }, ciCommit: "c1" })
    expect([...currentRolloutIds(partly, HASH)]).toEqual(["x@c1"])
    const unsigned = decodeFleet({ ...exampleJson, meta: { schemaVersion: 1, signedAt: null, ciCommit: "c" } })
    expect(currentRolloutIds(unsigned, HASH).size).toBe(0)
  })
})
