/**
 * Rollout policies, as carried in the signed fleet.resolved: the strategy, the policy waves
 * (with their soak), the health gate and what to do on health failure.
 *
 * Invariant: selector fields default to empty / false / null, so `{}` decodes to a selector that
 * matches nothing; unknown fields are ignored.
 */
import { Schema } from "effect"

/** What the agent does when a host fails: stop there, or also roll back to the prior closure. */
export const OnHealthFailure = Schema.Literal("halt", "rollback-and-halt").annotations({ identifier: "OnHealthFailure" })
/** What the agent does when a host fails. */
export type OnHealthFailure = typeof OnHealthFailure.Type

/** Chooses hosts: an OR of `all`, named hosts, a channel, all of `tags`, any of `tagsAny`. */
export const Selector = Schema.Struct({
  tags: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  tagsAny: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  hosts: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  channel: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  all: Schema.optionalWith(Schema.Boolean, { default: () => false })
}).annotations({ identifier: "Selector" })
/** Chooses hosts. */
export type Selector = typeof Selector.Type

/** One wave of a rollout policy: which hosts, and how long they soak. */
export const PolicyWave = Schema.Struct({
  selector: Selector,
  soakMinutes: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
}).annotations({ identifier: "PolicyWave" })
/** One wave of a rollout policy. */
export type PolicyWave = typeof PolicyWave.Type

/** Health requirements a host must meet; an empty gate is `{}`. */
export const HealthGate = Schema.Struct({
  systemdFailedUnits: Schema.optionalWith(Schema.Struct({ max: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) }), {
    exact: true
  }),
  /** Older revisions only. */
  complianceProbes: Schema.optionalWith(Schema.Struct({ required: Schema.Boolean }), { exact: true })
}).annotations({ identifier: "HealthGate" })
/** Health requirements a host must meet. */
export type HealthGate = typeof HealthGate.Type

/** A named rollout policy. The host reducer reads only `onHealthFailure`. */
export const RolloutPolicy = Schema.Struct({
  strategy: Schema.String,
  waves: Schema.optionalWith(Schema.Array(PolicyWave), { default: () => [] }),
  healthGate: Schema.optionalWith(HealthGate, { default: () => ({}) }),
  onHealthFailure: OnHealthFailure
}).annotations({ identifier: "RolloutPolicy" })
/** A named rollout policy. */
export type RolloutPolicy = typeof RolloutPolicy.Type
