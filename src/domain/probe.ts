/**
 * Health-probe vocabulary: status, mode, the per-probe record kept on a host rollout, and the
 * evidence sub-results that probes may attach.
 *
 * Invariant: the enum strings are exactly the wire strings (lowercase / kebab-case); anything
 * else is rejected when decoding.
 */
import { Schema } from "effect"
import { ProbeName } from "./ids.js"
import { nullableOmitted } from "./schema.js"
import { Timestamp } from "./time.js"

/** A probe's latest outcome. There is no "unknown". */
export const ProbeStatus = Schema.Literal("pass", "fail").annotations({ identifier: "ProbeStatus" })
/** A probe's latest outcome. */
export type ProbeStatus = typeof ProbeStatus.Type

/**
 * How a probe's result counts: `enforce` gates convergence and sustained-failure detection,
 * `observe` is recorded only, `disabled` is declared but never run.
 */
export const ProbeMode = Schema.Literal("enforce", "observe", "disabled").annotations({ identifier: "ProbeMode" })
/** How a probe's result counts. */
export type ProbeMode = typeof ProbeMode.Type

/** The latest known result of one probe on one host rollout. */
export const ProbeRecord = Schema.Struct({
  status: ProbeStatus,
  /** Defaults to `enforce` when a stored record lacks it. */
  mode: Schema.optionalWith(ProbeMode, { default: () => "enforce" as const }),
  lastObservedAt: Timestamp,
  lastPassAt: Schema.NullOr(Timestamp),
  /** Cleared when the probe passes. */
  failureReason: Schema.NullOr(Schema.String)
}).annotations({ identifier: "ProbeRecord" })
/** The latest known result of one probe. */
export type ProbeRecord = typeof ProbeRecord.Type

/** Latest result per probe name. */
export const ProbeMap = Schema.Record({ key: ProbeName, value: ProbeRecord })
/** Latest result per probe name. */
export type ProbeMap = typeof ProbeMap.Type

/** One evidence item attached to a probe result (compliance controls); passed through unchanged. */
export const ProbeSubResult = Schema.Struct({
  controlId: Schema.String,
  status: ProbeStatus,
  framework: Schema.String,
  article: nullableOmitted(Schema.String),
  effectiveMode: Schema.optionalWith(ProbeMode, { default: () => "enforce" as const }),
  overrideReason: nullableOmitted(Schema.String)
}).annotations({ identifier: "ProbeSubResult" })
/** One evidence item attached to a probe result. */
export type ProbeSubResult = typeof ProbeSubResult.Type

/** One declared probe: its name, kind (exec, http, tcp, ...) and mode. */
export const ProbeTopologyEntry = Schema.Struct({
  probeName: ProbeName,
  kind: Schema.String,
  mode: ProbeMode
}).annotations({ identifier: "ProbeTopologyEntry" })
/** One declared probe. */
export type ProbeTopologyEntry = typeof ProbeTopologyEntry.Type
