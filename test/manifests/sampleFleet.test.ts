/**
 * The sample-fleet generator (src/sim/sampleFleet.ts): deterministic content, the shape
 * the demo needs (3 channels × 20 hosts, waves, host and channel edges, a budget, one
 * rollback-and-halt canary policy), and a signed release that verifies against its trust.json.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { FleetResolved } from "../../src/domain/fleet.js"
import { trustRootsAt } from "../../src/trust/sidecar.js"
import { verifyManifestSet } from "../../src/trust/manifestSet.js"
import { verifyFleetSnapshot } from "../../src/trust/verify.js"
import { CANARY_POLICY, sampleFleet, SIGNED_AT, signedFleet, STAGED_POLICY } from "../support/signedFleet.js"

describe("sampleFleet", () => {
  it("is deterministic: the same options give the same encoded fleet", () => {
    const a = Schema.encodeSync(FleetResolved)(sampleFleet().fleet)
    const b = Schema.encodeSync(FleetResolved)(sampleFleet().fleet)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(JSON.stringify(Schema.encodeSync(FleetResolved)(sampleFleet({ ciCommit: "abc" }).fleet))).not.toBe(JSON.stringify(a))
  })

  it("has the demo's shape by default", () => {
    const sample = sampleFleet()
    const { fleet } = sample
    expect(sample.channels).toEqual(["infra", "web", "batch"])
    expect(sample.hosts).toHaveLength(60)
    for (const channel of sample.channels) {
      const waves = fleet.waves[channel]!
      expect(waves.map((w) => w.hosts.length)).toEqual([1, 9, 10])
      expect(waves[0]!.hosts).toEqual([sample.canaries.get(channel)])
      expect(fleet.hosts[sample.canaries.get(channel)!]!.tags).toContain("canary")
    }
    expect(fleet.channelEdges.map((e) => `${e.gates}->${e.gated}`)).toEqual(["infra->web", "web->batch"])
    expect(fleet.edges.map((e) => `${e.gates}->${e.gated}`)).toEqual(["infra-19->infra-20", "web-19->web-20", "batch-19->batch-20"])
    expect(fleet.disruptionBudgets).toHaveLength(1)
    expect(fleet.rolloutPolicies[CANARY_POLICY]!.onHealthFailure).toBe("rollback-and-halt")
    expect(fleet.rolloutPolicies[STAGED_POLICY]!.onHealthFailure).toBe("halt")
    expect(fleet.channels[sample.failingCanary.channel]!.rolloutPolicy).toBe(CANARY_POLICY)
    expect(sample.failingCanary).toEqual({ channel: "batch", host: "batch-01" })
  })

  it("scales down without empty waves or dangling edges", () => {
    const small = sampleFleet({ channels: 1, hostsPerChannel: 2, waves: 4 })
    expect(small.fleet.waves["infra" as never]!.map((w) => w.hosts)).toEqual([["infra-01"], ["infra-02"]])
    expect(small.fleet.edges).toEqual([])
    expect(small.fleet.channelEdges).toEqual([])
  })

  it("signs a release whose fleet and every manifest verify against its own trust.json", () => {
    const signed = signedFleet()
    const { keys, rejectBefore } = trustRootsAt(signed.trust, SIGNED_AT)
    const snapshot = Either.getOrThrow(
      verifyFleetSnapshot(signed.release.fleet.bytes, signed.release.fleet.signature, { keys, rejectBefore, now: SIGNED_AT, windowSecs: 3600 })
    )
    const fetched = new Map(signed.release.manifests.map((m) => [m.rolloutId, m] as const))
    const result = verifyManifestSet(snapshot, fetched, { keys, rejectBefore, now: SIGNED_AT })
    expect(result.failures.size).toBe(0)
    expect([...result.rollouts.keys()].sort()).toEqual(["batch", "infra", "web"])
    expect(result.rollouts.get(signed.failingCanary.channel)!.inner().hostSet).toHaveLength(20)
  })
})
