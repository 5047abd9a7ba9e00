/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form that signer and verifier both
 * sign and check.
 *
 * Invariant: `canonicalize` is total (it returns an error value, never throws) and idempotent;
 * its output depends only on the JSON value, never on the input's key order or whitespace.
 * - Object keys are sorted by UTF-16 code units (JavaScript's default string order), recursively.
 * - Arrays keep their order; no whitespace is written.
 * - Numbers use the ECMAScript Number-to-String algorithm (`String(n)`), so `-0` is `0`,
 *   `1e21` is `1e+21`; NaN and ±Infinity are rejected.
 * - Strings use ECMAScript `JSON.stringify` escaping, which is exactly RFC 8785 §3.2.2.2:
 *   `\b \t \n \f \r \" \\` short forms, other controls as lowercase `\u00xx`, everything else
 *   (including `/` and non-ASCII) literal. Lone surrogates are rejected (I-JSON, RFC 7493).
 */
import { Data, Either } from "effect"

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = null | boolean | number | string | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }

/** The input is not UTF-8 text or not JSON (RFC 8259) at all. */
export class JcsParseError extends Data.TaggedError("JcsParseError")<{
  /** What was wrong, e.g. `invalid UTF-8` or the JSON parser's message. */
  readonly detail: string
}> {
  /** The message of this error. */
  override get message(): string {
    return `JCS input is not JSON: ${this.detail}`
  }
}

/** The value is JSON-shaped but has no RFC 8785 canonical form (non-finite number, lone surrogate, ...). */
export class JcsCanonicalizeError extends Data.TaggedError("JcsCanonicalizeError")<{
  /** What was wrong and where (a JSON-pointer-like path). */
  readonly detail: string
}> {
  /** The message of this error. */
  override get message(): string {
    return `JCS canonicalization failed: ${this.detail}`
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Deeper nesting than this is refused (it also turns an in-memory cycle into an error). */
const MAX_DEPTH = 1000

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** Internal early exit of {@link canonicalize}; never escapes this module. */
class Refused {
  constructor(readonly detail: string) {}
}

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * One JSON string in RFC 8785 form. `JSON.stringify` escapes a lone surrogate as `\udxxx`, so
 * the (rare) text containing `\ud` is re-checked on the raw string.
 */
const writeString = (value: string, path: Path): string => {
  const out = JSON.stringify(value)
  if (out.includes("\\ud") && LONE_SURROGATE.test(value)) throw new Refused(`lone surrogate at ${where(path)}`)
  return out
}

/**
 * Where a value sits, as a JSON-pointer-like path; `undefined` on the fast pass, which builds no
 * paths (a refused value is re-run with paths to name the spot).
 */
type Path = string | undefined
const child = (path: Path, segment: string | number): Path => (path === undefined ? undefined : `${path}/${segment}`)
const where = (path: Path): string => (path === undefined ? "?" : path || "/")

const write = (value: unknown, path: Path, depth: number): string => {
  switch (typeof value) {
    case "string":
      return writeString(value, path)
    case "number":
      if (!Number.isFinite(value)) throw new Refused(`non-finite number ${String(value)} at ${where(path)}`)
      return String(value)
    case "boolean":
      return value ? "true" : "false"
    case "object": {
      if (value === null) return "null"
      if (depth > MAX_DEPTH) throw new Refused(`nesting deeper than ${MAX_DEPTH} (or a cycle) at ${where(path)}`)
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ","
          out += write(value[i], child(path, i), depth + 1)
        }
        return out + "]"
      }
      if (!isPlainObject(value)) throw new Refused(`not a plain JSON object at ${where(path)}`)
      const record = value as Readonly<Record<string, unknown>>
      // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
      const keys = Object.keys(record).sort()
      let out = "{"
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string
        if (i > 0) out += ","
        out += writeString(key, path) + ":" + write(record[key], child(path, key), depth + 1)
      }
      return out + "}"
    }
    default:
      throw new Refused(`${typeof value} is not a JSON value at ${where(path)}`)
  }
}

/**
 * The RFC 8785 canonical text of a JSON value (as produced by `JSON.parse`, or built in memory
 * from plain objects, arrays, strings, finite numbers, booleans and null).
 */
export const canonicalize = (value: unknown): Either.Either<string, JcsCanonicalizeError> => {
  try {
    return Either.right(write(value, undefined, 0))
  } catch {
    // Slow path, only for refused input: run again building paths so the error names the spot.
    try {
      return Either.right(write(value, "", 0))
    } catch (cause) {
      const detail = cause instanceof Refused ? cause.detail : cause instanceof Error ? cause.message : String(cause)
      return Either.left(new JcsCanonicalizeError({ detail }))
    }
  }
}

/**
 * Decodes strict UTF-8 (a byte-order mark is kept, so JSON parsing then rejects it) and parses
 * RFC 8259 JSON. Strings pass through unchanged.
 */
export const parseJsonText = (input: string | Uint8Array): Either.Either<JsonValue, JcsParseError> => {
  let text: string
  if (typeof input === "string") {
    text = input
  } else {
    try {
      text = utf8.decode(input)
    } catch {
      return Either.left(new JcsParseError({ detail: "invalid UTF-8" }))
    }
  }
  try {
    return Either.right(JSON.parse(text) as JsonValue)
  } catch (cause) {
    return Either.left(new JcsParseError({ detail: cause instanceof Error ? cause.message : String(cause) }))
  }
}

/** A parsed JSON document together with its RFC 8785 canonical text. */
export interface CanonicalDocument {
  /** The value as parsed from the input. */
  readonly value: JsonValue
  /** The RFC 8785 canonical text of `value`. */
  readonly canonical: string
}

/** Parses JSON text or UTF-8 bytes and canonicalizes it, keeping the parsed value alongside. */
export const canonicalizeDocument = (
  input: string | Uint8Array
): Either.Either<CanonicalDocument, JcsParseError | JcsCanonicalizeError> =>
  Either.flatMap(parseJsonText(input), (value) => Either.map(canonicalize(value), (canonical) => ({ value, canonical })))

/**
 * The RFC 8785 canonical text of JSON text or UTF-8 bytes. Invalid UTF-8 or invalid JSON gives a
 * {@link JcsParseError}; JSON without a canonical form (e.g. `1e400`, a lone `\ud800`) gives a
 * {@link JcsCanonicalizeError}.
 */
export const canonicalizeText = (input: string | Uint8Array): Either.Either<string, JcsParseError | JcsCanonicalizeError> =>
  Either.map(canonicalizeDocument(input), (doc) => doc.canonical)
