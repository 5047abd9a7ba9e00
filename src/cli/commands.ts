/**
 * The operator CLI's commands: `status`, `rollout trace <id>`, `explain <host>` against a CP over
 * HTTP, and `keygen`, `sign`, `verify` for CI and operators handling signed releases.
 *
 * Invariant: every command's output is either a human table or, with `--json`, the API's JSON
 * (encoded with the wire schemas) — scripts can rely on the JSON shape being the API's.
 */
import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { Config, Console, Effect, Either, Option, Schema } from "effect"
import { HostState } from "../domain/hostState.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import { formatRfc3339, Timestamp } from "../domain/time.js"
import { TrustConfig } from "../domain/trust.js"
import { readVerifiedRelease } from "../cp/manifestSource/verifiedRelease.js"
import { makeDirectory } from "../cp/manifestSource/directory.js"
import { exportPrivateKeyPem, generateSigningKey, importSigningKey } from "../trust/keygen.js"
import { writeRelease } from "../trust/layout.js"
import { signRelease } from "../trust/sign.js"
import { FleetStatus, HostExplanationView, RolloutTrace } from "../wire/schemas.js"
import { cpClient } from "./client.js"
import { json, table } from "./render.js"

const cpUrl = Options.text("cp").pipe(
  Options.withDescription("control plane base URL"),
  Options.withFallbackConfig(Config.string("EFFECT_FLEET_CP_URL")),
  Options.withDefault("http://127.0.0.1:8080")
)
const token = Options.text("token").pipe(
  Options.withDescription("operator or agent bearer token (env EFFECT_FLEET_TOKEN)"),
  Options.withFallbackConfig(Config.string("EFFECT_FLEET_TOKEN")),
  Options.optional
)
const asJson = Options.boolean("json").pipe(Options.withDescription("print the API's JSON instead of a table"))

const connection = { cp: cpUrl, token, json: asJson }

/** Freshness window for artifacts without a channel window: 24 h, the fleet default. */
const DEFAULT_FRESHNESS_SECS = 24 * 3600

const encodeJson = <A, I>(schema: Schema.Schema<A, I>, value: A) => json(Schema.encodeSync(schema)(value))
const time = (t: number | null) => (t === null ? "-" : formatRfc3339(t))

/** `status`: every rollout with its state, wave and hosts per state. */
const status = Command.make("status", connection, ({ cp, json: asJsonOut, token }) =>
  Effect.gen(function* () {
    const client = yield* cpClient({ url: cp, token })
    const fleet = yield* client.operator.fleetStatus()
    if (asJsonOut) return yield* Console.log(encodeJson(FleetStatus, fleet))
    yield* Console.log(`ready: ${fleet.ready}${fleet.fleetHash === null ? "" : `  fleet: ${fleet.fleetHash.slice(0, 12)}`}`)
    const states = HostState.literals
    yield* Console.log(
      table(
        ["rollout", "state", "wave", ...states],
        fleet.rollouts.map((r) => [r.rolloutId, r.state, String(r.currentWave), ...states.map((s) => String(r.hostCounts[s] ?? 0))])
      )
    )
  })
).pipe(Command.withDescription("Show every rollout: state, current wave, hosts per state"))

/** `rollout trace <id>`: the rollout's event log in seq order. */
const trace = Command.make(
  "trace",
  { ...connection, rolloutId: Args.text({ name: "rollout-id" }), limit: Options.integer("limit").pipe(Options.withDefault(1000)) },
  ({ cp, json: asJsonOut, limit, rolloutId, token }) =>
    Effect.gen(function* () {
      const client = yield* cpClient({ url: cp, token })
      const result = yield* client.operator.trace({ path: { rolloutId: rolloutId as RolloutId }, urlParams: { limit } })
      if (asJsonOut) return yield* Console.log(encodeJson(RolloutTrace, result))
      yield* Console.log(
        table(
          ["seq", "at", "kind", "host", "what"],
          result.entries.map((e) => {
            const p = e.payload as Record<string, unknown> | null
            const what = p === null ? "" : String(p["kind"] ?? p["effect"] ?? "")
            return [String(e.seq), time(e.at), e.kind, e.hostname ?? "-", what]
          })
        )
      )
    })
).pipe(Command.withDescription("Print a rollout's audit trail (event log) in order"))

const rollout = Command.make("rollout").pipe(Command.withSubcommands([trace]), Command.withDescription("Rollout commands"))

