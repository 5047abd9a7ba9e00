/**
 * Why a host cannot be dispatched now: the gate blocks, their telemetry discriminators and their
 * reason texts.
 *
 * Invariant: the discriminators and reason templates are exactly the reference's (telemetry
 * matches them), and every block carries enough detail to render its reason without re-reading
 * state.
 */
import { Schema } from "effect"

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Gate 1: the target closure is quarantined on the rollout's channel. */
export const Quarantined = Schema.TaggedStruct("Quarantined", { channel: Schema.String, closureHash: Schema.String })
/** Gate 2: a predecessor channel's rollout is not terminal (or not opened yet). */
export const ChannelEdges = Schema.TaggedStruct("ChannelEdges", { predecessorChannel: Schema.String })
/** Gate 3: the host's wave is after the rollout's current wave. */
export const WavePromotion = Schema.TaggedStruct("WavePromotion", { hostWave: Count, currentWave: Count })
/** Gate 3, default-deny: the channel declares waves but the host is in none of them. */
export const HostUnstaged = Schema.TaggedStruct("HostUnstaged", { channel: Schema.String })
/** Gate 4: a same-channel gating host is not Converged or Deferred yet. */
export const HostEdgeBlock = Schema.TaggedStruct("HostEdge", { gatingHost: Schema.String })
/** Gate 5: the budget is full (live in-flight hosts plus this tick's dispatches reach the max). */
export const DisruptionBudgetBlock = Schema.TaggedStruct("DisruptionBudget", {
  inFlight: Count,
  max: Count,
  selectorSummary: Schema.String
})
/** Gate 6: hosts of earlier waves have outstanding failing enforce probes. */
export const ComplianceWave = Schema.TaggedStruct("ComplianceWave", { failingEventsCount: Count, hostWave: Count })

/** Any gate block. */
export const GateBlock = Schema.Union(
  Quarantined,
  ChannelEdges,
  WavePromotion,
  HostUnstaged,
  HostEdgeBlock,
  DisruptionBudgetBlock,
  ComplianceWave
).annotations({ identifier: "GateBlock" })
/** Any gate block. */
export type GateBlock = typeof GateBlock.Type

/** The stable kebab-case telemetry names of the blocks. */
export const GateDiscriminator = Schema.Literal(
  "quarantine",
  "channel-edges",
  "wave-promotion",
  "wave-promotion-host-unstaged",
  "host-edge",
  "disruption-budget",
  "compliance-wave"
).annotations({ identifier: "GateDiscriminator" })
/** The stable kebab-case telemetry name of a block. */
export type GateDiscriminator = typeof GateDiscriminator.Type

/** The telemetry discriminator of a block. */
export const gateDiscriminator = (block: GateBlock): GateDiscriminator => {
  switch (block._tag) {
    case "Quarantined":
      return "quarantine"
    case "ChannelEdges":
      return "channel-edges"
    case "WavePromotion":
      return "wave-promotion"
    case "HostUnstaged":
      return "wave-promotion-host-unstaged"
    case "HostEdge":
      return "host-edge"
    case "DisruptionBudget":
      return "disruption-budget"
    case "ComplianceWave":
      return "compliance-wave"
  }
}

/** The reference's one-line reason for a block (exact templates; telemetry matches them). */
export const gateReason = (block: GateBlock): string => {
  switch (block._tag) {
    case "Quarantined":
      return `channel ${block.channel} closure ${block.closureHash} quarantined (sustained probe failures); push a new closure to clear`
    case "ChannelEdges":
      return `channelEdges predecessor channel '${block.predecessorChannel}' not converged`
    case "WavePromotion":
      return `wave-promotion: host_wave=${block.hostWave} > current_wave=${block.currentWave}`
    case "HostUnstaged":
      return `wave-promotion: channel '${block.channel}' declares waves but this host is not assigned to any of them — fix the fleet declaration or the host's tag/wave selector`
    case "HostEdge":
      return `host-edge: gating host '${block.gatingHost}' not yet Converged`
    case "DisruptionBudget":
      return `disruption-budget: ${block.inFlight}/${block.max} in flight (${block.selectorSummary})`
    case "ComplianceWave":
      return `compliance-wave: ${block.failingEventsCount} outstanding failure(s) on hosts in wave < ${block.hostWave}`
  }
}
