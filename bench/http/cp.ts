/**
 * The control plane of the HTTP benchmark, run as its own process (`node --import tsx
 * bench/http/cp.ts --dir <tmp> --channels C --hosts-per-channel H --tokens-file <json>
 * --operator-token <t>`), so the load generator and the server never share an event loop.
 * It is composed like examples/control-plane.ts: `layerRuntime` on a SQLite file, a directory
 * ManifestSource holding a freshly signed sample fleet, bearer tokens from a JSON file.
 *
 * Invariants: listens on 127.0.0.1 only; prints exactly one `READY <port>` line on stdout once
 * the runtime is built (the manifest prime has run; the rollouts open on the reducer's first
 * plan, which the parent waits for); SIGTERM / SIGINT close the runtime's scope (the listener
 * stops, the event-log writer drains, the database closes). Plan tick and manifest poll keep the
 * example CP's defaults unless `--plan-seconds` / `--poll-seconds` say otherwise; `--trace-requests
 * false` drops the per-request `http.server` span (CpHttpOptions.traceRequests); `--fast-path false`
 * serves the agent routes through the HttpApi too (CpHttpOptions.fastPath).
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { createServer } from "node:net"
import { join } from "node:path"
import { layerBearerTokensFile } from "../../adapters/memory/agentAuth.js"
import { layerSqlite } from "../../adapters/sqlite/index.js"
import { flagsThenEnv } from "../../examples/config.js"
import { writeSampleFleet } from "../../src/sim/sampleFleet.js"
import { layerDirectory } from "../../src/cp/manifestSource/directory.js"
import { layerRuntime } from "../../src/cp/runtime.js"
import type { Timestamp } from "../../src/domain/time.js"

const settings = Config.all({
  dir: Config.string("dir"),
  channels: Config.integer("channels"),
  hostsPerChannel: Config.integer("hostsPerChannel"),
  tokensFile: Config.string("tokensFile"),
  operatorToken: Config.redacted("operatorToken"),
  planSeconds: Config.integer("planSeconds").pipe(Config.withDefault(15)),
  pollSeconds: Config.integer("pollSeconds").pipe(Config.withDefault(30)),
  traceRequests: Config.boolean("traceRequests").pipe(Config.withDefault(true)),
  fastPath: Config.boolean("fastPath").pipe(Config.withDefault(true))
})

/** A port the OS calls free now (bound to 127.0.0.1:0, then released). */
const freePort = Effect.async<number, Error>((resume) => {
  const probe = createServer()
  probe.once("error", (e) => resume(Effect.fail(e)))
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.fail(new Error("no port assigned"))))
  })
})

const program = Effect.gen(function* () {
  const s = yield* settings
  const root = join(s.dir, "release")
  const hosts = s.channels * s.hostsPerChannel
  // Signed now, fresh for a week; the budget lets every host be in flight at once.
  const signedAt = Date.now() as Timestamp
  yield* writeSampleFleet(root, signedAt, {
    channels: s.channels,
    hostsPerChannel: s.hostsPerChannel,
    freshnessWindowMinutes: 7 * 24 * 60,
    maxInFlight: hosts
  })
  const port = yield* freePort
  const runtime = layerRuntime({
    core: { planInterval: `${s.planSeconds} seconds` },
    poll: { interval: `${s.pollSeconds} seconds` },
    http: { port, host: "127.0.0.1", operatorToken: s.operatorToken, traceRequests: s.traceRequests, fastPath: s.fastPath }
  }).pipe(
    Layer.provide(Layer.mergeAll(layerDirectory({ root }), layerBearerTokensFile(s.tokensFile))),
    Layer.provideMerge(layerSqlite({ filename: join(s.dir, "cp.db") })),
    Layer.provide(NodeContext.layer)
  )
  yield* Layer.build(runtime)
  process.stdout.write(`READY ${port}\n`)
  return yield* Effect.never
})

program.pipe(Effect.scoped, Effect.provide(NodeContext.layer), Effect.withConfigProvider(flagsThenEnv(process.argv.slice(2), "BENCH_CP")), NodeRuntime.runMain)
