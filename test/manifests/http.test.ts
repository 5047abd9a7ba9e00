/**
 * The HTTP ManifestSource against a loopback server (NodeHttpServer on port 0) serving a signed
 * release directory behind a bearer token: a full verified poll over HTTP, non-2xx answers as
 * typed errors, the token file re-read per request, and the 15 s timeout on the TestClock.
 */
import { createServer } from "node:http"
import { FileSystem, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeFileSystem, NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Option, Redacted, Ref, TestClock } from "effect"
import { ManifestPoll } from "../../src/cp/manifestPoll.js"
import { makeHttp } from "../../src/cp/manifestSource/http.js"
import type { RolloutId } from "../../src/domain/ids.js"
import { ManifestSource, type ManifestSourceError } from "../../src/ports/manifestSource.js"
import { SIGNED_AT, writeSignedFleet } from "../support/signedFleet.js"
import { eventually, recordingOffer } from "./support.js"

const TOKEN = "s3cret-token"

interface Seen {
  readonly path: string
  readonly authorization: string | undefined
}

/**
 * Serves `root` on 127.0.0.1 (random port) for the scope: 401 without `Bearer TOKEN`, 404 for a
 * missing file, 500 under `/broken/`, and never answers under `/hang/`. Records every request.
 */
const serveDirectory = (root: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const seen = yield* Ref.make<ReadonlyArray<Seen>>([])
    const app = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = decodeURIComponent(new URL(request.url, "http://loopback").pathname)
      const authorization = request.headers["authorization"]
      yield* Ref.update(seen, (s) => [...s, { path, authorization }])
      if (path.startsWith("/hang/")) return yield* Effect.never
      if (path.startsWith("/broken/")) return HttpServerResponse.text("boom", { status: 500 })
      if (authorization !== `Bearer ${TOKEN}`) return HttpServerResponse.text("unauthorized", { status: 401 })
      const bytes = yield* Effect.option(fs.readFile(`${root}${path}`))
      return Option.match(bytes, {
        onNone: () => HttpServerResponse.text("not found", { status: 404 }),
        onSome: (b) => HttpServerResponse.uint8Array(b)
      })
    })
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    yield* server.serve(app)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return { baseUrl: `http://127.0.0.1:${address.port}`, seen: Ref.get(seen) }
  })

const sourceError = <A>(result: Either.Either<A, ManifestSourceError>): ManifestSourceError => {
  if (Either.isRight(result)) return expect.fail("expected a ManifestSourceError")
  return result.left
}

const platform = Layer.mergeAll(NodeFileSystem.layer, NodeHttpClient.layerUndici)

describe("HTTP ManifestSource", () => {
  it.scoped("a poll over HTTP with a bearer token verifies the whole release", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { root, signed } = yield* writeSignedFleet()
      const server = yield* serveDirectory(root)
      const source = yield* makeHttp({ baseUrl: `${server.baseUrl}/`, trustFile: `${root}/trust.json`, bearerToken: Redacted.make(TOKEN) })
      const recorder = yield* recordingOffer()
      const poll = yield* ManifestPoll.make(recorder.offer).pipe(Effect.provideService(ManifestSource, source))
      const outcome = yield* poll.pollOnce
      expect(outcome._tag).toBe("Updated")
      expect(outcome._tag === "Updated" && [...outcome.manifests.set.rollouts.keys()].sort()).toEqual(["batch", "infra", "web"])
      const seen = yield* server.seen
      expect(seen.every((s) => s.authorization === `Bearer ${TOKEN}`)).toBe(true)
      expect(seen.map((s) => s.path).sort()).toEqual(
        [
          "/releases/fleet.resolved.json",
          "/releases/fleet.resolved.json.sig",
          ...signed.release.manifests.flatMap((m) => [`/releases/rollouts/${m.rolloutId}.json`, `/releases/rollouts/${m.rolloutId}.json.sig`])
        ].sort()
      )
    }).pipe(Effect.provide(platform))
  )

  it.scoped("non-2xx answers are typed errors: 401 is Http, 404 is NotFound, 500 is Http", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const server = yield* serveDirectory(root)
      const anonymous = yield* makeHttp({ baseUrl: server.baseUrl, trustFile: `${root}/trust.json` })
      const unauthorized = sourceError(yield* Effect.either(anonymous.fleetResolved))
      expect(unauthorized.reason).toBe("Http")
      expect(unauthorized.detail).toBe("HTTP 401: unauthorized")
      expect(unauthorized.location).toBe(`${server.baseUrl}/releases/fleet.resolved.json`)
      const authed = yield* makeHttp({ baseUrl: server.baseUrl, trustFile: `${root}/trust.json`, bearerToken: Redacted.make(TOKEN) })
      const missing = sourceError(yield* Effect.either(authed.rolloutManifest("web@0000" as RolloutId)))
      expect(missing.reason).toBe("NotFound")
      expect(missing.location).toBe(`${server.baseUrl}/releases/rollouts/web@0000.json`)
      const broken = yield* makeHttp({ baseUrl: `${server.baseUrl}/broken`, trustFile: `${root}/trust.json` })
      const error = sourceError(yield* Effect.either(broken.fleetResolved))
      expect([error.reason, error.detail]).toEqual(["Http", "HTTP 500: boom"])
    }).pipe(Effect.provide(platform))
  )

  it.scoped("the token file is re-read on every request (a rotated token works on the next poll)", () =>
    Effect.gen(function* () {
      const { root, signed } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      const tokenFile = `${root}/token`
      yield* fs.writeFileString(tokenFile, "stale-token\n")
      const server = yield* serveDirectory(root)
      const source = yield* makeHttp({ baseUrl: server.baseUrl, trustFile: `${root}/trust.json`, bearerTokenFile: tokenFile })
      expect(sourceError(yield* Effect.either(source.fleetResolved)).detail).toContain("HTTP 401")
      yield* fs.writeFileString(tokenFile, `${TOKEN}\n`)
      const pair = yield* source.fleetResolved
      expect(new TextDecoder().decode(pair.bytes)).toBe(signed.release.fleet.bytes)
      yield* fs.remove(tokenFile)
      const noToken = sourceError(yield* Effect.either(source.fleetResolved))
      expect([noToken.reason, noToken.location]).toEqual(["NotFound", tokenFile])
    }).pipe(Effect.provide(platform))
  )

  it.scoped("trust.json comes from the local file, never from the server", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const fs = yield* FileSystem.FileSystem
      const server = yield* serveDirectory(root)
      const local = `${root}/local-trust.json`
      yield* fs.writeFileString(local, "{\"local\":true}")
      const source = yield* makeHttp({ baseUrl: server.baseUrl, trustFile: local, bearerToken: Redacted.make(TOKEN) })
      expect(new TextDecoder().decode(yield* source.trustJson)).toBe("{\"local\":true}")
      expect(yield* server.seen).toEqual([])
    }).pipe(Effect.provide(platform))
  )

  it.scoped("a request that does not answer fails after the timeout (15 s by default)", () =>
    Effect.gen(function* () {
      const { root } = yield* writeSignedFleet()
      const server = yield* serveDirectory(root)
      const source = yield* makeHttp({ baseUrl: `${server.baseUrl}/hang`, trustFile: `${root}/trust.json` })
      const fiber = yield* Effect.fork(Effect.either(source.fleetResolved))
      yield* eventually(Effect.map(server.seen, (s) => s.length > 0))
      yield* TestClock.adjust("14 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const error = sourceError(yield* Fiber.join(fiber))
      expect([error.reason, error.detail]).toEqual(["Http", "timed out after 15s"])
    }).pipe(Effect.provide(platform))
  )
})
