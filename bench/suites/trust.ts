/**
 * Trust-layer throughput: RFC 8785 canonicalisation of a realistic 1k-host fleet.resolved, and
 * full verifications per second (parse, JCS, signature, schema decode, freshness) of that fleet
 * and of one rollout manifest, with Ed25519 and ECDSA P-256 keys.
 *
 * Invariant: every measured verification is checked to succeed, so a broken verifier cannot
 * post a figure; artifacts are signed by the suite itself with fresh keys.
 */
import { Either } from "effect"
import type { Timestamp } from "../../src/domain/index.js"
import { canonicalizeText } from "../../src/trust/jcs.js"
import { generateSigningKey, type SigningKey } from "../../src/trust/keygen.js"
import { checkSignature } from "../../src/trust/sidecar.js"
import { signRelease, type SignedRelease } from "../../src/trust/sign.js"
import { verifyFleetSnapshot, verifyRolloutManifest } from "../../src/trust/verify.js"
import { type BenchRow, type BenchSuite, si, timed } from "../lib.js"

const HOSTS = 1000
const CHANNELS = ["canary", "edge", "infra", "stable", "batch"] as const
const SIGNED_AT = Date.UTC(2026, 4, 16, 1) as Timestamp
const NOW = (SIGNED_AT + 600_000) as Timestamp
const selector = (over: Record<string, unknown>) => ({ tags: [], tagsAny: [], hosts: [], channel: null, all: false, ...over })

