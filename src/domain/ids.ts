/**
 * Identifiers: branded strings so a hostname is never passed where a closure hash belongs.
 *
 * Invariant: a RolloutId is `"{channel}@{channelRef}"`; its channel is the text before the first
 * `@` and its ref everything after (or `""` when there is no `@`).
 */
import { Schema } from "effect"

/** A host's name, unique in the fleet. */
export const HostId = Schema.NonEmptyString.pipe(Schema.brand("effect-fleet/HostId"), Schema.annotations({ identifier: "HostId" }))
/** A host's name, unique in the fleet. */
export type HostId = typeof HostId.Type

/** A release channel name (never contains `@`). */
export const ChannelId = Schema.NonEmptyString.pipe(
  Schema.pattern(/^[^@]+$/),
  Schema.brand("effect-fleet/ChannelId"),
  Schema.annotations({ identifier: "ChannelId" })
)
/** A release channel name (never contains `@`). */
export type ChannelId = typeof ChannelId.Type

/** The CI revision a channel's manifest was built from (usually a commit hash; may be empty). */
export const ChannelRef = Schema.String.pipe(Schema.brand("effect-fleet/ChannelRef"), Schema.annotations({ identifier: "ChannelRef" }))
/** The CI revision a channel's manifest was built from. */
export type ChannelRef = typeof ChannelRef.Type

/** A Nix system closure (store path or hash) that hosts switch to. */
export const ClosureHash = Schema.NonEmptyString.pipe(
  Schema.brand("effect-fleet/ClosureHash"),
  Schema.annotations({ identifier: "ClosureHash" })
)
/** A Nix system closure (store path or hash). */
export type ClosureHash = typeof ClosureHash.Type

/**
 * A health probe's name, unique on its host. Probe names key plain-object maps (the record's
 * `probes`), so `__proto__` is refused: it would address the prototype, not a probe.
 */
export const ProbeName = Schema.NonEmptyString.pipe(
  Schema.filter((name) => name !== "__proto__", { message: () => "a probe may not be named __proto__" }),
  Schema.brand("effect-fleet/ProbeName"),
  Schema.annotations({ identifier: "ProbeName" })
)
/** A health probe's name. */
export type ProbeName = typeof ProbeName.Type

/** A rollout's identity, canonically `"{channel}@{channelRef}"`. */
export const RolloutId = Schema.NonEmptyString.pipe(Schema.brand("effect-fleet/RolloutId"), Schema.annotations({ identifier: "RolloutId" }))
/** A rollout's identity, canonically `"{channel}@{channelRef}"`. */
export type RolloutId = typeof RolloutId.Type

/** Builds the canonical rollout id of a channel at a ref. */
export const makeRolloutId = (channel: ChannelId, ref: ChannelRef): RolloutId => `${channel}@${ref}` as RolloutId

/** The channel part of a rollout id: the text before the first `@` (the whole id if none). */
export const rolloutChannel = (id: RolloutId): ChannelId => {
  const at = id.indexOf("@")
  return (at < 0 ? id : id.slice(0, at)) as string as ChannelId
}

/** The ref part of a rollout id: the text after the first `@`, or `""` when there is none. */
export const rolloutRef = (id: RolloutId): ChannelRef => {
  const at = id.indexOf("@")
  return (at < 0 ? "" : id.slice(at + 1)) as ChannelRef
}
