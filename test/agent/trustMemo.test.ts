/**
 * The agent's verification memo (src/agent/trust.ts): agents in one process served the same
 * bytes object verify it once, and the memo never answers what verification would not: a
 * memoised fleet or manifest is refused once stale, under another trust root or kill-switch, for
 * another rollout id, and a tampered copy (other bytes) is verified on its own.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { verifyDispatch, verifyFleet } from "../../src/agent/index.js"
import type { Timestamp } from "../../src/domain/index.js"
import type { DispatchEntry } from "../../src/ports/index.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../../src/trust/sidecar.js"
import type { SignedFleet, SignedManifest } from "../../src/wire/index.js"
import { SIGNED_AT, signedFleet, trustFor } from "../support/signedFleet.js"

const fleet = signedFleet({ channels: 2, hostsPerChannel: 2, waves: 1 })
const stranger = signedFleet({ channels: 2, hostsPerChannel: 2, waves: 1 })
const window = DEFAULT_FRESHNESS_WINDOW_SECS
const at = (seconds: number) => (SIGNED_AT + seconds * 1000) as Timestamp
const bytes = (text: string) => new TextEncoder().encode(text)
const served: SignedFleet = { fleetHash: fleet.release.fleet.fleetResolvedHash, artifact: bytes(fleet.release.fleet.bytes), signature: fleet.release.fleet.signature }
const infra = fleet.release.manifests[0]!
const manifest: SignedManifest = { rolloutId: infra.rolloutId, manifest: bytes(infra.bytes), signature: infra.signature }
const host = fleet.hosts.find((h) => h.startsWith("infra"))!
const entry: DispatchEntry = { hostname: host, rolloutId: infra.rolloutId, targetClosure: fleet.fleet.hosts[host]!.closureHash!, soakDueAt: at(60), enqueuedAt: at(60) }
/** One second past the freshness window and its 60 s clock-skew slack. */
const staleAfter = window + 61

describe("agent verification memo", () => {
  it("the same bytes object verified again (another agent, later) gives the very same result, not a second verification", () => {
    const first = Either.getOrThrow(verifyFleet(served, fleet.trust, at(60), window))
    const again = Either.getOrThrow(verifyFleet(served, fleet.trust, at(600), window))
    expect(again).toBe(first)
    // A copy of the bytes is another object: verified on its own, to an equal result.
    const copy = Either.getOrThrow(verifyFleet({ ...served, artifact: bytes(fleet.release.fleet.bytes) }, fleet.trust, at(60), window))
    expect(copy).not.toBe(first)
    expect(copy).toEqual(first)
  })

  it("a memoised fleet is refused once stale, under another trust root, or after the kill-switch", () => {
    expect(Either.isRight(verifyFleet(served, fleet.trust, at(60), window))).toBe(true)
    expect(Either.isRight(verifyFleet(served, fleet.trust, at(staleAfter - 1), window))).toBe(true)
    expect(Either.getLeft(verifyFleet(served, fleet.trust, at(staleAfter), window)).pipe((o) => (o._tag === "Some" ? o.value.reason : ""))).toMatch(/stale/i)
    expect(Either.isLeft(verifyFleet(served, trustFor(stranger.key.public), at(60), window))).toBe(true)
    const killed = { ...fleet.trust, ciReleaseKey: { ...fleet.trust.ciReleaseKey, rejectBefore: at(1) } }
    expect(Either.isLeft(verifyFleet(served, killed, at(60), window))).toBe(true)
    // Still fresh and trusted: the memo serves it again.
    expect(Either.isRight(verifyFleet(served, fleet.trust, at(120), window))).toBe(true)
  })

  it("a memoised manifest is refused once stale, for another rollout id, or bound to another fleet hash", () => {
    const verified = Either.getOrThrow(verifyFleet(served, fleet.trust, at(60), window))
    const check = (e: DispatchEntry, now: Timestamp, fleetHash = verified.fleetHash) =>
      verifyDispatch(e, manifest, { ...verified, fleetHash }, { trust: fleet.trust, now, windowSecs: window, hostname: host })
    expect(Either.isRight(check(entry, at(60)))).toBe(true)
    expect(Either.isRight(check(entry, at(120)))).toBe(true)
    expect(Either.isLeft(check(entry, at(staleAfter + 24 * 3600)))).toBe(true)
    expect(Either.isLeft(check({ ...entry, rolloutId: fleet.release.manifests[1]!.rolloutId }, at(60)))).toBe(true)
    expect(Either.isLeft(check(entry, at(60), "0".repeat(64)))).toBe(true)
    expect(Either.isRight(check(entry, at(60)))).toBe(true)
  })
})
