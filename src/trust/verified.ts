/**
 * `Verified<T>`: a value that passed signature, schema and freshness verification, with the
 * instant it was signed.
 *
 * Invariant: the class has a private constructor and no decoder, so outside this module a
 * `Verified` can only come from the `verify*` functions (through the internal {@link mintVerified},
 * which the package root does not export) or from the explicitly named {@link unverifiedForTests}.
 * The wrapped value is frozen by convention: readers get it through `inner()`.
 */
import type { Timestamp } from "../domain/time.js"

/** Brand that marks genuine `Verified` instances (checked by {@link isVerified}). */
export const VerifiedTypeId: unique symbol = Symbol.for("effect-fleet/Verified")
/** Brand that marks genuine `Verified` instances. */
export type VerifiedTypeId = typeof VerifiedTypeId

let mint: <T>(inner: T, signedAt: Timestamp) => Verified<T>

/** A value that passed verification, with the instant it was signed. */
export class Verified<out T> {
  static {
    mint = (inner, signedAt) => new Verified(inner, signedAt)
  }

  /** The brand. */
  readonly [VerifiedTypeId]: VerifiedTypeId = VerifiedTypeId
  readonly #inner: T
  readonly #signedAt: Timestamp

  private constructor(inner: T, signedAt: Timestamp) {
    this.#inner = inner
    this.#signedAt = signedAt
  }

  /** The verified value. */
  inner(): T {
    return this.#inner
  }

  /** The verified value, for callers that take ownership (same as {@link inner} in TypeScript). */
  intoInner(): T {
    return this.#inner
  }

  /** When the artifact was signed (`meta.signedAt`). */
  signedAt(): Timestamp {
    return this.#signedAt
  }

  /** A short description that never prints the payload. */
  toString(): string {
    return `Verified(signedAt=${new Date(this.#signedAt).toISOString()})`
  }
}

/**
 * @internal Wraps a value that the calling verify function has just verified. Not exported from
 * the package root; only src/trust/verify*.ts may call it.
 */
export const mintVerified = <T>(inner: T, signedAt: Timestamp): Verified<T> => mint(inner, signedAt)

/**
 * Wraps a value WITHOUT verifying anything. For tests and fixtures only: production code must
 * obtain `Verified` values from the verify functions.
 */
export const unverifiedForTests = <T>(inner: T, signedAt: Timestamp): Verified<T> => mint(inner, signedAt)

/** Whether a value is a `Verified` instance. */
export const isVerified = (u: unknown): u is Verified<unknown> =>
  typeof u === "object" && u !== null && VerifiedTypeId in u && u instanceof Verified
