/**
 * Trust roots (`trust.json`) and the signed revocations artifact, as Schemas, plus the total
 * helpers that turn a key slot into the ordered list of keys a verifier tries.
 *
 * Invariant: the algorithm belongs to the trusted key, never to the artifact (no downgrade by
 * lying in `meta.signatureAlgorithm`); key lists are ordered current → previous → successor
 * (the successor only while `now < retireAt`), and absent keys are skipped.
 */
import { Schema } from "effect"
import { ArtifactMeta } from "./fleet.js"
import { HostId } from "./ids.js"
import { Timestamp } from "./time.js"

/** The signature algorithms this library can verify. */
export const SignatureAlgorithm = Schema.Literal("ed25519", "ecdsa-p256").annotations({ identifier: "SignatureAlgorithm" })
/** A signature algorithm this library can verify. */
export type SignatureAlgorithm = typeof SignatureAlgorithm.Type

/** Every algorithm this library verifies, in the order documented. */
export const SUPPORTED_ALGORITHMS: ReadonlyArray<SignatureAlgorithm> = SignatureAlgorithm.literals

/** Whether an algorithm name (from trust.json) is one this library verifies. */
export const isSupportedAlgorithm = (algorithm: string): algorithm is SignatureAlgorithm =>
  (SUPPORTED_ALGORITHMS as ReadonlyArray<string>).includes(algorithm)

/**
 * A trusted public key. `algorithm` stays an open string for forward compatibility: unknown
 * algorithms are skipped at verification time (and reported as `UnsupportedAlgorithm` when no key
 * is usable). `public` is standard padded base64: 32 raw bytes for `ed25519`, the 64 bytes `X‖Y`
 * (no `0x04` prefix) for `ecdsa-p256`.
 */
export const TrustedPubkey = Schema.Struct({
  algorithm: Schema.String,
  public: Schema.String
}).annotations({ identifier: "TrustedPubkey" })
/** A trusted public key. */
export type TrustedPubkey = typeof TrustedPubkey.Type

const nullKey = Schema.optionalWith(Schema.NullOr(TrustedPubkey), { default: () => null })
const nullInstant = Schema.optionalWith(Schema.NullOr(Timestamp), { default: () => null })

/**
 * A rotating key slot. Every field may be null (or absent, which decodes to null):
 * - `current`, `previous`: the keys verifiers try, newest first;
 * - `successor` + `retireAt`: a pre-announced key accepted while `now < retireAt`; once
 *   `now >= retireAt` the CP reports a rotation reminder (it never rotates by itself);
 * - `rejectBefore`: the compromise kill-switch; artifacts signed strictly before it are refused.
 */
export const KeySlot = Schema.Struct({
  current: nullKey,
  previous: nullKey,
  rejectBefore: nullInstant,
  successor: nullKey,
  retireAt: nullInstant
}).annotations({ identifier: "KeySlot" })
/** A rotating key slot. */
export type KeySlot = typeof KeySlot.Type

/**
 * `trust.json`: the roots of trust the CP and the agents verify signed artifacts against.
 * `schemaVersion` is required and must be 1; `cacheKeys` are opaque strings (e.g.
 * `name:base64` or `attic:host:base64`) forwarded to nix and default to `[]`; `orgRootKey` is a
 * slot like `ciReleaseKey`, or null. Unknown fields are ignored.
 */
export const TrustConfig = Schema.Struct({
  schemaVersion: Schema.Literal(1),
  ciReleaseKey: KeySlot,
  cacheKeys: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  orgRootKey: Schema.optionalWith(Schema.NullOr(KeySlot), { default: () => null }),
  rootCaPem: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  issuanceCaPems: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
}).annotations({ identifier: "TrustConfig" })
/** `trust.json`. */
export type TrustConfig = typeof TrustConfig.Type

/** The time-less key list of a slot: `[current, previous]`, skipping nulls (offline tools use it). */
export const activeKeys = (slot: KeySlot): ReadonlyArray<TrustedPubkey> =>
  [slot.current, slot.previous].filter((k): k is TrustedPubkey => k !== null)

/**
 * The key list a verifier tries at `now`: `[current, previous]`, then the successor while
 * `now < retireAt` (the overlap window), skipping nulls. Order matters: first match wins.
 */
export const activeKeysAt = (slot: KeySlot, now: number): ReadonlyArray<TrustedPubkey> =>
  slot.successor !== null && slot.retireAt !== null && now < slot.retireAt
    ? [...activeKeys(slot), slot.successor]
    : activeKeys(slot)

/**
 * One revocation: any agent certificate for `hostname` whose `notBefore` is older than this
 * entry's `notBefore` is refused. `reason` and `revokedBy` are free-form audit notes.
 */
export const RevocationEntry = Schema.Struct({
  hostname: HostId,
  notBefore: Timestamp,
  reason: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  revokedBy: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
}).annotations({ identifier: "RevocationEntry" })
/** One revocation. */
export type RevocationEntry = typeof RevocationEntry.Type

/**
 * The signed revocations artifact (`revocations.json` + `.sig`), signed with `ciReleaseKey` like
 * fleet.resolved. An empty list is valid (the steady state).
 */
export const Revocations = Schema.Struct({
  /** Must be 1; the verifier reports anything else as `SchemaVersionUnsupported`. */
  schemaVersion: Schema.Number.pipe(Schema.int()),
  meta: ArtifactMeta,
  revocations: Schema.Array(RevocationEntry)
}).annotations({ identifier: "Revocations" })
/** The signed revocations artifact. */
export type Revocations = typeof Revocations.Type
