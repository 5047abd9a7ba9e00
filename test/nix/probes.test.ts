/**
 * The real ProbeRunner (spec §7): exec against real processes, http against a loopback server,
 * tcp against open and closed loopback ports, evidence files signed with a host key, disabled
 * probes, and the 512-byte failure-reason cap. Real processes and sockets, so the live clock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { createServer as createTcpServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { capReason, DISABLED_REASON, layerProbeRunner, REASON_LIMIT_BYTES, TRUNCATED } from "../../adapters/nix/index.js"
import type { ProbeName } from "../../src/domain/ids.js"
import { type ProbeDeclaration, ProbeDeclaration as Declaration, ProbeRunner } from "../../src/ports/probeRunner.js"
import { generateSigningKey, signJson } from "../../src/trust/index.js"
import { probeRunnerConformance } from "../ports/hostConformance.js"

const name = (n: string) => n as ProbeName
/** A declaration as health-checks.json would give it (defaults filled by the port's schema). */
const declare = (raw: Record<string, unknown>): ProbeDeclaration => Schema.decodeUnknownSync(Declaration)(raw)
const run = (raw: Record<string, unknown>) => Effect.flatMap(ProbeRunner, (runner) => runner.run(name("p"), declare(raw)))
const tmp = () => mkdtempSync(join(tmpdir(), "effect-fleet-probe-"))

probeRunnerConformance("nix exec", layerProbeRunner(), {
  passing: [name("true"), declare({ kind: "exec", command: ["true"] })],
  failing: [name("false"), declare({ kind: "exec", command: ["false"] })]
})

