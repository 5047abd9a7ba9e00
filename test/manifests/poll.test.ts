/**
 * `ManifestPoll.pollOnce` against a memory source holding a real signed sample fleet: spec
 * runtime §2.6 steps 1–4 and the failure policy of planner spec §4 (a bad fleet keeps the last
 * good set; a bad channel is dropped alone), with time from the TestClock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Schema, TestClock } from "effect"
import { PollOutcome } from "../../src/cp/manifestPoll.js"
import { FleetResolved } from "../../src/domain/fleet.js"
import type { ChannelId } from "../../src/domain/ids.js"
import { RolloutManifest } from "../../src/domain/manifest.js"
import { generateSigningKey } from "../../src/trust/keygen.js"
import { FLEET_RESOLVED_PATH, rolloutManifestPath, signaturePath, TRUST_PATH, trustJsonText } from "../../src/trust/layout.js"
import { memorySource, SIGNED_AT, signedFleet, tamper, trustFor } from "../support/signedFleet.js"
import { pollOver } from "./support.js"

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

const updated = (outcome: PollOutcome) => {
  if (outcome._tag !== "Updated") expect.fail(`expected Updated, got ${outcome._tag}: ${JSON.stringify(outcome)}`)
  return outcome as Extract<PollOutcome, { _tag: "Updated" }>
}
const rejected = (outcome: PollOutcome) => {
  if (outcome._tag !== "FleetRejected") expect.fail(`expected FleetRejected, got ${outcome._tag}`)
  return (outcome as Extract<PollOutcome, { _tag: "FleetRejected" }>).error
}
const channels = (outcome: { readonly manifests: { readonly set: { readonly rollouts: ReadonlyMap<ChannelId, unknown> } } }) =>
  [...outcome.manifests.set.rollouts.keys()].sort()

const dropTags = (outcome: { readonly dropped: ReadonlyMap<ChannelId, { readonly _tag: string }> }) =>
  [...outcome.dropped.values()].map((e) => e._tag)

const manifestOf = (signed: ReturnType<typeof signedFleet>, channel: string) => {
  const m = signed.release.manifests.find((x) => x.channel === channel)
  if (m === undefined) return expect.fail(`no manifest for ${channel}`)
  return m
}

describe("ManifestPoll.pollOnce", () => {
  it.effect("verifies the release and offers the expected ManifestSet, fleet hash, signedAt and artifacts", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const { poll, accepted } = yield* pollOver(yield* memorySource(signed))
      const outcome = updated(yield* poll.pollOnce)
      const { manifests } = outcome
      expect(outcome.dropped.size).toBe(0)
      expect(manifests.set.fleet).toEqual(Schema.decodeUnknownSync(Schema.parseJson(FleetResolved))(signed.release.fleet.bytes))
      expect(channels(outcome)).toEqual(["batch", "infra", "web"])
      for (const m of signed.release.manifests) {
        expect(manifests.set.rollouts.get(m.channel)).toEqual(Schema.decodeUnknownSync(Schema.parseJson(RolloutManifest))(m.bytes))
        const artifact = manifests.rolloutArtifacts.get(m.rolloutId)
        expect(new TextDecoder().decode(artifact?.artifact)).toBe(m.bytes)
        expect(Array.from(artifact?.signature ?? [])).toEqual(Array.from(m.signature))
      }
      expect(manifests.fleetHash).toBe(signed.release.fleet.fleetResolvedHash)
      expect(manifests.signedAt).toBe(SIGNED_AT)
      expect(yield* accepted).toEqual([manifests])
      const latest = Option.getOrThrow(yield* poll.latest)
      expect(latest.manifests).toBe(manifests)
      expect(new TextDecoder().decode(latest.fleetArtifact.artifact)).toBe(signed.release.fleet.bytes)
    })
  )

  it.effect("an identical release is Unchanged and not offered again; a re-signed one is offered", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const { poll, accepted } = yield* pollOver(source)
      const first = updated(yield* poll.pollOnce)
      const second = yield* poll.pollOnce
      expect(second._tag).toBe("Unchanged")
      expect(yield* accepted).toHaveLength(1)
      const next = signedFleet({ key: signed.key, ciCommit: "0123456789abcdef" })
      for (const f of next.files) yield* source.put(f.path, f.content)
      const third = updated(yield* poll.pollOnce)
      expect(third.manifests.fleetHash).not.toBe(first.manifests.fleetHash)
      expect([...third.manifests.rolloutArtifacts.keys()].sort()).toEqual(["batch@0123456789abcdef", "infra@0123456789abcdef", "web@0123456789abcdef"])
      expect(yield* accepted).toHaveLength(2)
    })
  )

  it.effect("a new signature over the same bytes (key rotation) is an update the routes must serve", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const { poll } = yield* pollOver(source)
      updated(yield* poll.pollOnce)
      const rotated = signedFleet()
      expect(rotated.release.fleet.bytes).toBe(signed.release.fleet.bytes)
      for (const f of rotated.files) yield* source.put(f.path, f.content)
      const outcome = updated(yield* poll.pollOnce)
      const web = manifestOf(rotated, "web")
      expect(Array.from(outcome.manifests.rolloutArtifacts.get(web.rolloutId)?.signature ?? [])).toEqual(Array.from(web.signature))
    })
  )

  it.effect("a channel with a tampered manifest is dropped (BadSignature) while the others are kept", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const web = manifestOf(signed, "web")
      yield* source.put(rolloutManifestPath(web.rolloutId), tamper(utf8(web.bytes)))
      const { poll, accepted } = yield* pollOver(source)
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual(["batch", "infra"])
      expect(outcome.manifests.rolloutArtifacts.has(web.rolloutId)).toBe(false)
      expect([...outcome.dropped.keys()]).toEqual(["web"])
      expect(outcome.dropped.get("web" as ChannelId)?._tag).toBe("BadSignature")
      expect(yield* accepted).toHaveLength(1)
    })
  )

  it.effect("a manifest signed by a key trust.json does not list is dropped", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const stranger = signedFleet() // same content, another fresh key
      const source = yield* memorySource(signed)
      const web = manifestOf(stranger, "web")
      yield* source.put(signaturePath(rolloutManifestPath(web.rolloutId)), web.signature)
      const { poll } = yield* pollOver(source)
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual(["batch", "infra"])
      expect(outcome.dropped.get("web" as ChannelId)?._tag).toBe("BadSignature")
    })
  )

  it.effect("a missing manifest drops only its channel, with the source's NotFound error", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const infra = manifestOf(signed, "infra")
      yield* source.remove(rolloutManifestPath(infra.rolloutId))
      const { poll } = yield* pollOver(source)
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual(["batch", "web"])
      const drop = outcome.dropped.get("infra" as ChannelId)
      expect(drop?._tag).toBe("ManifestSourceError")
      expect(drop?._tag === "ManifestSourceError" && drop.reason).toBe("NotFound")
    })
  )

  it.effect("a manifest bound to another fleet.resolved is dropped (FleetHashMismatch)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const later = signedFleet({ key: signed.key, freshnessWindowMinutes: 720 }) // same commit and ids, another fleet
      const source = yield* memorySource(signed)
      yield* source.put(FLEET_RESOLVED_PATH, utf8(later.release.fleet.bytes))
      yield* source.put(signaturePath(FLEET_RESOLVED_PATH), later.release.fleet.signature)
      const { poll } = yield* pollOver(source)
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual([])
      expect(dropTags(outcome)).toEqual(["FleetHashMismatch", "FleetHashMismatch", "FleetHashMismatch"])
    })
  )

  it.effect("a manifest served under another rollout id is dropped (rollout_id discriminator)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const web = manifestOf(signed, "web")
      const infra = manifestOf(signed, "infra")
      yield* source.put(rolloutManifestPath(web.rolloutId), utf8(infra.bytes))
      yield* source.put(signaturePath(rolloutManifestPath(web.rolloutId)), infra.signature)
      const { poll } = yield* pollOver(source)
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual(["batch", "infra"])
      const drop = outcome.dropped.get("web" as ChannelId)
      expect(drop?._tag).toBe("RolloutIdMismatch")
      expect(drop?.message).toContain("rollout_id discriminator failed")
    })
  )

  it.effect("a tampered fleet.resolved is refused and the previous good set stays (nothing offered)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const { poll, accepted } = yield* pollOver(source)
      const good = updated(yield* poll.pollOnce)
      yield* source.put(FLEET_RESOLVED_PATH, tamper(utf8(signed.release.fleet.bytes)))
      expect(rejected(yield* poll.pollOnce)._tag).toBe("BadSignature")
      expect(yield* accepted).toEqual([good.manifests])
      expect(Option.getOrThrow(yield* poll.latest).manifests).toBe(good.manifests)
      yield* source.put(FLEET_RESOLVED_PATH, utf8(signed.release.fleet.bytes))
      expect((yield* poll.pollOnce)._tag).toBe("Unchanged")
    })
  )

  it.effect("a fleet past the freshness window is refused as Stale; window + 60 s is still fresh", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { poll, accepted } = yield* pollOver(yield* memorySource(signedFleet()), { defaultWindowSecs: 3600 })
      updated(yield* poll.pollOnce)
      yield* TestClock.adjust("3660 seconds")
      expect((yield* poll.pollOnce)._tag).toBe("Unchanged")
      yield* TestClock.adjust("1 second")
      const error = rejected(yield* poll.pollOnce)
      expect(error._tag).toBe("Stale")
      expect(yield* accepted).toHaveLength(1)
    })
  )

  it.effect("channel manifests use their channel's freshnessWindow: stale manifests drop while the fleet stays fresh", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { poll } = yield* pollOver(yield* memorySource(signedFleet({ freshnessWindowMinutes: 10 })))
      yield* TestClock.adjust("661 seconds") // 10 min window + 60 s slack, plus 1 s
      const outcome = updated(yield* poll.pollOnce)
      expect(channels(outcome)).toEqual([])
      expect(dropTags(outcome)).toEqual(["Stale", "Stale", "Stale"])
    })
  )

  it.effect("a fleet signed by a key trust.json does not list is refused; the next poll re-reads trust.json", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      yield* source.put(TRUST_PATH, utf8(trustJsonText(trustFor(generateSigningKey("ed25519").public))))
      const { poll, accepted } = yield* pollOver(source)
      expect(rejected(yield* poll.pollOnce)._tag).toBe("BadSignature")
      expect(yield* accepted).toHaveLength(0)
      expect(Option.isNone(yield* poll.latest)).toBe(true)
      yield* source.put(TRUST_PATH, utf8(trustJsonText(signed.trust)))
      updated(yield* poll.pollOnce)
    })
  )

  it.effect("rejectBefore in trust.json refuses a fleet signed before it", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const source = yield* memorySource(signed)
      const trust = { ...signed.trust, ciReleaseKey: { ...signed.trust.ciReleaseKey, rejectBefore: SIGNED_AT + 1 } }
      yield* source.put(TRUST_PATH, utf8(trustJsonText(trust as typeof signed.trust)))
      const { poll } = yield* pollOver(source)
      expect(rejected(yield* poll.pollOnce)._tag).toBe("RejectedBeforeTimestamp")
    })
  )

  it.effect("an invalid or missing trust.json refuses the poll with a typed error", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const source = yield* memorySource(signedFleet())
      const { poll } = yield* pollOver(source)
      yield* source.put(TRUST_PATH, utf8(JSON.stringify({ schemaVersion: 2, ciReleaseKey: {} })))
      expect(rejected(yield* poll.pollOnce)._tag).toBe("InvalidTrustConfig")
      yield* source.put(TRUST_PATH, new Uint8Array([0xff, 0xfe]))
      expect(rejected(yield* poll.pollOnce).message).toContain("not UTF-8")
      yield* source.remove(TRUST_PATH)
      const missing = rejected(yield* poll.pollOnce)
      expect(missing._tag === "ManifestSourceError" && missing.reason).toBe("NotFound")
    })
  )

  it.effect("while the reducer refuses (queue full) the update is retried until accepted, never dropped", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { poll, calls, accepted } = yield* pollOver(yield* memorySource(signedFleet()), {}, 3)
      const fiber = yield* Effect.fork(poll.pollOnce)
      yield* TestClock.adjust("5 seconds")
      const outcome = updated(yield* Fiber.join(fiber))
      expect(yield* calls).toBe(4)
      expect(yield* accepted).toEqual([outcome.manifests])
    })
  )
})
