/**
 * What the agent verifies before acting: fleet.resolved against its own trust.json (policies per
 * channel), and a dispatch against the signed rollout manifest (this host, this closure, this
 * rollout, bound to the verified fleet).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { verifyDispatch, verifyFleet } from "../../src/agent/index.js"
import type { ClosureHash, HostId, RolloutId, Timestamp } from "../../src/domain/index.js"
import type { DispatchEntry } from "../../src/ports/index.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../../src/trust/sidecar.js"
import type { SignedFleet, SignedManifest } from "../../src/wire/index.js"
import { CANARY_POLICY, SIGNED_AT, signedFleet, STAGED_POLICY, trustFor } from "../support/signedFleet.js"

const fleet = signedFleet({ channels: 2, hostsPerChannel: 2, waves: 1 })
const stranger = signedFleet({ channels: 2, hostsPerChannel: 2, waves: 1 })
const now = (SIGNED_AT + 60_000) as Timestamp
const window = DEFAULT_FRESHNESS_WINDOW_SECS
const bytes = (text: string) => new TextEncoder().encode(text)
const served: SignedFleet = { fleetHash: fleet.release.fleet.fleetResolvedHash, artifact: bytes(fleet.release.fleet.bytes), signature: fleet.release.fleet.signature }
const [infra] = fleet.release.manifests
const manifest: SignedManifest = { rolloutId: infra!.rolloutId, manifest: bytes(infra!.bytes), signature: infra!.signature }
const host = fleet.hosts.find((h) => h.startsWith("infra"))!
const entry: DispatchEntry = {
  hostname: host,
  rolloutId: infra!.rolloutId,
  targetClosure: fleet.fleet.hosts[host]!.closureHash!,
  soakDueAt: now,
  enqueuedAt: now
}
const verified = Either.getOrThrow(verifyFleet(served, fleet.trust, now, window))
const check = (e: DispatchEntry, m: SignedManifest = manifest, hostname: HostId = host) =>
  verifyDispatch(e, m, verified, { trust: fleet.trust, now, windowSecs: window, hostname })

describe("agent trust checks", () => {
  it("a fleet.resolved signed by the trusted key gives every channel's onHealthFailure", () => {
    const policies = Object.fromEntries(verified.policies)
    expect(policies).toEqual({ infra: fleet.fleet.rolloutPolicies[STAGED_POLICY]!.onHealthFailure, web: fleet.fleet.rolloutPolicies[CANARY_POLICY]!.onHealthFailure })
    expect(policies).toEqual({ infra: "halt", web: "rollback-and-halt" })
    expect(verified.fleetHash).toBe(fleet.release.fleet.fleetResolvedHash)
  })

  it("a fleet.resolved not signed by a key in the agent's trust.json, stale, or tampered is refused", () => {
    expect(Either.getLeft(verifyFleet(served, trustFor(stranger.key.public), now, window)).pipe((o) => o._tag)).toBe("Some")
    expect(Either.isLeft(verifyFleet(served, fleet.trust, (SIGNED_AT + (window + 3600) * 1000) as Timestamp, window))).toBe(true)
    const tampered = { ...served, artifact: bytes(fleet.release.fleet.bytes.replace("halt", "hal")) }
    expect(Either.isLeft(verifyFleet(tampered, fleet.trust, now, window))).toBe(true)
  })

  it("a dispatch that matches the signed manifest is accepted", () => {
    expect(Either.isRight(check(entry))).toBe(true)
  })

  it("a dispatch with another closure, for a host the manifest does not list, or under another rollout id is refused", () => {
    const refused = (result: Either.Either<void, { readonly reason: string }>) => Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value.reason : ""))
    expect(refused(check({ ...entry, targetClosure: "/nix/store/evil" as ClosureHash }))).toMatch(/not the dispatched/)
    expect(refused(check(entry, manifest, "web-01" as HostId))).toMatch(/does not list host web-01/)
    expect(refused(check({ ...entry, rolloutId: "infra@0000" as RolloutId }))).not.toBe("")
    const web = fleet.release.manifests[1]!
    expect(refused(check(entry, { rolloutId: web.rolloutId, manifest: bytes(web.bytes), signature: web.signature }))).not.toBe("")
  })
})
