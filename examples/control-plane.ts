/**
 * Example control plane: verifies signed releases from a directory (or an HTTP server), keeps
 * state in a SQLite file, and serves the agent and operator API.
 *
 *   tsx examples/control-plane.ts --manifests-dir ./release --tokens-file ./tokens.json
 *
 * Settings (flag / environment): `--db` FLEET_DB (default ./fleet.db), `--manifests-dir`
 * FLEET_MANIFESTS_DIR or `--manifests-url` FLEET_MANIFESTS_URL (+ `--trust-file`
 * FLEET_TRUST_FILE, required with a URL), `--listen` FLEET_LISTEN (default 127.0.0.1:8080),
 * `--tokens-file` FLEET_TOKENS_FILE (JSON `{token: hostname}`) or, with `--tls-cert`,
 * `--tls-key`, `--client-ca` (FLEET_TLS_CERT, FLEET_TLS_KEY, FLEET_CLIENT_CA), client
 * certificates; `--operator-token` FLEET_OPERATOR_TOKEN; `--poll-seconds` FLEET_POLL_SECONDS.
 *
 * Invariant: SIGINT/SIGTERM close the runtime's scope: the listener stops, in-flight requests
 * finish, the event-log writer drains, the database closes.
 */
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import { ControlPlane } from "effect-fleet"
import { layerBearerTokensFile } from "effect-fleet/memory"
import { layerSqlite } from "effect-fleet/sqlite"
import { flagsThenEnv } from "./config.js"

const settings = Config.all({
  db: Config.string("db").pipe(Config.withDefault("./fleet.db")),
  manifestsDir: Config.option(Config.string("manifestsDir")),
  manifestsUrl: Config.option(Config.string("manifestsUrl")),
  trustFile: Config.option(Config.string("trustFile")),
  listen: Config.string("listen").pipe(Config.withDefault("127.0.0.1:8080")),
  tokensFile: Config.option(Config.string("tokensFile")),
  tlsCert: Config.option(Config.string("tlsCert")),
  tlsKey: Config.option(Config.string("tlsKey")),
  clientCa: Config.option(Config.string("clientCa")),
  operatorToken: Config.option(Config.redacted("operatorToken")),
  pollSeconds: Config.integer("pollSeconds").pipe(Config.withDefault(30))
})

const program = Effect.gen(function* () {
  const s = yield* settings
  const [host, portText] = s.listen.includes(":") ? (s.listen.split(":") as [string, string]) : ["127.0.0.1", s.listen]
  const port = Number(portText)

  const manifests = Option.isSome(s.manifestsUrl)
    ? ControlPlane.layerHttp({
        baseUrl: s.manifestsUrl.value,
        trustFile: yield* Option.match(s.trustFile, {
          onNone: () => Effect.dieMessage("--trust-file is required with --manifests-url"),
          onSome: Effect.succeed
        })
      })
    : ControlPlane.layerDirectory({
        root: Option.getOrElse(s.manifestsDir, () => "./release"),
        ...Option.match(s.trustFile, { onNone: () => ({}), onSome: (trustFile) => ({ trustFile }) })
      })

  const tls = Option.all({ cert: s.tlsCert, key: s.tlsKey, ca: s.clientCa })
  const auth = Option.isSome(tls)
    ? ControlPlane.layerMtls()
    : layerBearerTokensFile(Option.getOrElse(s.tokensFile, () => "./tokens.json"))
  const http = {
    ...(Option.isSome(s.operatorToken) ? { operatorToken: s.operatorToken.value } : {}),
    ...(Option.isSome(tls)
      ? { tls: true as const, certPath: tls.value.cert, keyPath: tls.value.key, clientCaPath: tls.value.ca, port, host }
      : { port, host })
  }
  const storage = layerSqlite({ filename: s.db })

  yield* Effect.logInfo(`control plane: state in ${s.db}, listening on ${s.listen}`)
  return yield* Layer.launch(
    ControlPlane.layerRuntime({ http, poll: { interval: `${s.pollSeconds} seconds` } }).pipe(
      Layer.provide(Layer.mergeAll(manifests, auth)),
      Layer.provideMerge(storage),
      Layer.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
    )
  )
})

program.pipe(Effect.withConfigProvider(flagsThenEnv(process.argv.slice(2), "FLEET")), NodeRuntime.runMain)
