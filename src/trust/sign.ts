/**
 * The producer side (CI, examples, tests): stamp `meta`, canonicalise, sign; project and sign
 * one rollout manifest per channel; sign revocations.
 *
 * Invariant: the published bytes of every artifact are exactly the RFC 8785 canonical text that
 * was signed, so what a verifier canonicalises is byte-identical to what CI signed. fleet.resolved
 * is stamped as raw JSON (fields this version does not know survive); manifests are projected
 * from the decoded fleet with the same `signedAt`, `ciCommit` and algorithm, and bound to the
 * hash of the signed fleet bytes. Nothing here reads a clock: `signedAt` is a parameter.
 */
import { Data, Either, ParseResult, Schema } from "effect"
import { compareStrings, FleetResolved } from "../domain/fleet.js"
import type { ChannelId, RolloutId } from "../domain/ids.js"
import { makeRolloutId } from "../domain/ids.js"
import { projectManifest, RolloutManifest } from "../domain/manifest.js"
import { formatRfc3339, type Timestamp } from "../domain/time.js"
import { type RevocationEntry, Revocations } from "../domain/trust.js"
import { sha256Hex } from "./hash.js"
import { canonicalize, type JsonValue } from "./jcs.js"
import { type SigningKey, signRaw } from "./keygen.js"

/** An artifact ready to publish: its canonical bytes and the raw 64-byte signature over them. */
export interface SignedArtifact {
  /** The RFC 8785 canonical JSON text (publish these exact bytes, UTF-8). */
  readonly bytes: string
  /** The raw signature (Ed25519 `R‖s` or P-256 `r‖s`), the `.sig` sidecar content. */
  readonly signature: Uint8Array
}

/** A signed fleet.resolved with its `fleetResolvedHash`. */
export interface SignedFleet extends SignedArtifact {
  /** sha256 (lowercase hex) of `bytes` (which are canonical). */
  readonly fleetResolvedHash: string
}

/** A signed rollout manifest with its identity. */
export interface SignedManifest extends SignedArtifact {
  /** The channel it rolls out. */
  readonly channel: ChannelId
  /** `channel@channelRef`: its file name under `releases/rollouts/`. */
  readonly rolloutId: RolloutId
}

/** The signing metadata CI stamps into every artifact. */
export interface SigningMeta {
  /** When CI signs (a parameter: nothing here reads a clock). */
  readonly signedAt: Timestamp
  /** The CI commit; it becomes every manifest's `channelRef`. */
  readonly ciCommit: string | null
}

/** An artifact could not be signed (it does not decode, has no canonical form, or a projection failed). */
export class SignError extends Data.TaggedError("SignError")<{
  /** Which artifact: `fleet.resolved`, `manifest <channel>`, `revocations`. */
  readonly artifact: string
  /** What was wrong. */
  readonly detail: string
}> {
  /** The message of this error. */
  override get message(): string {
    return `cannot sign ${this.artifact}: ${this.detail}`
  }
}

/** Canonicalises a JSON value and signs the canonical text. */
export const signJson = (key: SigningKey, value: unknown, artifact = "artifact"): Either.Either<SignedArtifact, SignError> =>
  Either.match(canonicalize(value), {
    onLeft: (e) => Either.left(new SignError({ artifact, detail: e.detail })),
    onRight: (bytes) => Either.right({ bytes, signature: signRaw(key, bytes) })
  })

const isJsonObject = (value: unknown): value is { readonly [key: string]: JsonValue } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Returns a copy of a raw JSON artifact with `meta.signedAt`, `meta.ciCommit` and
 * `meta.signatureAlgorithm` set (other `meta` fields, and every other field, are kept).
 */
export const stampMeta = (
  raw: { readonly [key: string]: JsonValue },
  meta: SigningMeta,
  signatureAlgorithm: string
): { readonly [key: string]: JsonValue } => {
  const previous = isJsonObject(raw["meta"]) ? raw["meta"] : {}
  return {
    ...raw,
    meta: {
      schemaVersion: 1,
      ...previous,
      signedAt: formatRfc3339(meta.signedAt),
      ciCommit: meta.ciCommit,
      signatureAlgorithm
    }
  }
}

const decodeError = (artifact: string) => (e: ParseResult.ParseError) =>
  new SignError({ artifact, detail: ParseResult.TreeFormatter.formatErrorSync(e) })

