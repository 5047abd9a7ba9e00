/**
 * The operator CLI's offline commands, run as a real process (as CI would): keygen → sign →
 * verify, a tampered manifest reported as rejected, and a bad key refused with a non-zero exit.
 */
import { execFile } from "node:child_process"
import { mkdtemp, readFile, appendFile, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { sampleFleet, trustFor } from "../../src/sim/sampleFleet.js"
import { FleetResolved } from "../../src/domain/fleet.js"
import { TrustConfig } from "../../src/domain/trust.js"

const bin = path.resolve(__dirname, "../../src/cli/bin.ts")
const tsx = path.resolve(__dirname, "../../node_modules/.bin/tsx")

const cli = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(tsx, [bin, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

describe("effect-fleet CLI: keygen, sign, verify", () => {
  it("signs a fleet that verify accepts, and reports a tampered manifest", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fleet-cli-"))
    const key = path.join(dir, "key.pem")
    const gen = await cli(["keygen", "--out", key])
    expect(gen.code).toBe(0)
    const pub = JSON.parse(gen.stdout) as { algorithm: string; public: string }
    expect(pub.algorithm).toBe("ed25519")
    await writeFile(path.join(dir, "fleet.json"), JSON.stringify(Schema.encodeSync(FleetResolved)(sampleFleet().fleet)))
    await writeFile(path.join(dir, "trust.json"), JSON.stringify(Schema.encodeSync(TrustConfig)(trustFor(pub as never))))
    const out = path.join(dir, "release")
    const signed = await cli(["sign", "--key", key, "--fleet", path.join(dir, "fleet.json"), "--out", out, "--ci-commit", "abc123", "--trust", path.join(dir, "trust.json")])
    expect(signed.code, signed.stderr).toBe(0)
    expect(signed.stdout).toContain("3 manifests")

    const ok = await cli(["verify", "--dir", out, "--json"])
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ channels: ["batch", "infra", "web"], dropped: [] })

    // Canonicalisation makes whitespace irrelevant; corrupt the JSON itself.
    await appendFile(path.join(out, "releases/rollouts/web@abc123.json"), "x")
    const tampered = JSON.parse((await cli(["verify", "--dir", out, "--json"])).stdout) as { channels: Array<string>; dropped: Array<{ channel: string }> }
    expect(tampered.channels).toEqual(["batch", "infra"])
    expect(tampered.dropped.map((d) => d.channel)).toEqual(["web"])
  })

  it("refuses a key that is not a private key, with a non-zero exit", { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "fleet-cli-"))
    await writeFile(path.join(dir, "bad.pem"), "not a key")
    await writeFile(path.join(dir, "fleet.json"), "{}")
    const result = await cli(["sign", "--key", path.join(dir, "bad.pem"), "--fleet", path.join(dir, "fleet.json"), "--out", dir, "--ci-commit", "x"])
    expect(result.code).not.toBe(0)
    expect(await readFile(path.join(dir, "fleet.json"), "utf8")).toBe("{}")
  })
})
