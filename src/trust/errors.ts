/**
 * Why a signed artifact was refused. These cross storage and the wire (the CP logs and reports
 * them), so they are `Schema.TaggedError`s; the tags are the reference's variant names.
 *
 * Invariant: a verify function that returns one of these produced no `Verified` value; callers
 * keep their previous state. Every message names the artifact facts an operator needs.
 */
import { Schema } from "effect"
import { formatRfc3339, Timestamp } from "../domain/time.js"

/** The clock-skew slack, in seconds, applied on both sides of the freshness window. */
export const CLOCK_SKEW_SLACK_SECS = 60

/** The bytes are not UTF-8, not JSON, or not the expected artifact shape. */
export class Parse extends Schema.TaggedError<Parse>()("Parse", { detail: Schema.String }) {
  /** The message of this error. */
  override get message(): string {
    return `artifact parse failed: ${this.detail}`
  }
}

/** The JSON has no RFC 8785 canonical form (e.g. a non-finite number or a lone surrogate). */
export class Canonicalize extends Schema.TaggedError<Canonicalize>()("Canonicalize", { detail: Schema.String }) {
  /** The message of this error. */
  override get message(): string {
    return `JCS re-canonicalization failed: ${this.detail}`
  }
}

/** No trusted key with a supported algorithm verified the signature. */
export class BadSignature extends Schema.TaggedError<BadSignature>()("BadSignature", {}) {
  /** The message of this error. */
  override get message(): string {
    return "signature does not verify against any declared trust root"
  }
}

/** The artifact is older than the freshness window plus the 60 s slack. */
export class Stale extends Schema.TaggedError<Stale>()("Stale", {
  signedAt: Timestamp,
  now: Timestamp,
  windowSecs: Schema.Number
}) {
  /** The message of this error. */
  override get message(): string {
    return `stale artifact: signedAt=${formatRfc3339(this.signedAt)}, now=${formatRfc3339(this.now)}, window=${this.windowSecs}s`
  }
}

/** The artifact claims to be signed more than 60 s in the future. */
export class FutureDated extends Schema.TaggedError<FutureDated>()("FutureDated", {
  signedAt: Timestamp,
  now: Timestamp,
  slackSecs: Schema.Number
}) {
  /** The message of this error. */
  override get message(): string {
    return (
      `future-dated artifact: signedAt=${formatRfc3339(this.signedAt)} is more than ${this.slackSecs}s ahead of ` +
      `now=${formatRfc3339(this.now)} (pre-signing suggests CI key compromise; rotate via rejectBefore)`
    )
  }
}

/** `meta.signedAt` is null: the artifact was never signed by CI. */
export class NotSigned extends Schema.TaggedError<NotSigned>()("NotSigned", {}) {
  /** The message of this error. */
  override get message(): string {
    return "artifact is unsigned (meta.signedAt is null)"
  }
}

/** The top-level `schemaVersion` is not 1. */
export class SchemaVersionUnsupported extends Schema.TaggedError<SchemaVersionUnsupported>()("SchemaVersionUnsupported", {
  version: Schema.Number
}) {
  /** The message of this error. */
  override get message(): string {
    return `unsupported schemaVersion: ${this.version} (accepted: 1)`
  }
}

/** The trusted key list is empty. */
export class NoTrustRoots extends Schema.TaggedError<NoTrustRoots>()("NoTrustRoots", {}) {
  /** The message of this error. */
  override get message(): string {
    return "no trust roots configured for artifact verification"
  }
}

/** No trusted key has a supported algorithm; names the first key's algorithm. */
export class UnsupportedAlgorithm extends Schema.TaggedError<UnsupportedAlgorithm>()("UnsupportedAlgorithm", {
  algorithm: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `unsupported signature algorithm: ${this.algorithm} (supported: ed25519, ecdsa-p256)`
  }
}

/** The artifact was signed strictly before the slot's `rejectBefore` (the compromise switch). */
export class RejectedBeforeTimestamp extends Schema.TaggedError<RejectedBeforeTimestamp>()("RejectedBeforeTimestamp", {
  signedAt: Timestamp,
  rejectBefore: Timestamp
}) {
  /** The message of this error. */
  override get message(): string {
    return (
      `artifact signed at ${formatRfc3339(this.signedAt)} is older than rejectBefore ` +
      `${formatRfc3339(this.rejectBefore)} (compromise switch)`
    )
  }
}

/**
 * A trusted key's material is malformed. It never escapes verification: a bad key just counts
 * as "did not verify". Exposed for tools that lint trust.json.
 */
export class BadPubkeyEncoding extends Schema.TaggedError<BadPubkeyEncoding>()("BadPubkeyEncoding", {
  algorithm: Schema.String,
  reason: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `trusted pubkey material is malformed (${this.algorithm}): ${this.reason}`
  }
}

/** A verified manifest declares a rollout id other than the one requested (a substitution). */
export class RolloutIdMismatch extends Schema.TaggedError<RolloutIdMismatch>()("RolloutIdMismatch", {
  requested: Schema.String,
  declared: Schema.String
}) {
  /** The reference message template (it contains `rollout_id discriminator failed`). */
  override get message(): string {
    return `rollout_id discriminator failed: requested ${this.requested} but signed manifest declares ${this.declared}`
  }
}

/** A verified manifest is bound to another fleet.resolved than the verified one. */
export class FleetHashMismatch extends Schema.TaggedError<FleetHashMismatch>()("FleetHashMismatch", {
  expected: Schema.String,
  actual: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `fleetResolvedHash mismatch: verified fleet.resolved hashes to ${this.expected}, manifest declares ${this.actual}`
  }
}

/** Every reason {@link verifySignedSidecar} refuses an artifact. */
export const SidecarError = Schema.Union(
  NoTrustRoots,
  Parse,
  Canonicalize,
  BadSignature,
  UnsupportedAlgorithm,
  SchemaVersionUnsupported,
  NotSigned,
  RejectedBeforeTimestamp,
  Stale,
  FutureDated
)
/** Every reason a signed sidecar is refused. */
export type SidecarError = typeof SidecarError.Type

/** Every reason a rollout manifest is refused: the sidecar errors plus the two binding checks. */
export const ManifestError = Schema.Union(SidecarError, RolloutIdMismatch, FleetHashMismatch)
/** Every reason a rollout manifest is refused. */
export type ManifestError = typeof ManifestError.Type