/** A fleet.resolved of HOSTS hosts over five channels, with waves, edges and budgets, unsigned. */
const realisticFleet = (): Record<string, unknown> => {
  const hosts: Record<string, unknown> = {}
  const waves: Record<string, Array<{ hosts: Array<string>; soakMinutes: number }>> = {}
  for (const c of CHANNELS) waves[c] = [0, 1, 2].map((w) => ({ hosts: [], soakMinutes: 10 * w }))
  for (let i = 0; i < HOSTS; i++) {
    const name = `host-${String(i).padStart(4, "0")}.eu-west.example.net`
    const channel = CHANNELS[i % CHANNELS.length] as string
    hosts[name] = {
      system: "x86_64-linux",
      tags: [`rack-${i % 40}`, i % 3 === 0 ? "db" : "web", i % 7 === 0 ? "gpu" : "cpu"],
      channel,
      closureHash: `/nix/store/${i.toString(16).padStart(32, "0")}-nixos-system-host-${i}-25.11`,
      pubkey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${i.toString(36).padStart(40, "x")}`
    }
    waves[channel]?.[i % 10 === 0 ? 0 : i % 3 === 0 ? 1 : 2]?.hosts.push(name)
  }
  const channels: Record<string, unknown> = {}
  for (const c of CHANNELS) {
    channels[c] = { rolloutPolicy: "canary", reconcileIntervalMinutes: 30, signingIntervalMinutes: 60, freshnessWindow: 1440 }
  }
  return {
    schemaVersion: 1,
    hosts,
    channels,
    rolloutPolicies: {
      canary: {
        strategy: "canary",
        healthGate: { systemdFailedUnits: { max: 0 } },
        onHealthFailure: "rollback-and-halt",
        waves: [
          { selector: selector({ tagsAny: ["gpu"] }), soakMinutes: 10 },
          { selector: selector({ all: true }), soakMinutes: 30 }
        ]
      }
    },
    waves,
    edges: Array.from({ length: 50 }, (_, i) => ({
      gated: `host-${String(i * 10 + 5).padStart(4, "0")}.eu-west.example.net`,
      gates: `host-${String(i * 10).padStart(4, "0")}.eu-west.example.net`,
      reason: null
    })),
    channelEdges: [{ gates: "infra", gated: "stable", reason: "schema first" }],
    disruptionBudgets: [
      { selector: selector({ tags: ["db"] }), maxInFlight: 5, maxInFlightPct: null },
      { selector: selector({ tagsAny: ["gpu"] }), maxInFlight: null, maxInFlightPct: 10 },
      { selector: selector({ all: true }), maxInFlight: 50, maxInFlightPct: 25 }
    ],
    meta: { schemaVersion: 1, signedAt: null, ciCommit: null }
  }
}

/** Runs `fn` in batches of ~`batchMs` and returns the median and best rate (operations per second). */
const rate = async (fn: () => void): Promise<{ readonly median: number; readonly best: number }> => {
  for (let i = 0; i < 20; i++) fn() // warm-up
  const rates: Array<number> = []
  for (let batch = 0; batch < 5; batch++) {
    let ops = 0
    const { ms } = await timed(() => {
      const start = performance.now()
      while (performance.now() - start < 400) {
        fn()
        ops++
      }
    })
    rates.push(ops / (ms / 1000))
  }
  const sorted = [...rates].sort((a, b) => a - b)
  return { median: sorted[2] as number, best: sorted[4] as number }
}

const row = (benchmark: string, r: { readonly median: number; readonly best: number }, unit: string): BenchRow => ({
  benchmark,
  result: `${si(r.median)} ${unit} (median of 5; best ${si(r.best)})`,
  target: "",
  met: null
})

const must = <A, E>(result: Either.Either<A, E>, what: string): A => {
  if (Either.isLeft(result)) throw new Error(`benchmark path broken (${what}): ${JSON.stringify(result.left)}`)
  return result.right
}

const verifyRows = async (label: string, key: SigningKey, release: SignedRelease): Promise<ReadonlyArray<BenchRow>> => {
  const roots = { keys: [key.public], rejectBefore: null, now: NOW, windowSecs: 86400 }
  const { bytes, signature } = release.fleet
  const manifest = release.manifests.find((m) => m.channel === "stable")
  if (manifest === undefined) throw new Error("no stable manifest")
  const fleetKb = (Buffer.byteLength(bytes) / 1024).toFixed(0)
  const manifestKb = (Buffer.byteLength(manifest.bytes) / 1024).toFixed(1)
  const full = await rate(() => void must(verifyFleetSnapshot(bytes, signature, roots), "fleet"))
  const sigOnly = await rate(() => void must(checkSignature(bytes, signature, roots.keys), "signature"))
  const manifestRate = await rate(
    () =>
      void must(
        verifyRolloutManifest(manifest.bytes, manifest.signature, {
          ...roots,
          requestedId: manifest.rolloutId,
          fleetResolvedHash: release.fleet.fleetResolvedHash
        }),
        "manifest"
      )
  )
  return [
    row(`verify fleet.resolved, ${HOSTS} hosts (${fleetKb} KiB), ${label}: parse+JCS+signature+decode+freshness`, full, "verifications/s"),
    row(`  of which parse+JCS+signature only, ${label}`, sigOnly, "verifications/s"),
    row(`verify rollout manifest, ${HOSTS / CHANNELS.length} hosts (${manifestKb} KiB), ${label}, incl. id and hash binding`, manifestRate, "verifications/s")
  ]
}

/** The trust-layer suite. */
export const suite: BenchSuite = {
  name: "trust",
  run: async () => {
    const raw = realisticFleet()
    const ed = generateSigningKey("ed25519")
    const p256 = generateSigningKey("ecdsa-p256")
    const meta = { signedAt: SIGNED_AT, ciCommit: "def4567abc123def4567abc123def4567abc123d" }
    const edRelease = must(signRelease(ed, raw, meta), "sign ed25519")
    const p256Release = must(signRelease(p256, raw, meta), "sign p256")
    const pretty = JSON.stringify(JSON.parse(edRelease.fleet.bytes), null, 2)
    const kib = Buffer.byteLength(pretty) / 1024
    const jcs = await rate(() => void must(canonicalizeText(pretty), "jcs"))
    const sign = await rate(() => void must(signRelease(ed, raw, meta), "sign"))
    return [
      row(`JCS canonicalizeText, fleet.resolved ${HOSTS} hosts (${kib.toFixed(0)} KiB pretty)`, jcs, "docs/s"),
      {
        ...row(`  same, as bytes`, { median: (jcs.median * kib) / 1024, best: (jcs.best * kib) / 1024 }, "MiB/s"),
        result: `${((jcs.median * kib) / 1024).toFixed(1)} MiB/s (median of 5; best ${((jcs.best * kib) / 1024).toFixed(1)})`
      },
      ...(await verifyRows("ed25519", ed, edRelease)),
      ...(await verifyRows("ecdsa-p256", p256, p256Release)),
      row(`sign a release (fleet + ${edRelease.manifests.length} manifests), ed25519`, sign, "releases/s")
    ]
  }
}
