/**
 * The ProbeRunner port (agent side): runs one health probe once and reports pass or fail
 * (spec §7), plus the declaration format of `health-checks.json` it runs from.
 *
 * Invariants: `run` never fails: any error is a `fail` with a reason (there is no "unknown");
 * an unknown `mode` in a declaration decodes as `enforce`.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { ProbeName } from "../domain/ids.js"
import { ProbeMode, ProbeStatus, ProbeSubResult } from "../domain/probe.js"

/** A probe mode that reads any unknown string as `enforce` (spec §7). */
const LenientMode = Schema.transform(Schema.String, ProbeMode, {
  strict: true,
  decode: (s) => (Schema.is(ProbeMode)(s) ? s : "enforce"),
  encode: (m) => m
})

/** Fields every declaration kind shares. */
const common = {
  mode: Schema.optionalWith(LenientMode, { default: () => "enforce" as const }),
  intervalSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 30 }),
  runOnce: Schema.optionalWith(Schema.Boolean, { default: () => false })
}

/** GET `url`; pass when the status equals `expectStatus`. */
export const HttpProbeDeclaration = Schema.Struct({
  kind: Schema.Literal("http"),
  url: Schema.String,
  expectStatus: Schema.optionalWith(Schema.Number.pipe(Schema.int()), { default: () => 200 }),
  timeoutSecs: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 10 }),
  ...common
})
/** Connect to `host:port` within `connectTimeoutSecs`. */
export const TcpProbeDeclaration = Schema.Struct({
  kind: Schema.Literal("tcp"),
  host: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1" }),
  port: Schema.Number.pipe(Schema.int(), Schema.between(0, 65535)),
  connectTimeoutSecs: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 5 }),
  ...common
})
/** Run `command` (argv); pass on exit 0 within `timeoutSecs`. */
export const ExecProbeDeclaration = Schema.Struct({
  kind: Schema.Literal("exec"),
  command: Schema.NonEmptyArray(Schema.String),
  timeoutSecs: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 10 }),
  ...common
})
/** A per-control mode override of an evidence probe. */
export const ControlOverride = Schema.Struct({ mode: LenientMode, reason: Schema.optionalWith(Schema.String, { exact: true }) })
/** Check a signed compliance evidence file; exactly one of `framework` or `controls` is set. */
export const EvidenceProbeDeclaration = Schema.Struct({
  kind: Schema.Literal("evidence"),
  framework: Schema.optionalWith(Schema.String, { exact: true }),
  evidencePath: Schema.optionalWith(Schema.String, { default: () => "/var/lib/nixfleet-compliance/evidence.json" }),
  controlOverrides: Schema.optionalWith(Schema.Record({ key: Schema.String, value: ControlOverride }), { default: () => ({}) }),
  controls: Schema.optionalWith(Schema.Record({ key: Schema.String, value: ControlOverride }), { exact: true }),
  ...common
})

/** One probe declaration (a value of `health-checks.json`, camelCase). */
export const ProbeDeclaration = Schema.Union(
  HttpProbeDeclaration,
  TcpProbeDeclaration,
  ExecProbeDeclaration,
  EvidenceProbeDeclaration
).annotations({ identifier: "ProbeDeclaration" })
/** One probe declaration. */
export type ProbeDeclaration = typeof ProbeDeclaration.Type

/** The result of one probe run. */
export const ProbeOutcome = Schema.Struct({
  status: ProbeStatus,
  /** Why it failed (capped at 512 bytes by the runner); null on pass. */
  failureReason: Schema.NullOr(Schema.String),
  /** Evidence probes: one per (framework, article); null for other kinds. */
  subResults: Schema.NullOr(Schema.Array(ProbeSubResult))
}).annotations({ identifier: "ProbeOutcome" })
/** The result of one probe run. */
export type ProbeOutcome = typeof ProbeOutcome.Type

/** A passing outcome without sub-results. */
export const probePass: ProbeOutcome = { status: "pass", failureReason: null, subResults: null }

/** A failing outcome with a reason. */
export const probeFail = (reason: string): ProbeOutcome => ({ status: "fail", failureReason: reason, subResults: null })

/** The ProbeRunner service. */
export interface ProbeRunnerService {
  /** Runs the probe once; never fails (an error is a `fail` outcome). */
  readonly run: (name: ProbeName, declaration: ProbeDeclaration) => Effect.Effect<ProbeOutcome>
}

/** Runs health probes. Adapters: a simulated host (memory); exec/http/tcp/evidence runners (`effect-fleet/nix`). */
export class ProbeRunner extends Context.Tag("effect-fleet/ProbeRunner")<ProbeRunner, ProbeRunnerService>() {}