/** `explain <host>`: every gate's verdict on a host. */
const explain = Command.make(
  "explain",
  { ...connection, host: Args.text({ name: "host" }), rolloutId: Options.text("rollout").pipe(Options.optional) },
  ({ cp, host, json: asJsonOut, rolloutId, token }) =>
    Effect.gen(function* () {
      const client = yield* cpClient({ url: cp, token })
      const result = yield* client.operator.explain({
        path: { hostname: host as HostId },
        urlParams: Option.match(rolloutId, { onNone: () => ({}), onSome: (r) => ({ rolloutId: r as RolloutId }) })
      })
      if (asJsonOut) return yield* Console.log(encodeJson(HostExplanationView, result))
      yield* Console.log(`${result.host} in ${result.rolloutId}: ${result.state}${result.considered ? "" : " (not gated: already dispatched or finished)"}`)
      yield* Console.log(table(["gate", "verdict", "reason"], result.verdicts.map((v) => [v.gate, v.block === null ? "pass" : "BLOCK", v.reason ?? ""])))
    })
).pipe(Command.withDescription("Explain why a host is (not) being updated: every gate's verdict"))

/** `keygen`: a new signing key (private PEM file) and its trust.json public entry. */
const keygen = Command.make(
  "keygen",
  {
    algorithm: Options.choice("algorithm", ["ed25519", "ecdsa-p256"]).pipe(Options.withDefault("ed25519" as const)),
    out: Options.file("out").pipe(Options.withDescription("where to write the private key (PEM, mode 0600)"))
  },
  ({ algorithm, out }) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const key = generateSigningKey(algorithm)
      yield* fs.writeFileString(out, exportPrivateKeyPem(key), { mode: 0o600 })
      yield* Console.log(json(key.public))
    })
).pipe(Command.withDescription("Generate a signing key; prints the public key entry for trust.json"))

/** `sign`: stamp, canonicalise and sign fleet.resolved and one manifest per channel into a release directory. */
const sign = Command.make(
  "sign",
  {
    key: Options.file("key").pipe(Options.withDescription("private key PEM (from keygen)")),
    fleet: Options.file("fleet").pipe(Options.withDescription("the fleet.resolved JSON to sign")),
    out: Options.directory("out").pipe(Options.withDescription("release directory to write")),
    ciCommit: Options.text("ci-commit").pipe(Options.withDescription("the CI commit: every manifest's channelRef")),
    trust: Options.file("trust").pipe(Options.withDescription("trust.json to copy into the release"), Options.optional)
  },
  ({ ciCommit, fleet, key, out, trust }) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const signingKey = yield* Either.match(importSigningKey(yield* fs.readFileString(key)), {
        onLeft: (e) => Effect.fail(e),
        onRight: Effect.succeed
      })
      const raw: unknown = JSON.parse(yield* fs.readFileString(fleet))
      const signedAt = Schema.decodeSync(Timestamp)(new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString())
      const release = yield* Either.match(signRelease(signingKey, raw, { signedAt, ciCommit }), { onLeft: Effect.fail, onRight: Effect.succeed })
      const trustConfig = Option.isSome(trust)
        ? Schema.decodeUnknownSync(TrustConfig)(JSON.parse(yield* fs.readFileString(trust.value)))
        : undefined
      yield* writeRelease(out, release, trustConfig)
      yield* Console.log(`signed fleet.resolved (${release.fleet.fleetResolvedHash}) and ${release.manifests.length} manifests into ${out}`)
    })
).pipe(Command.withDescription("Sign fleet.resolved and project + sign one rollout manifest per channel"))

/** `verify`: verify a release directory against its trust.json, as the CP's manifest poll does. */
const verify = Command.make("verify", { dir: Options.directory("dir"), json: asJson }, ({ dir, json: asJsonOut }) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const source = yield* makeDirectory({ root: path.resolve(dir) })
    const result = yield* readVerifiedRelease(source, DEFAULT_FRESHNESS_SECS)
    const summary = {
      fleetHash: result.release.manifests.fleetHash,
      channels: [...result.release.manifests.set.rollouts.keys()].sort(),
      dropped: [...result.dropped].map(([channel, error]) => ({ channel, reason: error.message }))
    }
    if (asJsonOut) return yield* Console.log(json(summary))
    yield* Console.log(`fleet.resolved OK (${summary.fleetHash})`)
    yield* Console.log(table(["channel", "manifest"], [
      ...summary.channels.map((c) => [c, "OK"]),
      ...summary.dropped.map((d) => [d.channel, `REJECTED: ${d.reason}`])
    ]))
  })
).pipe(Command.withDescription("Verify a signed release directory (signatures, freshness, manifest bindings)"))

/** The root command. */
export const cli = Command.make("effect-fleet").pipe(
  Command.withSubcommands([status, rollout, explain, keygen, sign, verify]),
  Command.withDescription("Operate an effect-fleet control plane and sign releases")
)
