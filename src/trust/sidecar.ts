/**
 * `verifySignedSidecar`: the one pipeline every signed artifact goes through (fleet.resolved,
 * rollout manifests, revocations): canonicalise the received bytes, check the raw signature
 * against the trusted keys, decode the payload, then gate on schema version, signedAt,
 * rejectBefore and freshness.
 *
 * Invariant: pure and total: `now` is a parameter, nothing throws, and the checks run in the
 * reference's exact order, first failure wins:
 *  1 NoTrustRoots · 2 Parse (not UTF-8 / not JSON) · 3 Canonicalize · 4–5 signature
 *  (UnsupportedAlgorithm when no key had a supported algorithm, else BadSignature) · 6 Parse
 *  (payload shape) · 7 SchemaVersionUnsupported · 8 NotSigned · 9 RejectedBeforeTimestamp
 *  (strict `<`, before freshness so alerts tell compromise from staleness) · 10 Stale
 *  (`now − signedAt > window + 60 s`) · 11 FutureDated (`signedAt − now > 60 s`).
 * The signature always covers the canonical form of the bytes received, so fields this version
 * does not know are still covered. `meta.signatureAlgorithm` is never consulted.
 */
import { Clock, Effect, Either, ParseResult, Schema } from "effect"
import type { Timestamp } from "../domain/time.js"
import type { TrustConfig, TrustedPubkey } from "../domain/trust.js"
import { activeKeysAt, isSupportedAlgorithm } from "../domain/trust.js"
import { prepareKey, verifyWithKey } from "./crypto.js"
import {
  BadSignature,
  Canonicalize,
  CLOCK_SKEW_SLACK_SECS,
  FutureDated,
  NoTrustRoots,
  NotSigned,
  Parse,
  RejectedBeforeTimestamp,
  SchemaVersionUnsupported,
  type SidecarError,
  Stale,
  UnsupportedAlgorithm
} from "./errors.js"
import { canonicalize, type JsonValue, parseJsonText } from "./jcs.js"
import { mintVerified, type Verified } from "./verified.js"

/** The only accepted top-level `schemaVersion`. */
export const ACCEPTED_SCHEMA_VERSION = 1

/** The CP's default freshness window when no per-channel window applies: 1440 minutes (24 h). */
export const DEFAULT_FRESHNESS_WINDOW_SECS = 1440 * 60

/** What every signed payload carries: a top-level schema version and `meta.signedAt`. */
export interface SignedPayload {
  /** Must be 1. */
  readonly schemaVersion: number
  /** The signing metadata; `signedAt` null means unsigned. */
  readonly meta: { readonly signedAt: Timestamp | null }
}

/** The roots and clock facts a verification runs against. */
export interface VerifyOptions {
  /** Trusted keys, tried in order; the first that verifies wins. */
  readonly keys: ReadonlyArray<TrustedPubkey>
  /** The current instant (epoch ms). */
  readonly now: Timestamp
  /** The freshness window in seconds (60 s of clock-skew slack is added on top). */
  readonly windowSecs: number
  /** The compromise kill-switch: artifacts signed strictly before it are refused. */
  readonly rejectBefore?: Timestamp | null | undefined
}

/** The key list and kill-switch a trust.json yields at `now`: `ciReleaseKey`'s active keys. */
export const trustRootsAt = (
  trust: TrustConfig,
  now: number
): { readonly keys: ReadonlyArray<TrustedPubkey>; readonly rejectBefore: Timestamp | null } => ({
  keys: activeKeysAt(trust.ciReleaseKey, now),
  rejectBefore: trust.ciReleaseKey.rejectBefore
})

/** A signature that verified, with the parsed document and its canonical text. */
export interface CheckedSignature {
  /** The JSON value parsed from the received bytes. */
  readonly value: JsonValue
  /** The RFC 8785 canonical text the signature covers. */
  readonly canonical: string
}

/**
 * Steps 1–5: parses and canonicalises the received bytes and checks the raw 64-byte signature
 * against the keys in order. Unsupported algorithms (including the alias `p256`) and malformed
 * key material are skipped silently.
 */
export const checkSignature = (
  bytes: string | Uint8Array,
  signature: Uint8Array,
  keys: ReadonlyArray<TrustedPubkey>
): Either.Either<CheckedSignature, NoTrustRoots | Parse | Canonicalize | UnsupportedAlgorithm | BadSignature> => {
  const first = keys[0]
  if (first === undefined) return Either.left(new NoTrustRoots())
  const parsed = parseJsonText(bytes)
  if (Either.isLeft(parsed)) return Either.left(new Parse({ detail: parsed.left.detail }))
  const canonical = canonicalize(parsed.right)
  if (Either.isLeft(canonical)) return Either.left(new Canonicalize({ detail: canonical.left.detail }))
  const message = Buffer.from(canonical.right, "utf8")
  let attemptedSupported = false
  for (const key of keys) {
    if (!isSupportedAlgorithm(key.algorithm)) continue
    attemptedSupported = true
    const prepared = prepareKey(key)
    if (Either.isRight(prepared) && verifyWithKey(prepared.right, message, signature)) {
      return Either.right({ value: parsed.right, canonical: canonical.right })
    }
  }
  return Either.left(attemptedSupported ? new BadSignature() : new UnsupportedAlgorithm({ algorithm: first.algorithm }))
}

