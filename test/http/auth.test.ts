/**
 * AgentAuth adapters: bearer tokens (map, tokens file, Config) and mutual TLS over a real HTTPS
 * listener (CN → hostname, unverified or missing certificates, revocations), plus the CN rule.
 */
import { FileSystem, HttpServer, HttpServerRequest } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer } from "effect"
import * as https from "node:https"
import { layerBearerTokens, layerBearerTokensConfig, layerBearerTokensFile } from "../../adapters/memory/agentAuth.js"
import { hostnameFromCommonName, layerMtls, mtlsServerOptions, readTlsMaterial } from "../../src/cp/auth/index.js"
import { layerNodeServer } from "../../src/cp/http/index.js"
import type { HostId, Timestamp } from "../../src/domain/index.js"
import { AgentAuth } from "../../src/ports/agentAuth.js"
import { Storage } from "../../src/ports/index.js"
import { PROTOCOL_HEADER } from "../../src/wire/index.js"
import { cpLayer } from "../cp/support.js"
import { makeTestPki, type Pem } from "./certs.js"
import { publish } from "./support.js"

const requestWith = (authorization?: string) =>
  HttpServerRequest.fromWeb(new Request("http://cp.test/v1/agent/dispatch", authorization === undefined ? {} : { headers: { authorization } }))

const authenticate = (authorization?: string) => Effect.flatMap(AgentAuth, (auth) => Effect.either(auth.authenticate(requestWith(authorization))))

describe("bearer-token AgentAuth", () => {
  it.effect("maps a known token to its host and refuses missing or unknown tokens", () =>
    Effect.gen(function* () {
      expect(yield* authenticate("Bearer t-1")).toEqual(Either.right("h1"))
      expect(yield* authenticate("bearer   t-2 ")).toEqual(Either.right("h2"))
      const missing = yield* authenticate()
      const unknown = yield* authenticate("Bearer t-3")
      const basic = yield* authenticate("Basic dDox")
      for (const r of [missing, unknown, basic]) expect(Either.isLeft(r) && r.left._tag === "Unauthorized").toBe(true)
    }).pipe(Effect.provide(layerBearerTokens({ "t-1": "h1" as HostId, "t-2": "h2" as HostId })))
  )

  it.effect("reads a JSON tokens file", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* fs.makeTempFileScoped({ prefix: "tokens-" })
      yield* fs.writeFileString(path, JSON.stringify({ "file-token": "h7" }))
      const result = yield* authenticate("Bearer file-token").pipe(Effect.provide(layerBearerTokensFile(path)))
      expect(result).toEqual(Either.right("h7"))
      yield* fs.writeFileString(path, "[1, 2]")
      const bad = yield* Effect.either(Layer.build(layerBearerTokensFile(path)))
      expect(Either.isLeft(bad)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))
  )

  it.effect("reads the tokens from Config", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromMap(new Map([["EFFECT_FLEET_AGENT_TOKENS", JSON.stringify({ "cfg-token": "h5" })]]))
      const result = yield* authenticate("Bearer cfg-token").pipe(Effect.provide(layerBearerTokensConfig()), Effect.withConfigProvider(provider))
      expect(result).toEqual(Either.right("h5"))
    })
  )
})

describe("certificate CN → hostname (spec §1.1)", () => {
  it("strips agent-<id>.<suffix>, passes bare CNs through, refuses empty ones", () => {
    expect(hostnameFromCommonName("agent-h1.fleet.lab.internal")).toBe("h1")
    expect(hostnameFromCommonName("agent-web-01.example.org", "example.org")).toBe("web-01")
    expect(hostnameFromCommonName("agent-h1.other.suffix")).toBe("agent-h1.other.suffix")
    expect(hostnameFromCommonName("h2")).toBe("h2")
    expect(hostnameFromCommonName("")).toBeNull()
    expect(hostnameFromCommonName("agent-.fleet.lab.internal")).toBeNull()
  })
})

