/**
 * Example agent: runs one host's agent against a control plane — verifies the CP's signed
 * fleet.resolved and manifests with its own trust.json, activates closures on real nix (or a
 * simulated host), runs its health probes, and keeps its outbound events in a SQLite file so a
 * crash loses none.
 *
 *   tsx examples/agent.ts --cp-url http://127.0.0.1:8080 --machine-id infra-01 \
 *     --trust-file ./release/trust.json --token token-infra-01 --state-dir ./agent-state --activator simulated
 *
 * Settings (flag / environment `NIXFLEET_AGENT_*`):
 * - `--cp-url` CP_URL (required): the control plane's base URL;
 * - `--machine-id` MACHINE_ID (required): this host's name, as its credentials prove it;
 * - `--trust-file` TRUST_FILE (required): trust.json; a file that does not parse stops the agent;
 * - `--token` TOKEN or `--token-file` TOKEN_FILE: a bearer token; or `--client-cert` CLIENT_CERT
 *   and `--client-key` CLIENT_KEY (PEM files): a client certificate; `--ca-cert` CA_CERT: the
 *   CA of the CP's server certificate;
 * - `--state-dir` STATE_DIR (default /var/lib/nixfleet-agent): holds `outbound.sqlite`;
 * - `--health-checks` HEALTH_CHECKS (default /etc/nixfleet/agent/health-checks.json): probe
 *   declarations; a missing or invalid file means no probes (as the reference);
 * - `--activator` ACTIVATOR: `nix` (default; effect-fleet/nix) or `simulated` (effect-fleet/memory);
 * - `--manifest-freshness-window-secs` MANIFEST_FRESHNESS_WINDOW_SECS (default 86400, the CP's).
 *
 * Invariant: SIGINT/SIGTERM interrupt the program (NodeRuntime.runMain): the agent's scope closes,
 * every worker stops, queued events stay in the SQLite file for the next start.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { Agent, type HostId, ProbeDeclaration, TrustConfig } from "effect-fleet"
import { layerSimulatedHost } from "effect-fleet/memory"
import { layerNix, layerProbeRunner } from "effect-fleet/nix"
import { layerSqliteOutboundQueue } from "effect-fleet/sqlite"
import { flagsThenEnv } from "./config.js"

const settings = Config.all({
  cpUrl: Config.string("cpUrl"),
  machineId: Config.nonEmptyString("machineId"),
  trustFile: Config.string("trustFile"),
  token: Config.option(Config.redacted("token")),
  tokenFile: Config.option(Config.string("tokenFile")),
  clientCert: Config.option(Config.string("clientCert")),
  clientKey: Config.option(Config.string("clientKey")),
  caCert: Config.option(Config.string("caCert")),
  stateDir: Config.string("stateDir").pipe(Config.withDefault("/var/lib/nixfleet-agent")),
  healthChecks: Config.string("healthChecks").pipe(Config.withDefault("/etc/nixfleet/agent/health-checks.json")),
  activator: Config.literal("nix", "simulated")("activator").pipe(Config.withDefault("nix" as const)),
  manifestFreshnessWindowSecs: Config.option(Config.integer("manifestFreshnessWindowSecs"))
})

const HealthChecks = Schema.parseJson(Schema.Record({ key: Schema.String, value: ProbeDeclaration }))

const program = Effect.gen(function* () {
  const s = yield* settings
  const fs = yield* FileSystem.FileSystem
  const read = (path: string) => fs.readFileString(path).pipe(Effect.orDieWith((e) => `cannot read ${path}: ${e.message}`))

  const trust = yield* Effect.flatMap(read(s.trustFile), Schema.decodeUnknown(Schema.parseJson(TrustConfig))).pipe(
    Effect.orDieWith((e) => `trust file ${s.trustFile} refused: ${e.message}`)
  )
  const probes = yield* fs.readFileString(s.healthChecks).pipe(
    Effect.flatMap(Schema.decodeUnknown(HealthChecks)),
    Effect.catchAll((e) => Effect.as(Effect.logWarning(`no health checks from ${s.healthChecks}: ${e.message}`), {}))
  )

  const certificate = Option.all({ cert: s.clientCert, key: s.clientKey })
  const credentials = Option.isSome(certificate)
    ? Agent.CpCredentials.ClientCertificate({
        certPem: yield* read(certificate.value.cert),
        keyPem: Redacted.make(yield* read(certificate.value.key))
      })
    : Option.isSome(s.token)
      ? Agent.CpCredentials.BearerToken({ token: s.token.value })
      : Option.isSome(s.tokenFile)
        ? Agent.CpCredentials.BearerToken({ token: Redacted.make((yield* read(s.tokenFile.value)).trim()) })
        : Agent.CpCredentials.Anonymous()
  const caPem = Option.isSome(s.caCert) ? { caPem: yield* read(s.caCert.value) } : {}

  yield* fs.makeDirectory(s.stateDir, { recursive: true }).pipe(Effect.orDieWith((e) => `state dir ${s.stateDir}: ${e.message}`))
  const outbound = layerSqliteOutboundQueue({ filename: `${s.stateDir}/outbound.sqlite` })
  const host =
    s.activator === "nix"
      ? Layer.merge(layerNix(), layerProbeRunner())
      : layerSimulatedHost({ initialClosure: null, activationTime: "5 seconds", rollbackTime: "5 seconds" })

  yield* Effect.logInfo(`agent ${s.machineId}: control plane ${s.cpUrl}, ${s.activator} activator, state in ${s.stateDir}`)
  return yield* Layer.launch(
    Agent.layer({
      hostname: s.machineId as HostId,
      trust,
      probes,
      ...Option.match(s.manifestFreshnessWindowSecs, { onNone: () => ({}), onSome: (freshnessWindowSecs) => ({ freshnessWindowSecs }) })
    }).pipe(
      Layer.provide(Agent.layerHttpClient({ baseUrl: s.cpUrl, credentials, ...caPem })),
      Layer.provide(outbound),
      Layer.provide(host)
    )
  )
})

program.pipe(
  Effect.provide(NodeContext.layer),
  Effect.withConfigProvider(flagsThenEnv(process.argv.slice(2), "NIXFLEET_AGENT")),
  NodeRuntime.runMain
)