const rawSchemaVersion = (value: JsonValue): number | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const v = (value as { readonly [key: string]: JsonValue })["schemaVersion"]
  return typeof v === "number" && Number.isInteger(v) ? v : undefined
}

/**
 * Steps 6–11 on a document whose signature verified: decode the payload, then the schema
 * version, signedAt, rejectBefore and freshness gates.
 *
 * Decision: when the payload fails to decode and its raw `schemaVersion` is an integer other
 * than 1, the error is `SchemaVersionUnsupported` rather than `Parse` (a newer format is expected
 * not to decode here, and the version is the fact an operator needs).
 */
export const gatePayload = <A extends SignedPayload, I>(
  schema: Schema.Schema<A, I, never>,
  value: JsonValue,
  options: VerifyOptions
): Either.Either<Verified<A>, Exclude<SidecarError, NoTrustRoots | Canonicalize | UnsupportedAlgorithm | BadSignature>> => {
  const decoded = Schema.decodeUnknownEither(schema)(value, { onExcessProperty: "ignore", errors: "first" })
  if (Either.isLeft(decoded)) {
    const version = rawSchemaVersion(value)
    return Either.left(
      version !== undefined && version !== ACCEPTED_SCHEMA_VERSION
        ? new SchemaVersionUnsupported({ version })
        : new Parse({ detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
    )
  }
  const payload = decoded.right
  if (payload.schemaVersion !== ACCEPTED_SCHEMA_VERSION) {
    return Either.left(new SchemaVersionUnsupported({ version: payload.schemaVersion }))
  }
  const signedAt = payload.meta.signedAt
  if (signedAt === null) return Either.left(new NotSigned())
  const { now, rejectBefore, windowSecs } = options
  if (rejectBefore !== undefined && rejectBefore !== null && signedAt < rejectBefore) {
    return Either.left(new RejectedBeforeTimestamp({ signedAt, rejectBefore }))
  }
  if (now - signedAt > (windowSecs + CLOCK_SKEW_SLACK_SECS) * 1000) {
    return Either.left(new Stale({ signedAt, now, windowSecs }))
  }
  if (signedAt - now > CLOCK_SKEW_SLACK_SECS * 1000) {
    return Either.left(new FutureDated({ signedAt, now, slackSecs: CLOCK_SKEW_SLACK_SECS }))
  }
  return Either.right(mintVerified(payload, signedAt))
}

/** A verified payload together with the canonical text its signature covers. */
export interface VerifiedDocument<A> {
  /** The verified payload. */
  readonly verified: Verified<A>
  /** The RFC 8785 canonical text of the received bytes (hash it for `fleetResolvedHash`). */
  readonly canonical: string
}

/** {@link verifySignedSidecar}, also returning the canonical text (so callers need not re-canonicalise). */
export const verifySignedDocument = <A extends SignedPayload, I>(
  schema: Schema.Schema<A, I, never>,
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions
): Either.Either<VerifiedDocument<A>, SidecarError> =>
  Either.flatMap(checkSignature(bytes, signature, options.keys), ({ canonical, value }) =>
    Either.map(gatePayload(schema, value, options), (verified) => ({ verified, canonical }))
  )

/**
 * Verifies a signed artifact (`bytes` as received, `signature` the raw 64-byte sidecar) and
 * decodes it with `schema`. See the module comment for the exact check order.
 */
export const verifySignedSidecar = <A extends SignedPayload, I>(
  schema: Schema.Schema<A, I, never>,
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: VerifyOptions
): Either.Either<Verified<A>, SidecarError> =>
  Either.map(verifySignedDocument(schema, bytes, signature, options), (doc) => doc.verified)

/** {@link verifySignedSidecar} with `now` read from Effect's Clock. */
export const verifySignedSidecarEffect = <A extends SignedPayload, I>(
  schema: Schema.Schema<A, I, never>,
  bytes: string | Uint8Array,
  signature: Uint8Array,
  options: Omit<VerifyOptions, "now">
): Effect.Effect<Verified<A>, SidecarError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    verifySignedSidecar(schema, bytes, signature, { ...options, now: now as Timestamp })
  )
