/**
 * The signed fleet description, `fleet.resolved`: hosts, channels, rollout policies, waves,
 * host and channel edges, disruption budgets and the signing metadata; plus the selector helpers
 * (match, summary, identity key) and `normalizeRolloutPolicies`.
 *
 * Invariant: decoding ignores unknown fields at every level and accepts the legacy spellings
 * (`system` for `platform`, `before`/`after` for `gates`/`gated`); encoding always writes the
 * canonical spelling, writes unset optionals as explicit `null`, and omits only the fields the
 * spec lists as omitted (`hosts.*.pin`, `pin.expiresAt`, `meta.signatureAlgorithm`,
 * `channels.*.compliance`). Signatures cover the received bytes, never this re-encoding.
 */
import { Schema } from "effect"
import { ChannelId, ClosureHash, HostId } from "./ids.js"
import { type PolicyWave, RolloutPolicy, Selector } from "./policy.js"
import { Timestamp } from "./time.js"

const NonNegativeInt = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const nullDefault = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(Schema.NullOr(schema), { default: () => null })
const emptyArray = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(Schema.Array(schema), { default: () => [] })
const omitted = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

const UnknownRecord = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * Accepts legacy key spellings on input: for each `alias → canonical` pair, an object that lacks
 * `canonical` but has `alias` is read as if `canonical` held the alias's value. When both are
 * present the canonical key wins. Encoding writes the canonical keys only.
 */
const withInputAliases =
  (aliases: Readonly<Record<string, string>>) =>
  <A, I>(schema: Schema.Schema<A, I>) =>
    Schema.compose(
      Schema.transform(UnknownRecord, UnknownRecord, {
        strict: true,
        decode: (input) => {
          const out: Record<string, unknown> = { ...input }
          for (const [alias, canonical] of Object.entries(aliases)) {
            if (out[canonical] === undefined && out[alias] !== undefined) out[canonical] = out[alias]
          }
          return out
        },
        encode: (output) => output
      }),
      schema,
      { strict: false }
    )

/** The signing metadata shared by every signed artifact. `signedAt: null` means unsigned. */
export const ArtifactMeta = Schema.Struct({
  schemaVersion: Schema.Number.pipe(Schema.int()),
  signedAt: nullDefault(Timestamp),
  ciCommit: nullDefault(Schema.String),
  /** Absent means `ed25519`; informational only (the trust key, not the artifact, picks the algorithm). */
  signatureAlgorithm: omitted(Schema.String)
}).annotations({ identifier: "ArtifactMeta" })
/** The signing metadata shared by every signed artifact. */
export type ArtifactMeta = typeof ArtifactMeta.Type

/** An operator pin holding a host at a commit. */
export const HostPin = Schema.Struct({
  commit: Schema.String,
  reason: Schema.String,
  expiresAt: omitted(Timestamp)
}).annotations({ identifier: "HostPin" })
/** An operator pin holding a host at a commit. */
export type HostPin = typeof HostPin.Type

/**
 * One host of the fleet. The platform field is spelled `system` in older revisions and
 * `platform` in the newest (spec A1): both are accepted, `platform` wins when both are present,
 * and encoding writes `platform`.
 */
export const FleetHost = Schema.Struct({
  platform: Schema.String,
  tags: emptyArray(Schema.String),
  channel: ChannelId,
  /** `null`: the host is in no manifest and no rollout. */
  closureHash: nullDefault(ClosureHash),
  pubkey: nullDefault(Schema.String),
  pin: omitted(HostPin)
})
  .pipe(withInputAliases({ system: "platform" }))
  .annotations({ identifier: "FleetHost" })
/** One host of the fleet. */
export type FleetHost = typeof FleetHost.Type

/** A release channel's settings. */
export const FleetChannel = Schema.Struct({
  /** Name of an entry of `rolloutPolicies`. */
  rolloutPolicy: Schema.String,
  reconcileIntervalMinutes: NonNegativeInt,
  signingIntervalMinutes: NonNegativeInt,
  /** In **minutes** (see {@link freshnessWindowSeconds}). */
  freshnessWindow: NonNegativeInt,
  /** Older revisions only (spec A2): opaque, never read by the planner. */
  compliance: omitted(Schema.Unknown)
}).annotations({ identifier: "FleetChannel" })
/** A release channel's settings. */
export type FleetChannel = typeof FleetChannel.Type

/** One fleet wave of a channel; its index is its array position. `soakMinutes` is unused (spec A11). */
export const FleetWave = Schema.Struct({
  hosts: emptyArray(HostId),
  soakMinutes: NonNegativeInt
}).annotations({ identifier: "FleetWave" })
/** One fleet wave of a channel. */
export type FleetWave = typeof FleetWave.Type

/** A host edge: `gated` waits until `gates` (same channel) is done. */
export const HostEdge = Schema.Struct({
  gated: HostId,
  gates: HostId,
  reason: nullDefault(Schema.String)
}).annotations({ identifier: "HostEdge" })
/** A host edge. */
export type HostEdge = typeof HostEdge.Type

/**
 * A channel edge: `gated`'s dispatches wait for `gates`'s rollout. Legacy inputs spell the pair
 * `before` (= gates) / `after` (= gated); output always uses `gates` / `gated`.
 */
export const ChannelEdge = Schema.Struct({
  gates: ChannelId,
  gated: ChannelId,
  reason: nullDefault(Schema.String)
})
  .pipe(withInputAliases({ before: "gates", after: "gated" }))
  .annotations({ identifier: "ChannelEdge" })
/** A channel edge. */
export type ChannelEdge = typeof ChannelEdge.Type

