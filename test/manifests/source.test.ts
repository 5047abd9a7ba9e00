/**
 * ManifestSource adapters: the directory adapter reads a release written by the signed-fleet
 * helper byte for byte; missing artifacts and unsafe rollout ids are typed `NotFound` errors; the
 * memory adapter reads, replaces and unpublishes files.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { makeMemoryManifestSource } from "../../adapters/memory/manifestSource.js"
import { makeDirectory } from "../../src/cp/manifestSource/directory.js"
import { isSafeRolloutId } from "../../src/cp/manifestSource/reader.js"
import type { RolloutId } from "../../src/domain/ids.js"
import { ManifestSourceError } from "../../src/ports/manifestSource.js"
import { FLEET_RESOLVED_PATH, rolloutManifestPath, trustJsonText } from "../../src/trust/layout.js"
import { signedFleet, writeSignedFleet } from "../support/signedFleet.js"

const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

const expectSourceError = <A>(result: Either.Either<A, ManifestSourceError>, reason: ManifestSourceError["reason"]) => {
  expect(Either.isLeft(result)).toBe(true)
  const error = (result as Either.Left<ManifestSourceError, A>).left
  expect(error).toBeInstanceOf(ManifestSourceError)
  expect(error.reason).toBe(reason)
  return error
}

describe("directory ManifestSource", () => {
  it.scoped("reads trust.json, fleet.resolved and every manifest exactly as the helper signed them", () =>
    Effect.gen(function* () {
      const { root, signed } = yield* writeSignedFleet()
      const source = yield* makeDirectory({ root })
      expect(utf8(yield* source.trustJson)).toBe(trustJsonText(signed.trust))
      const fleet = yield* source.fleetResolved
      expect(utf8(fleet.bytes)).toBe(signed.release.fleet.bytes)
      expect(Array.from(fleet.signature)).toEqual(Array.from(signed.release.fleet.signature))
      expect(signed.release.manifests.map((m) => m.channel)).toEqual(["batch", "infra", "web"])
      for (const m of signed.release.manifests) {
        const pair = yield* source.rolloutManifest(m.rolloutId)
        expect(utf8(pair.bytes)).toBe(m.bytes)
        expect(Array.from(pair.signature)).toEqual(Array.from(m.signature))
      }
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a missing manifest or signature is NotFound and names the path", () =>
    Effect.gen(function* () {
      const { root, signed } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      const source = yield* makeDirectory({ root })
      const missing = expectSourceError(yield* Effect.either(source.rolloutManifest("web@0000" as RolloutId)), "NotFound")
      expect(missing.location).toBe(`${root}/${rolloutManifestPath("web@0000")}`)
      const first = signed.release.manifests[0]!
      yield* fs.remove(`${root}/${rolloutManifestPath(first.rolloutId)}.sig`)
      const noSig = expectSourceError(yield* Effect.either(source.rolloutManifest(first.rolloutId)), "NotFound")
      expect(noSig.location.endsWith(".sig")).toBe(true)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("an unreadable artifact (a directory in its place) is Io", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      yield* fs.remove(`${root}/${FLEET_RESOLVED_PATH}`)
      yield* fs.makeDirectory(`${root}/${FLEET_RESOLVED_PATH}`)
      const source = yield* makeDirectory({ root })
      expectSourceError(yield* Effect.either(source.fleetResolved), "Io")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("trustFile overrides <root>/trust.json", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      const other = `${root}/elsewhere.json`
      yield* fs.writeFileString(other, "{\"other\":true}")
      const source = yield* makeDirectory({ root, trustFile: other })
      expect(utf8(yield* source.trustJson)).toBe("{\"other\":true}")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a rollout id that is not a safe file name never reaches the file system", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      yield* fs.writeFileString(`${root}/releases/secret.json`, "{}")
      yield* fs.writeFileString(`${root}/releases/secret.json.sig`, "x")
      const source = yield* makeDirectory({ root })
      const error = expectSourceError(yield* Effect.either(source.rolloutManifest("../secret" as RolloutId)), "NotFound")
      expect(error.detail).toContain("not a safe file name")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})

describe("isSafeRolloutId", () => {
  it("accepts channel@ref ids and refuses path-like ones", () => {
    expect(["web@3f2a9c1", "web@", "my.channel@abc"].every(isSafeRolloutId)).toBe(true)
    expect(["", ".", "..", "a/b@c", "a\\b@c", "a@b?x", "a@b#x", "a%2f@b", "a\0@b"].some(isSafeRolloutId)).toBe(false)
  })
})

describe("memory ManifestSource", () => {
  it.effect("serves the release files, picks up replacements and reports removed files as NotFound", () =>
    Effect.gen(function* () {
      const signed = signedFleet({ channels: 1, hostsPerChannel: 2 })
      const source = yield* makeMemoryManifestSource(signed.files)
      const manifest = signed.release.manifests[0]!
      expect(utf8((yield* source.rolloutManifest(manifest.rolloutId)).bytes)).toBe(manifest.bytes)
      yield* source.put(FLEET_RESOLVED_PATH, new TextEncoder().encode("{}"))
      expect(utf8((yield* source.fleetResolved).bytes)).toBe("{}")
      yield* source.remove(`${rolloutManifestPath(manifest.rolloutId)}.sig`)
      expectSourceError(yield* Effect.either(source.rolloutManifest(manifest.rolloutId)), "NotFound")
    })
  )

  it.effect("returns copies: mutating read bytes does not change the stored release", () =>
    Effect.gen(function* () {
      const signed = signedFleet({ channels: 1, hostsPerChannel: 2 })
      const source = yield* makeMemoryManifestSource(signed.files)
      const read = yield* source.fleetResolved
      read.bytes[0] = 0
      expect(utf8((yield* source.fleetResolved).bytes)).toBe(signed.release.fleet.bytes)
    })
  )
})
