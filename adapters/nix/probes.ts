/**
 * The ProbeRunner on a real host (spec §7): exec (exit 0 within the timeout), http (expected
 * status within the timeout, redirects followed), tcp (connect within the timeout) and evidence
 * (a signed compliance file, see ./evidence.ts).
 *
 * Invariants: `run` never fails and never outlives its timeout by more than the kill grace: any
 * error is a `fail` with a reason; every failure reason is capped at 512 bytes; a probe whose
 * mode is `disabled` is never run: the runner answers `fail` with the reason {@link DISABLED_REASON}
 * without touching anything. Callers (the agent's probe worker) are expected to filter disabled
 * probes out before scheduling, as spec §7 "Reset" step 5 does; the answer only guards against a
 * caller that forgets, and cannot be mistaken for a health signal. `observe` probes run exactly
 * like `enforce` ones: the mode only changes how the caller counts the result.
 */
import type { CommandExecutor } from "@effect/platform"
import { FetchHttpClient, type FileSystem, HttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Duration, Effect, Layer, Option } from "effect"
import { connect } from "node:net"
import type { ProbeName } from "../../src/domain/ids.js"
import {
  type ExecProbeDeclaration,
  type HttpProbeDeclaration,
  type ProbeDeclaration,
  type ProbeOutcome,
  probeFail,
  probePass,
  ProbeRunner,
  type ProbeRunnerService,
  type TcpProbeDeclaration
} from "../../src/ports/probeRunner.js"
import { runEvidence } from "./evidence.js"
import { runProcess } from "./process.js"
import { capReason, stderrSummary } from "./reason.js"

/** The reason given for a disabled probe, which is never run. */
export const DISABLED_REASON = "probe is disabled and was not run"

/** How the runner finds what evidence probes need. */
export interface ProbeRunnerConfig {
  /**
   * The SSH host public key that verifies evidence signatures (spec §7: `<ssh host key>.pub`).
   * Default `/etc/ssh/ssh_host_ed25519_key.pub`; null skips the signature check (development only).
   */
  readonly evidenceHostKey?: string | null
  /** The evidence `schemaVersion` accepted. Default 1. */
  readonly evidenceSchemaVersion?: number
}

type Platform = CommandExecutor.CommandExecutor | FileSystem.FileSystem | HttpClient.HttpClient

const seconds = (secs: number) => Duration.millis(Math.round(secs * 1000))

/**
 * `argv` exits 0 within `timeoutSecs`; stdin and stdout are discarded, stderr feeds the reason.
 * Decision: unlike the reference, a child past its timeout is killed (with its process group);
 * a probe that hangs every 30 s would otherwise pile up processes on the host.
 */
const runExec = (d: typeof ExecProbeDeclaration.Type) =>
  runProcess(d.command, { timeout: seconds(d.timeoutSecs) }).pipe(
    Effect.map((out): ProbeOutcome => {
      if (out.exitCode === 0) return probePass
      const summary = stderrSummary(out.stderrTail)
      return probeFail(`exit code ${out.exitCode}${summary === "" ? "" : `: ${summary}`}`)
    }),
    Effect.catchAll((failed) => {
      const summary = stderrSummary(failed.stderrTail)
      return Effect.succeed(probeFail(`${failed.detail}${summary === "" ? "" : `: ${summary}`}`))
    })
  )

/** GET `url` within `timeoutSecs`; pass when the final status (after redirects) is `expectStatus`. */
const runHttp = (d: typeof HttpProbeDeclaration.Type) =>
  Effect.gen(function* () {
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    const status = yield* Effect.scoped(Effect.map(client.get(d.url), (response) => response.status)).pipe(
      Effect.timeoutOption(seconds(d.timeoutSecs)),
      Effect.catchAll((e) => Effect.fail(probeFail(`GET ${d.url} failed: ${e.message}`)))
    )
    if (Option.isNone(status)) return probeFail(`GET ${d.url}: no response within ${d.timeoutSecs}s`)
    return status.value === d.expectStatus ? probePass : probeFail(`GET ${d.url}: expected status ${d.expectStatus}, got ${status.value}`)
  }).pipe(Effect.merge)

/** Opens a TCP connection to `host:port` within `connectTimeoutSecs`, then closes it. */
const runTcp = (d: typeof TcpProbeDeclaration.Type) => {
  const where = `${d.host}:${d.port}`
  const attempt = Effect.async<ProbeOutcome>((resume) => {
    const socket = connect({ host: d.host, port: d.port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(probePass))
    })
    socket.once("error", (error) => {
      socket.destroy()
      resume(Effect.succeed(probeFail(`connect to ${where} failed: ${error.message}`)))
    })
    return Effect.sync(() => socket.destroy())
  })
  return attempt.pipe(
    Effect.timeoutOption(seconds(d.connectTimeoutSecs)),
    Effect.map(Option.getOrElse(() => probeFail(`connect to ${where}: no connection within ${d.connectTimeoutSecs}s`)))
  )
}

/** Builds the ProbeRunner; needs a CommandExecutor, a FileSystem and an HttpClient. */
export const makeProbeRunner = (config: ProbeRunnerConfig = {}): Effect.Effect<ProbeRunnerService, never, Platform> =>
  Effect.gen(function* () {
    const platform = yield* Effect.context<Platform>()
    const evidence = {
      hostKey: config.evidenceHostKey === undefined ? "/etc/ssh/ssh_host_ed25519_key.pub" : config.evidenceHostKey,
      schemaVersion: config.evidenceSchemaVersion ?? 1
    }
    const runKind = (declaration: ProbeDeclaration): Effect.Effect<ProbeOutcome, never, Platform> => {
      switch (declaration.kind) {
        case "exec":
          return runExec(declaration)
        case "http":
          return runHttp(declaration)
        case "tcp":
          return runTcp(declaration)
        case "evidence":
          return runEvidence(declaration, evidence)
        default: {
          // Unreachable for a decoded declaration; a caller passing raw data still gets a Fail (spec §7).
          const unknown: { readonly kind?: unknown } = declaration
          return Effect.succeed(probeFail(`unknown probe kind ${JSON.stringify(unknown.kind)}`))
        }
      }
    }
    return {
      run: Effect.fn("ProbeRunner.run")(function* (name: ProbeName, declaration: ProbeDeclaration) {
        yield* Effect.annotateCurrentSpan({ probe: name, kind: declaration.kind })
        if (declaration.mode === "disabled") return probeFail(DISABLED_REASON)
        const outcome = yield* runKind(declaration).pipe(
          Effect.catchAllDefect((defect) => Effect.succeed(probeFail(`probe crashed: ${String(defect)}`))),
          Effect.provide(platform)
        )
        return outcome.failureReason === null ? outcome : { ...outcome, failureReason: capReason(outcome.failureReason) }
      })
    }
  })

/** The ProbeRunner on Node: CommandExecutor and FileSystem from NodeContext, HTTP through fetch. */
export const layerProbeRunner = (config: ProbeRunnerConfig = {}): Layer.Layer<ProbeRunner> =>
  Layer.effect(ProbeRunner, makeProbeRunner(config)).pipe(Layer.provide(Layer.merge(NodeContext.layer, FetchHttpClient.layer)))
