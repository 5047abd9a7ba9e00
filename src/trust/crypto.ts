/**
 * Signature primitives on node:crypto: strict Ed25519 and ECDSA P-256 (SHA-256) over raw 64-byte
 * signatures, with trust.json key material (standard padded base64).
 *
 * Invariant: every function here is total; malformed keys or signatures give `false` or an error
 * value, never an exception. Ed25519 is verified like ed25519-dalek's `verify_strict`:
 * - `s` must be canonical (`s < L`), checked here before OpenSSL sees it;
 * - the public key `A` and the commitment `R` must not be small-order points, in any encoding
 *   (OpenSSL alone accepts e.g. the identity key with `R = identity, s = 0` for every message);
 * - OpenSSL compares the recomputed `R` by its canonical encoding, so non-canonical `R` fails.
 * ECDSA P-256 accepts a high-s signature by normalising `s` to `n − s` first (TPMs emit high-s
 * about half the time); `r` and `s` must lie in `[1, n−1]`.
 */
import { createPublicKey, type KeyObject, verify as nodeVerify } from "node:crypto"
import { Either } from "effect"
import type { SignatureAlgorithm, TrustedPubkey } from "../domain/trust.js"
import { isSupportedAlgorithm } from "../domain/trust.js"
import { BadPubkeyEncoding } from "./errors.js"

/** The order of the Ed25519 base point. */
export const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n
/** The field prime of Curve25519. */
const ED25519_P = (1n << 255n) - 19n
/** The y coordinate of the order-8 points (the other one is `p − Y8`). */
const ED25519_Y8 = 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n
/** y mod p of every small-order point: identity (1), order 2 (p−1), order 4 (0), order 8 (±Y8). */
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([0n, 1n, ED25519_P - 1n, ED25519_Y8, ED25519_P - ED25519_Y8])

/** The order of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const P256_HALF_N = P256_N >> 1n

/** Reads a little-endian unsigned integer. */
const readLE = (bytes: Uint8Array): bigint => {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

/** Reads a big-endian unsigned integer. */
const readBE = (bytes: Uint8Array): bigint => {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

/** Writes a big-endian unsigned integer into `length` bytes. */
export const writeBE = (n: bigint, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  let v = n
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/**
 * Decodes standard padded base64 strictly: only the canonical encoding of its bytes is accepted
 * (no whitespace, no URL alphabet, no missing padding, no stray trailing bits).
 */
export const decodeBase64Strict = (text: string): Uint8Array | undefined => {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  const bytes = Buffer.from(text, "base64")
  return bytes.toString("base64") === text ? new Uint8Array(bytes) : undefined
}

/** Whether a 32-byte Ed25519 point encoding (canonical or not) denotes a small-order point. */
export const isSmallOrderEd25519 = (encoded: Uint8Array): boolean => {
  const y = readLE(encoded) & ((1n << 255n) - 1n)
  return SMALL_ORDER_Y.has(y % ED25519_P)
}

/** A trusted key parsed into a node:crypto key, ready to verify with. */
export interface PreparedKey {
  /** The algorithm the key verifies. */
  readonly algorithm: SignatureAlgorithm
  /** The node:crypto public key. */
  readonly key: KeyObject
  /** The raw public key bytes (32 for Ed25519, 64 `X‖Y` for P-256). */
  readonly raw: Uint8Array
}

const importKey = (jwk: Record<string, string>): KeyObject | undefined => {
  try {
    return createPublicKey({ key: jwk, format: "jwk" })
  } catch {
    return undefined
  }
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

/**
 * Parses trust.json key material. An unknown algorithm or malformed material gives
 * {@link BadPubkeyEncoding}; an Ed25519 small-order key is refused here too.
 */
export const prepareKey = (pub: TrustedPubkey): Either.Either<PreparedKey, BadPubkeyEncoding> => {
  const bad = (reason: string) => Either.left(new BadPubkeyEncoding({ algorithm: pub.algorithm, reason }))
  if (!isSupportedAlgorithm(pub.algorithm)) return bad("unsupported algorithm")
  const raw = decodeBase64Strict(pub.public)
  if (raw === undefined) return bad("not canonical padded base64")
  if (pub.algorithm === "ed25519") {
    if (raw.length !== 32) return bad(`expected 32 bytes, got ${raw.length}`)
    if (isSmallOrderEd25519(raw)) return bad("small-order point")
    const key = importKey({ kty: "OKP", crv: "Ed25519", x: b64url(raw) })
    return key === undefined ? bad("not a valid Ed25519 point") : Either.right({ algorithm: "ed25519", key, raw })
  }
  if (raw.length !== 64) return bad(`expected 64 bytes (X ‖ Y uncompressed), got ${raw.length}`)
  const key = importKey({ kty: "EC", crv: "P-256", x: b64url(raw.subarray(0, 32)), y: b64url(raw.subarray(32)) })
  return key === undefined ? bad("not a point on P-256") : Either.right({ algorithm: "ecdsa-p256", key, raw })
}

const nodeVerifySafe = (
  algorithm: string | null,
  message: Uint8Array,
  key: KeyObject | { key: KeyObject; dsaEncoding: "ieee-p1363" },
  signature: Uint8Array
): boolean => {
  try {
    return nodeVerify(algorithm, message, key, signature)
  } catch {
    return false
  }
}

/** Strict Ed25519 verification (see the module invariant) of a raw 64-byte `R‖s` signature. */
export const verifyEd25519Strict = (key: PreparedKey, message: Uint8Array, signature: Uint8Array): boolean => {
  if (signature.length !== 64) return false
  const r = signature.subarray(0, 32)
  if (readLE(signature.subarray(32)) >= ED25519_L) return false
  if (isSmallOrderEd25519(r) || isSmallOrderEd25519(key.raw)) return false
  return nodeVerifySafe(null, message, key.key, signature)
}

/**
 * Normalises a raw `r‖s` P-256 signature to low-s (`s > n/2` becomes `n − s`); returns undefined
 * when the length is not 64 or `r`/`s` is outside `[1, n−1]`.
 */
export const normalizeP256LowS = (signature: Uint8Array): Uint8Array | undefined => {
  if (signature.length !== 64) return undefined
  const r = readBE(signature.subarray(0, 32))
  const s = readBE(signature.subarray(32))
  if (r === 0n || r >= P256_N || s === 0n || s >= P256_N) return undefined
  if (s <= P256_HALF_N) return signature
  const out = new Uint8Array(64)
  out.set(signature.subarray(0, 32), 0)
  out.set(writeBE(P256_N - s, 32), 32)
  return out
}

/** ECDSA P-256 / SHA-256 verification of a raw 64-byte `r‖s` signature, high-s accepted. */
export const verifyEcdsaP256 = (key: PreparedKey, message: Uint8Array, signature: Uint8Array): boolean => {
  const normalized = normalizeP256LowS(signature)
  return normalized !== undefined && nodeVerifySafe("sha256", message, { key: key.key, dsaEncoding: "ieee-p1363" }, normalized)
}

/** Verifies a signature with a prepared key, dispatching on the key's algorithm. */
export const verifyWithKey = (key: PreparedKey, message: Uint8Array, signature: Uint8Array): boolean =>
  key.algorithm === "ed25519" ? verifyEd25519Strict(key, message, signature) : verifyEcdsaP256(key, message, signature)
