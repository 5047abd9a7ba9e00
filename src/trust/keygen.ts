/**
 * Signing keys for CI, examples and tests: generate, export and import Ed25519 / ECDSA P-256
 * keys, and produce raw 64-byte signatures over canonical JSON.
 *
 * Invariant: a `SigningKey`'s `public` is exactly the trust.json form that verifies its
 * signatures (Ed25519: base64 of 32 bytes; P-256: base64 of `X‖Y`, 64 bytes, no `0x04`), and
 * every signature is raw (Ed25519 `R‖s`, P-256 `r‖s`), never DER or base64. Private keys leave
 * this module only as PKCS#8 PEM or JWK, on explicit request.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject, sign as nodeSign } from "node:crypto"
import { Data, Either } from "effect"
import type { SignatureAlgorithm, TrustedPubkey } from "../domain/trust.js"

/** A private key with its algorithm and its trust.json public form. */
export interface SigningKey {
  /** The algorithm the key signs with. */
  readonly algorithm: SignatureAlgorithm
  /** The node:crypto private key. */
  readonly privateKey: KeyObject
  /** The public key as trust.json lists it. */
  readonly public: TrustedPubkey
}

/** A private key could not be imported (bad PEM/JWK, or a curve other than Ed25519 / P-256). */
export class SigningKeyError extends Data.TaggedError("SigningKeyError")<{ readonly detail: string }> {
  /** The message of this error. */
  override get message(): string {
    return `cannot use signing key: ${this.detail}`
  }
}

const fromBase64Url = (text: string | undefined): Buffer => Buffer.from(text ?? "", "base64url")

/** The trust.json public form of a node:crypto public (or private) key. */
const publicFormOf = (key: KeyObject): Either.Either<TrustedPubkey, SigningKeyError> => {
  const jwk = createPublicKey(key).export({ format: "jwk" })
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") {
    return Either.right({ algorithm: "ed25519", public: fromBase64Url(jwk.x).toString("base64") })
  }
  if (jwk.kty === "EC" && jwk.crv === "P-256") {
    const xy = Buffer.concat([fromBase64Url(jwk.x), fromBase64Url(jwk.y)])
    return Either.right({ algorithm: "ecdsa-p256", public: xy.toString("base64") })
  }
  return Either.left(new SigningKeyError({ detail: `unsupported key type ${String(jwk.kty)}/${String(jwk.crv)}` }))
}

const fromPrivateKey = (privateKey: KeyObject): Either.Either<SigningKey, SigningKeyError> =>
  Either.map(publicFormOf(privateKey), (pub) => ({
    algorithm: pub.algorithm as SignatureAlgorithm,
    privateKey,
    public: pub
  }))

/** Generates a fresh signing key. */
export const generateSigningKey = (algorithm: SignatureAlgorithm): SigningKey => {
  const { privateKey } =
    algorithm === "ed25519" ? generateKeyPairSync("ed25519") : generateKeyPairSync("ec", { namedCurve: "prime256v1" })
  // Both branches produce a supported key type, so the Left case cannot occur.
  return Either.getOrThrow(fromPrivateKey(privateKey))
}

/** Imports a private key from PKCS#8 / SEC1 PEM or from a JWK object. */
export const importSigningKey = (material: string | JsonWebKey): Either.Either<SigningKey, SigningKeyError> => {
  try {
    const privateKey =
      typeof material === "string" ? createPrivateKey(material) : createPrivateKey({ key: material, format: "jwk" })
    return fromPrivateKey(privateKey)
  } catch (cause) {
    return Either.left(new SigningKeyError({ detail: cause instanceof Error ? cause.message : String(cause) }))
  }
}

/** The private key as PKCS#8 PEM (keep it secret: this is the CI release key). */
export const exportPrivateKeyPem = (key: SigningKey): string =>
  key.privateKey.export({ format: "pem", type: "pkcs8" }).toString()

/** The private key as a JWK object (keep it secret). */
export const exportPrivateKeyJwk = (key: SigningKey): JsonWebKey => key.privateKey.export({ format: "jwk" })

/** Signs bytes (already canonical) and returns the raw 64-byte signature. */
export const signRaw = (key: SigningKey, message: string | Uint8Array): Uint8Array => {
  const data = typeof message === "string" ? Buffer.from(message, "utf8") : message
  const signature =
    key.algorithm === "ed25519"
      ? nodeSign(null, data, key.privateKey)
      : nodeSign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" })
  return new Uint8Array(signature)
}
