/**
 * Content hashes over canonical JSON: `fleetResolvedHash` is the sha256 of the RFC 8785 form of
 * the fleet.resolved bytes as received.
 *
 * Invariant: hashes are 64 lowercase hex characters, computed over the canonical text of the
 * received bytes (never over a re-serialised object, which would drop fields this version does
 * not know and so change the hash).
 */
import { createHash } from "node:crypto"
import { Either } from "effect"
import { canonicalize, canonicalizeText, type JcsCanonicalizeError, type JcsParseError } from "./jcs.js"

/** Lowercase hex sha256 of UTF-8 text or raw bytes. */
export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** A 64-character lowercase hex sha256, the shape of `fleetResolvedHash`. */
export const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * sha256 (lowercase hex) of the RFC 8785 canonical form of the received JSON bytes: the verifier
 * side of `fleetResolvedHash`.
 */
export const canonicalHashFromBytes = (bytes: string | Uint8Array): Either.Either<string, JcsParseError | JcsCanonicalizeError> =>
  Either.map(canonicalizeText(bytes), sha256Hex)

/** sha256 (lowercase hex) of the RFC 8785 canonical form of an in-memory JSON value (producer side). */
export const canonicalHash = (value: unknown): Either.Either<string, JcsCanonicalizeError> =>
  Either.map(canonicalize(value), sha256Hex)