// The HTTPS server the CP builds itself (layerNodeServer), so the agent fast path runs in front of
// the HttpApi (and is switched off for the second run): the mTLS adapter must see the same TLS
// socket through the fast path's lean request.
for (const fastPath of [true, false]) describe(`mTLS AgentAuth over HTTPS (fastPath: ${fastPath})`, () => {
  const pki = makeTestPki()
  const tls = readTlsMaterial({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath, clientCaPath: pki.caPath })
  const serverLayer = Layer.unwrapEffect(
    Effect.map(tls, (material) => layerNodeServer(() => https.createServer(mtlsServerOptions(material)), { port: 0, host: "127.0.0.1" }, { fastPath }))
  ).pipe(Layer.provide(layerMtls()), Layer.provideMerge(cpLayer()))

  /** One HTTPS request from a client presenting `identity` (or no certificate). */
  const call = (method: "GET" | "POST", path: string, identity: Pem | null, body?: unknown) =>
    Effect.gen(function* () {
      const server = yield* HttpServer.HttpServer
      const port = server.address._tag === "TcpAddress" ? server.address.port : 0
      return yield* Effect.async<{ readonly status: number; readonly body: unknown }, Error>((resume) => {
        const req = https.request(
          {
            host: "127.0.0.1",
            port,
            method,
            path,
            ca: pki.ca,
            servername: "localhost",
            headers: { [PROTOCOL_HEADER]: "1", "content-type": "application/json" },
            ...(identity === null ? {} : { cert: identity.cert, key: identity.key })
          },
          (res) => {
            let text = ""
            res.setEncoding("utf8")
            res.on("data", (chunk: string) => (text += chunk))
            res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body: text === "" ? null : JSON.parse(text) })))
          }
        )
        req.on("error", (e) => resume(Effect.fail(e)))
        req.end(body === undefined ? undefined : JSON.stringify(body))
      })
    })

  const heartbeat = (hostname: string) => ({ hostname, at: "2026-05-16T01:00:10Z" })
  const h1 = pki.client("agent-h1.fleet.lab.internal")

  it.effect("the verified certificate's CN is the host: h1 may heartbeat for h1, not for h2", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* call("POST", "/v1/agent/heartbeat", h1, heartbeat("h1"))).status).toBe(200)
      const other = yield* call("POST", "/v1/agent/heartbeat", h1, heartbeat("h2"))
      expect(other.status).toBe(403)
      expect(other.body).toMatchObject({ _tag: "Forbidden" })
    }).pipe(Effect.provide(serverLayer))
  )

  it.effect("a bare CN names the host directly (dispatch takes the hostname from the certificate)", () =>
    Effect.gen(function* () {
      yield* publish()
      const response = yield* call("GET", "/v1/agent/dispatch?wait=0", pki.client("h2"))
      expect(response.status).toBe(200)
      expect(response.body).toMatchObject({ hostname: "h2" })
    }).pipe(Effect.provide(serverLayer))
  )

  it.effect("no certificate: /healthz answers, /v1 routes are 401", () =>
    Effect.gen(function* () {
      yield* publish()
      expect((yield* call("GET", "/healthz", null)).status).toBe(200)
      const refused = yield* call("POST", "/v1/agent/heartbeat", null, heartbeat("h1"))
      expect(refused.status).toBe(401)
      expect(refused.body).toMatchObject({ _tag: "Unauthorized", reason: expect.stringMatching(/not verified/) })
    }).pipe(Effect.provide(serverLayer))
  )

  it.effect("a certificate from another CA is refused (401)", () =>
    Effect.gen(function* () {
      yield* publish()
      const rogue = pki.client("agent-h1.fleet.lab.internal", { rogue: true })
      expect((yield* call("POST", "/v1/agent/heartbeat", rogue, heartbeat("h1"))).status).toBe(401)
    }).pipe(Effect.provide(serverLayer))
  )

  it.effect("a certificate issued before the host's revocation is refused (401); nothing else is", () =>
    Effect.gen(function* () {
      yield* publish()
      const storage = yield* Storage
      const later = (Date.now() + 86_400_000) as Timestamp
      yield* storage.upsertRevocation({ hostname: "h1" as HostId, notBefore: later, reason: "key compromised", revokedAt: later, revokedBy: null })
      const revoked = yield* call("POST", "/v1/agent/heartbeat", h1, heartbeat("h1"))
      expect(revoked.status).toBe(401)
      expect(revoked.body).toMatchObject({ reason: expect.stringMatching(/revocation/) })
      expect((yield* call("GET", "/v1/agent/dispatch?wait=0", pki.client("h2"))).status).toBe(200)
    }).pipe(Effect.provide(serverLayer))
  )
})
