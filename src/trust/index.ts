/**
 * The trust layer's public surface: RFC 8785 canonical JSON, signature verification of signed
 * artifacts into `Verified<T>`, trust-root rotation reminders, and the CI signing helpers.
 *
 * Invariant: the internal `mintVerified` is not re-exported here, so code outside src/trust can
 * only get a `Verified` from a verify function (or the explicitly named `unverifiedForTests`).
 */
export { canonicalize, canonicalizeDocument, canonicalizeText, JcsCanonicalizeError, JcsParseError, parseJsonText } from "./jcs.js"
export type { CanonicalDocument, JsonValue } from "./jcs.js"
export { canonicalHash, canonicalHashFromBytes, SHA256_HEX, sha256Hex } from "./hash.js"
export {
  decodeBase64Strict,
  ED25519_L,
  isSmallOrderEd25519,
  normalizeP256LowS,
  P256_N,
  prepareKey,
  verifyEcdsaP256,
  verifyEd25519Strict,
  verifyWithKey
} from "./crypto.js"
export type { PreparedKey } from "./crypto.js"
export * from "./errors.js"
export { isVerified, unverifiedForTests, Verified, VerifiedTypeId } from "./verified.js"
export {
  ACCEPTED_SCHEMA_VERSION,
  checkSignature,
  DEFAULT_FRESHNESS_WINDOW_SECS,
  gatePayload,
  trustRootsAt,
  verifySignedDocument,
  verifySignedSidecar,
  verifySignedSidecarEffect
} from "./sidecar.js"
export type { CheckedSignature, SignedPayload, VerifiedDocument, VerifyOptions } from "./sidecar.js"
export * from "./verify.js"
export * from "./manifestSet.js"
export * from "./discriminator.js"
export * from "./rotation.js"
export * from "./keygen.js"
export * from "./sign.js"
export * from "./layout.js"
