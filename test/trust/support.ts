/**
 * Shared helpers for the trust tests: fixture loading, signing in the test itself, byte flips
 * and instant arithmetic.
 *
 * Invariant: no signature or verdict is stored; every signed artifact is produced by the test
 * that checks it, with keys generated on the spot.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { Either } from "effect"
import { ts, type Timestamp } from "../../src/domain/time.js"
import type { TrustedPubkey } from "../../src/domain/trust.js"
import { canonicalizeText } from "../../src/trust/jcs.js"
import { generateSigningKey, type SigningKey, signRaw } from "../../src/trust/keygen.js"

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "trust")

/** Reads a trust fixture as UTF-8 text. */
export const fixture = (name: string): string => readFileSync(path.join(fixtures, name), "utf8")

/** signedAt of `signed-artifact.json`. */
export const SIGNED_AT = ts("2026-04-24T10:00:00Z")

/** Seconds after (or before, when negative) an instant. */
export const plusSecs = (at: Timestamp, secs: number): Timestamp => (at + secs * 1000) as Timestamp

/** Three hours, the window of most reference verification tests. */
export const WINDOW_3H = 3 * 3600

/** Canonicalises JSON text, failing the test on error. */
export const canonical = (text: string): string => Either.getOrThrow(canonicalizeText(text))

/** A fresh key pair per algorithm, generated once per test file. */
export const keys = {
  ed25519: generateSigningKey("ed25519"),
  p256: generateSigningKey("ecdsa-p256")
} as const

/** Signs the canonical form of JSON text (what CI signs) with a key. */
export const signText = (key: SigningKey, text: string): Uint8Array => signRaw(key, canonical(text))

/** A copy of the bytes with one bit flipped. */
export const flipBit = (bytes: Uint8Array, index: number, bit: number): Uint8Array => {
  const out = new Uint8Array(bytes)
  out[index] = (out[index] as number) ^ (1 << bit)
  return out
}

/** UTF-8 bytes of text. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

/** A trusted key with another algorithm name but the same material. */
export const relabel = (key: TrustedPubkey, algorithm: string): TrustedPubkey => ({ algorithm, public: key.public })

/** Replaces the top-level `schemaVersion` of a JSON document. */
export const withSchemaVersion = (text: string, version: number): string =>
  JSON.stringify({ ...(JSON.parse(text) as Record<string, unknown>), schemaVersion: version })