/**
 * Signs fleet.resolved: `raw` is the unsigned JSON (as Nix emits it, or an encoded
 * `FleetResolved`). It must decode as a fleet; its `meta` is stamped and the canonical bytes
 * signed.
 */
export const signFleetResolved = (key: SigningKey, raw: unknown, meta: SigningMeta): Either.Either<SignedFleet, SignError> => {
  if (!isJsonObject(raw)) return Either.left(new SignError({ artifact: "fleet.resolved", detail: "not a JSON object" }))
  const stamped = stampMeta(raw, meta, key.algorithm)
  return Either.flatMap(
    Either.mapLeft(Schema.decodeUnknownEither(FleetResolved)(stamped), decodeError("fleet.resolved")),
    () =>
      Either.map(signJson(key, stamped, "fleet.resolved"), (signed) => ({
        ...signed,
        fleetResolvedHash: sha256Hex(signed.bytes)
      }))
  )
}

/**
 * Projects and signs one manifest per channel of a signed fleet (channels sorted; channels
 * without any host closure get none), with the fleet's `signedAt` and `ciCommit`, the key's
 * algorithm, and the fleet's hash.
 */
export const signRolloutManifests = (
  key: SigningKey,
  fleet: SignedFleet
): Either.Either<ReadonlyArray<SignedManifest>, SignError> => {
  const decoded = Schema.decodeUnknownEither(Schema.parseJson(FleetResolved))(fleet.bytes)
  if (Either.isLeft(decoded)) return Either.left(decodeError("fleet.resolved")(decoded.left))
  const value = decoded.right
  const signedAt = value.meta.signedAt
  if (signedAt === null) return Either.left(new SignError({ artifact: "fleet.resolved", detail: "meta.signedAt is null" }))
  const out: Array<SignedManifest> = []
  for (const channel of (Object.keys(value.channels) as Array<ChannelId>).sort(compareStrings)) {
    const artifact = `manifest ${channel}`
    const projected = projectManifest(value, channel, fleet.fleetResolvedHash, signedAt, value.meta.ciCommit, key.algorithm)
    if (Either.isLeft(projected)) return Either.left(new SignError({ artifact, detail: projected.left.message }))
    if (projected.right === null) continue
    const manifest = projected.right
    const encoded = Schema.encodeEither(RolloutManifest)(manifest)
    if (Either.isLeft(encoded)) return Either.left(decodeError(artifact)(encoded.left))
    const signed = signJson(key, encoded.right, artifact)
    if (Either.isLeft(signed)) return Either.left(signed.left)
    out.push({ ...signed.right, channel, rolloutId: makeRolloutId(manifest.channel, manifest.channelRef) })
  }
  return Either.right(out)
}

/** Signs a revocations list (an empty list is valid). */
export const signRevocations = (
  key: SigningKey,
  revocations: ReadonlyArray<RevocationEntry>,
  meta: SigningMeta
): Either.Either<SignedArtifact, SignError> =>
  Either.flatMap(
    Either.mapLeft(
      Schema.encodeEither(Revocations)({
        schemaVersion: 1,
        meta: { schemaVersion: 1, signedAt: meta.signedAt, ciCommit: meta.ciCommit, signatureAlgorithm: key.algorithm },
        revocations
      }),
      decodeError("revocations")
    ),
    (encoded) => signJson(key, encoded, "revocations")
  )

/** Everything one CI run publishes. */
export interface SignedRelease {
  /** fleet.resolved and its signature. */
  readonly fleet: SignedFleet
  /** One manifest per channel with hosts to roll out. */
  readonly manifests: ReadonlyArray<SignedManifest>
  /** The revocations list, when one was given. */
  readonly revocations: SignedArtifact | null
}

/** Signs fleet.resolved, every channel's manifest and (optionally) the revocations list. */
export const signRelease = (
  key: SigningKey,
  rawFleet: unknown,
  meta: SigningMeta,
  revocations?: ReadonlyArray<RevocationEntry>
): Either.Either<SignedRelease, SignError> =>
  Either.flatMap(signFleetResolved(key, rawFleet, meta), (fleet) =>
    Either.flatMap(signRolloutManifests(key, fleet), (manifests): Either.Either<SignedRelease, SignError> =>
      revocations === undefined
        ? Either.right({ fleet, manifests, revocations: null })
        : Either.map(signRevocations(key, revocations, meta), (signed) => ({ fleet, manifests, revocations: signed }))
    )
  )