describe("nix ProbeRunner: exec", () => {
  it.live("exit 0 passes; a non-zero exit fails with the last 3 stderr lines, newest first", () =>
    Effect.gen(function* () {
      expect(yield* run({ kind: "exec", command: ["sh", "-c", "echo fine >&2; exit 0"] })).toEqual({
        status: "pass",
        failureReason: null,
        subResults: null
      })
      const failed = yield* run({ kind: "exec", command: ["sh", "-c", "for l in one two three four; do echo $l >&2; done; exit 3"] })
      expect(failed).toEqual({ status: "fail", failureReason: "exit code 3: four / three / two", subResults: null })
    }).pipe(Effect.provide(layerProbeRunner()))
  )

  it.live("a command past its timeout fails with a reason, and the child is killed", () =>
    Effect.gen(function* () {
      const dir = tmp()
      const pidFile = join(dir, "pid")
      const started = Date.now()
      const outcome = yield* run({ kind: "exec", command: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 30`], timeoutSecs: 0.5 })
      expect(Date.now() - started).toBeLessThan(5000)
      expect(outcome.status).toBe("fail")
      expect(outcome.failureReason).toContain("timed out")
      const pid = Number(readFileSync(pidFile, "utf8"))
      expect(() => process.kill(pid, 0)).toThrow()
    }).pipe(Effect.provide(layerProbeRunner()))
  )

  it.live("a command that cannot start fails with a reason", () =>
    Effect.gen(function* () {
      const outcome = yield* run({ kind: "exec", command: ["/nonexistent/effect-fleet-probe"] })
      expect(outcome.status).toBe("fail")
      expect(outcome.failureReason).toContain("/nonexistent/effect-fleet-probe")
    }).pipe(Effect.provide(layerProbeRunner()))
  )

  it.live("a disabled probe is never run: it answers fail with DISABLED_REASON; observe runs like enforce", () =>
    Effect.gen(function* () {
      const marker = join(tmp(), "ran")
      const touch = { kind: "exec", command: ["touch", marker] }
      expect(yield* run({ ...touch, mode: "disabled" })).toEqual({ status: "fail", failureReason: DISABLED_REASON, subResults: null })
      expect(existsSync(marker)).toBe(false)
      expect((yield* run({ ...touch, mode: "observe" })).status).toBe("pass")
      expect(existsSync(marker)).toBe(true)
    }).pipe(Effect.provide(layerProbeRunner()))
  )

  it.live("§7: failure reasons are capped at 512 bytes, cut on a character boundary, with ...[truncated]", () =>
    Effect.gen(function* () {
      const outcome = yield* run({ kind: "exec", command: ["sh", "-c", "printf 'é%.0s' $(seq 1 600) >&2; exit 1"] })
      const reason = outcome.failureReason ?? ""
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(REASON_LIMIT_BYTES)
      expect(reason.startsWith("exit code 1: éé")).toBe(true)
      expect(reason.endsWith(TRUNCATED)).toBe(true)
      expect(reason).not.toContain("\uFFFD")
    }).pipe(Effect.provide(layerProbeRunner()))
  )
})

it.live("§7: an unknown kind (raw data past the schema) is a fail, not a crash", () =>
  Effect.gen(function* () {
    const runner = yield* ProbeRunner
    const raw: unknown = { kind: "smtp", mode: "enforce", intervalSeconds: 30, runOnce: false }
    const outcome = yield* runner.run(name("odd"), raw as ProbeDeclaration)
    expect(outcome).toEqual({ status: "fail", failureReason: 'unknown probe kind "smtp"', subResults: null })
  }).pipe(Effect.provide(layerProbeRunner()))
)

it("capReason keeps short reasons and bounds long ones at exactly the limit", () => {
  expect(capReason("short")).toBe("short")
  const exact = "x".repeat(REASON_LIMIT_BYTES)
  expect(capReason(exact)).toBe(exact)
  const long = capReason("y".repeat(REASON_LIMIT_BYTES + 1))
  expect(Buffer.byteLength(long)).toBe(REASON_LIMIT_BYTES)
  expect(long).toBe("y".repeat(REASON_LIMIT_BYTES - TRUNCATED.length) + TRUNCATED)
})

/** A loopback HTTP server: /ok 200, /down 503, /moved → /ok, /slow never answers. */
const httpServer = Effect.acquireRelease(
  Effect.async<Server>((resume) => {
    const server = createServer((req, res) => {
      if (req.url === "/ok") res.writeHead(200).end("ok")
      else if (req.url === "/down") res.writeHead(503).end("down")
      else if (req.url === "/moved") res.writeHead(302, { location: "/ok" }).end()
      // /slow: never answered
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)
const urlOf = (server: Server, path: string) => {
  const address = server.address()
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}${path}`
}

describe("nix ProbeRunner: http", () => {
  it.live("the expected status passes (redirects followed); another status fails; no answer times out", () =>
    Effect.gen(function* () {
      const server = yield* httpServer
      expect((yield* run({ kind: "http", url: urlOf(server, "/ok") })).status).toBe("pass")
      expect((yield* run({ kind: "http", url: urlOf(server, "/moved") })).status).toBe("pass")
      expect((yield* run({ kind: "http", url: urlOf(server, "/down"), expectStatus: 503 })).status).toBe("pass")
      const wrong = yield* run({ kind: "http", url: urlOf(server, "/down") })
      expect(wrong).toEqual({ status: "fail", failureReason: `GET ${urlOf(server, "/down")}: expected status 200, got 503`, subResults: null })
      const started = Date.now()
      const slow = yield* run({ kind: "http", url: urlOf(server, "/slow"), timeoutSecs: 0.3 })
      expect(Date.now() - started).toBeLessThan(3000)
      expect(slow).toEqual({ status: "fail", failureReason: `GET ${urlOf(server, "/slow")}: no response within 0.3s`, subResults: null })
    }).pipe(Effect.scoped, Effect.provide(layerProbeRunner()))
  )

  it.live("a refused connection fails with a reason", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const outcome = yield* run({ kind: "http", url: `http://127.0.0.1:${port}/`, timeoutSecs: 2 })
      expect(outcome.status).toBe("fail")
      expect(outcome.failureReason).toContain(`127.0.0.1:${port}`)
    }).pipe(Effect.provide(layerProbeRunner()))
  )
})

/** A loopback port nothing listens on (bound, then closed). */
const closedPort = Effect.async<number>((resume) => {
  const server = createTcpServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("nix ProbeRunner: tcp", () => {
  it.live("an open port passes; a closed one fails with the error", () =>
    Effect.gen(function* () {
      const server = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createTcpServer>>((resume) => {
          const s = createTcpServer((socket) => socket.end())
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) => Effect.async<void>((resume) => void s.close(() => resume(Effect.void)))
      )
      const address = server.address()
      const open = typeof address === "object" && address !== null ? address.port : 0
      expect(yield* run({ kind: "tcp", port: open })).toEqual({ status: "pass", failureReason: null, subResults: null })
      const closed = yield* closedPort
      const refused = yield* run({ kind: "tcp", port: closed, connectTimeoutSecs: 2 })
      expect(refused.status).toBe("fail")
      expect(refused.failureReason).toContain(`127.0.0.1:${closed}`)
      expect(refused.failureReason).toContain("ECONNREFUSED")
    }).pipe(Effect.scoped, Effect.provide(layerProbeRunner()))
  )
})

/** An OpenSSH `ssh-ed25519` public key line for a raw 32-byte key. */
const sshPublicKeyLine = (raw: Uint8Array) => {
  const field = (bytes: Uint8Array) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    return Buffer.concat([length, bytes])
  }
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")} root@toy\n`
}

/** A host key and an evidence file signed with it, written the way a compliance tool might. */
const signedEvidence = (evidence: unknown) => {
  const dir = tmp()
  const key = generateSigningKey("ed25519")
  const hostKey = join(dir, "ssh_host_ed25519_key.pub")
  writeFileSync(hostKey, sshPublicKeyLine(Buffer.from(key.public.public, "base64")))
  const evidencePath = join(dir, "evidence.json")
  // Pretty-printed: the signature covers the canonical (RFC 8785) form, not these bytes.
  writeFileSync(evidencePath, JSON.stringify(evidence, null, 2))
  const signed = signJson(key, evidence)
  if (signed._tag === "Left") throw new Error(signed.left.message)
  writeFileSync(`${evidencePath}.sig`, Buffer.from(signed.right.signature).toString("base64") + "\n")
  return { evidencePath, hostKey }
}

const EVIDENCE = {
  schemaVersion: 1,
  controls: [
    { id: "ssh-root-login", status: "pass", frameworks: [{ framework: "nis2", article: "21.2.j" }] },
    { id: "disk-encryption", status: "fail", frameworks: [{ framework: "nis2", article: "21.2.h" }, { framework: "iso27001" }] },
    { id: "audit-log", status: "fail", frameworks: [{ framework: "nis2", article: "21.2.f" }] },
    { id: "local-rule", status: "pass" }
  ]
}

describe("nix ProbeRunner: evidence", () => {
  it.live("§7 evidence: framework mode, overrides set each sub-result's effective mode and reason; enforce failures fail", () => {
    const { evidencePath, hostKey } = signedEvidence(EVIDENCE)
    return Effect.gen(function* () {
      const outcome = yield* run({
        kind: "evidence",
        framework: "nis2",
        evidencePath,
        controlOverrides: { "audit-log": { mode: "observe", reason: "log shipping migrates in Q3" }, "ssh-root-login": { mode: "disabled" } }
      })
      expect(outcome.subResults).toEqual([
        { controlId: "disk-encryption", status: "fail", framework: "nis2", article: "21.2.h", effectiveMode: "enforce", overrideReason: null },
        { controlId: "audit-log", status: "fail", framework: "nis2", article: "21.2.f", effectiveMode: "observe", overrideReason: "log shipping migrates in Q3" }
      ])
      expect(outcome.status).toBe("fail")
      expect(outcome.failureReason).toBe("failing enforce controls: disk-encryption (nis2 21.2.h)")

      const relaxed = yield* run({
        kind: "evidence",
        framework: "nis2",
        evidencePath,
        controlOverrides: { "disk-encryption": { mode: "observe", reason: "hardware refresh" }, "audit-log": { mode: "observe" } }
      })
      expect(relaxed.status).toBe("pass")
      expect(relaxed.failureReason).toBeNull()
      expect(relaxed.subResults?.map((r) => [r.controlId, r.status, r.effectiveMode, r.overrideReason])).toEqual([
        ["ssh-root-login", "pass", "enforce", null],
        ["disk-encryption", "fail", "observe", "hardware refresh"],
        ["audit-log", "fail", "observe", null]
      ])
    }).pipe(Effect.provide(layerProbeRunner({ evidenceHostKey: hostKey })))
  })

  it.live("§7 evidence: controls mode runs only the listed controls, one sub-result per framework; unlisted are dropped", () => {
    const { evidencePath, hostKey } = signedEvidence(EVIDENCE)
    return Effect.gen(function* () {
      const outcome = yield* run({
        kind: "evidence",
        evidencePath,
        controls: { "local-rule": { mode: "enforce" }, "disk-encryption": { mode: "observe", reason: "tracked" } }
      })
      expect(outcome.status).toBe("pass")
      expect(outcome.subResults).toEqual([
        { controlId: "local-rule", status: "pass", framework: "custom", article: null, effectiveMode: "enforce", overrideReason: null },
        { controlId: "disk-encryption", status: "fail", framework: "nis2", article: "21.2.h", effectiveMode: "observe", overrideReason: "tracked" },
        { controlId: "disk-encryption", status: "fail", framework: "iso27001", article: null, effectiveMode: "observe", overrideReason: "tracked" }
      ])
      const missing = yield* run({ kind: "evidence", evidencePath, controls: { "no-such-control": { mode: "enforce" } } })
      expect(missing.status).toBe("fail")
      expect(missing.failureReason).toBe("failing enforce controls: no-such-control (custom)")
    }).pipe(Effect.provide(layerProbeRunner({ evidenceHostKey: hostKey })))
  })

  it.live("§7 evidence: a tampered file, a wrong schemaVersion, a bad declaration or no sub-results all fail", () => {
    const { evidencePath, hostKey } = signedEvidence(EVIDENCE)
    const v2 = signedEvidence({ ...EVIDENCE, schemaVersion: 2 })
    return Effect.gen(function* () {
      const nothing = yield* run({ kind: "evidence", framework: "soc2", evidencePath })
      expect(nothing).toMatchObject({ status: "fail", failureReason: "no controls to check in the evidence file" })
      const both = yield* run({ kind: "evidence", framework: "nis2", controls: {}, evidencePath })
      expect(both).toMatchObject({ status: "fail", failureReason: "an evidence probe needs exactly one of framework or controls" })
      const absent = yield* run({ kind: "evidence", framework: "nis2", evidencePath: join(tmp(), "absent.json") })
      expect(absent.status).toBe("fail")
      expect(absent.failureReason).toContain("cannot read evidence file")

      writeFileSync(evidencePath, JSON.stringify({ ...EVIDENCE, controls: EVIDENCE.controls.map((c) => ({ ...c, status: "pass" })) }))
      const tampered = yield* run({ kind: "evidence", framework: "nis2", evidencePath })
      expect(tampered).toMatchObject({ status: "fail", failureReason: "evidence signature does not verify" })
      const version = yield* run({ kind: "evidence", framework: "nis2", evidencePath: v2.evidencePath }).pipe(
        Effect.provide(layerProbeRunner({ evidenceHostKey: v2.hostKey }))
      )
      expect(version).toMatchObject({ status: "fail", failureReason: "evidence schemaVersion 2 is not 1" })
    }).pipe(Effect.provide(layerProbeRunner({ evidenceHostKey: hostKey })))
  })
})