/** A disruption budget: at most this many (or this percentage of) selected hosts in flight. */
export const DisruptionBudget = Schema.Struct({
  selector: Selector,
  maxInFlight: nullDefault(NonNegativeInt),
  /** Honoured, unlike the reference (DESIGN.md; spec A5): see the disruption-budget gate. */
  maxInFlightPct: nullDefault(NonNegativeInt)
}).annotations({ identifier: "DisruptionBudget" })
/** A disruption budget. */
export type DisruptionBudget = typeof DisruptionBudget.Type

/** The signed fleet description (`fleet.resolved`). */
export const FleetResolved = Schema.Struct({
  /** Must be 1; the verifier reports anything else as `SchemaVersionUnsupported`. */
  schemaVersion: Schema.Number.pipe(Schema.int()),
  hosts: Schema.Record({ key: HostId, value: FleetHost }),
  channels: Schema.Record({ key: ChannelId, value: FleetChannel }),
  rolloutPolicies: Schema.optionalWith(Schema.Record({ key: Schema.String, value: RolloutPolicy }), { default: () => ({}) }),
  /** Decision: defaulted to `{}` when absent (the reference requires it; an absent map means no wave gating). */
  waves: Schema.optionalWith(Schema.Record({ key: ChannelId, value: Schema.Array(FleetWave) }), { default: () => ({}) }),
  edges: emptyArray(HostEdge),
  channelEdges: emptyArray(ChannelEdge),
  disruptionBudgets: emptyArray(DisruptionBudget),
  meta: ArtifactMeta
}).annotations({ identifier: "FleetResolved" })
/** The signed fleet description (`fleet.resolved`). */
export type FleetResolved = typeof FleetResolved.Type

/** The tags and channel of a host: what a {@link Selector} looks at besides the name. */
export interface SelectableHost {
  readonly tags: ReadonlyArray<string>
  readonly channel: string
}

/**
 * Whether a selector picks a host: an OR of `all`, name in `hosts`, channel equal, every one of
 * `tags` (when non-empty), any of `tagsAny` (when non-empty).
 */
export const selectorMatches = (selector: Selector, hostname: string, host: SelectableHost): boolean =>
  selector.all ||
  selector.hosts.includes(hostname) ||
  (selector.channel !== null && host.channel === selector.channel) ||
  (selector.tags.length > 0 && selector.tags.every((t) => host.tags.includes(t))) ||
  (selector.tagsAny.length > 0 && selector.tagsAny.some((t) => host.tags.includes(t)))

/** Orders strings by UTF-16 code units (the order every sorted list of this library uses). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const sortedCsv = (values: ReadonlyArray<string>): string => [...values].sort(compareStrings).join(",")

/**
 * A selector's short human form, used in gate reasons: the first that applies of `all`,
 * `channel:<c>`, `tags:<sorted>`, `tags_any:<sorted>`, `hosts:<sorted>`, `unknown`.
 */
export const selectorSummary = (selector: Selector): string =>
  selector.all
    ? "all"
    : selector.channel !== null
      ? `channel:${selector.channel}`
      : selector.tags.length > 0
        ? `tags:${sortedCsv(selector.tags)}`
        : selector.tagsAny.length > 0
          ? `tags_any:${sortedCsv(selector.tagsAny)}`
          : selector.hosts.length > 0
            ? `hosts:${sortedCsv(selector.hosts)}`
            : "unknown"

/**
 * A selector's identity as a string: equal keys ⇔ structurally equal selectors (arrays compared in
 * order, as the reference does). A budget's identity is its selector, so this keys budget counters.
 */
export const selectorKey = (selector: Selector): string =>
  JSON.stringify([selector.tags, selector.tagsAny, selector.hosts, selector.channel, selector.all])

/** Every fleet host a selector picks, sorted by name. */
export const resolveSelector = (fleet: FleetResolved, selector: Selector): ReadonlyArray<HostId> =>
  (Object.keys(fleet.hosts) as Array<HostId>)
    .filter((name) => {
      const host = fleet.hosts[name]
      return host !== undefined && selectorMatches(selector, name, host)
    })
    .sort(compareStrings)

/** The wave `normalizeRolloutPolicies` gives an `all-at-once` policy without waves. */
export const SYNTHETIC_ALL_WAVE: PolicyWave = {
  selector: { tags: [], tagsAny: [], hosts: [], channel: null, all: true },
  soakMinutes: 0
}

/**
 * Gives every `all-at-once` policy with no waves one synthetic wave `{selector: {all: true},
 * soakMinutes: 0}`; explicit waves and other strategies are untouched. Applied in memory after
 * verification (never to the signed bytes).
 */
export const normalizeRolloutPolicies = (fleet: FleetResolved): FleetResolved => {
  const entries = Object.entries(fleet.rolloutPolicies)
  if (!entries.some(([, p]) => p.strategy === "all-at-once" && p.waves.length === 0)) return fleet
  const rolloutPolicies: Record<string, RolloutPolicy> = {}
  for (const [name, policy] of entries) {
    rolloutPolicies[name] =
      policy.strategy === "all-at-once" && policy.waves.length === 0 ? { ...policy, waves: [SYNTHETIC_ALL_WAVE] } : policy
  }
  return { ...fleet, rolloutPolicies }
}

/** A channel's `freshnessWindow` (minutes on the wire) in seconds. */
export const freshnessWindowSeconds = (channel: FleetChannel): number => channel.freshnessWindow * 60

/** Each host listed in a channel's fleet waves mapped to the index of the first wave listing it. */
export const firstWaveIndex = (waves: ReadonlyArray<FleetWave>): ReadonlyMap<HostId, number> => {
  const index = new Map<HostId, number>()
  waves.forEach((wave, i) => {
    for (const h of wave.hosts) if (!index.has(h)) index.set(h, i)
  })
  return index
}
