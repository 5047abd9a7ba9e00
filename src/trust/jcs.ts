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

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Appends the canonical form of `value` to `out`; returns an error message or undefined. */
const write = (value: unknown, path: string, out: Array<string>, stack: Set<object>): string | undefined => {
  switch (typeof value) {
    case "string":
      if (LONE_SURROGATE.test(value)) return `lone surrogate in string at ${path || "/"}`
      out.push(JSON.stringify(value))
      return undefined
    case "number":
      if (!Number.isFinite(value)) return `non-finite number ${String(value)} at ${path || "/"}`
      out.push(String(value))
      return undefined
    case "boolean":
      out.push(value ? "true" : "false")
      return undefined
    case "object": {
      if (value === null) {
        out.push("null")
        return undefined
      }
      if (stack.has(value)) return `cycle at ${path || "/"}`
      if (Array.isArray(value)) {
        stack.add(value)
        out.push("[")
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",")
          const err = write(value[i], `${path}/${i}`, out, stack)
          if (err !== undefined) return err
        }
        out.push("]")
        stack.delete(value)
        return undefined
      }
      if (!isPlainObject(value)) return `not a plain JSON object at ${path || "/"}`
      stack.add(value)
      const record = value as Readonly<Record<string, unknown>>
      // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
      const keys = Object.keys(record).sort()
      out.push("{")
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string
        if (LONE_SURROGATE.test(key)) return `lone surrogate in key at ${path || "/"}`
        if (i > 0) out.push(",")
        out.push(JSON.stringify(key), ":")
        const err = write(record[key], `${path}/${key}`, out, stack)
        if (err !== undefined) return err
      }
      out.push("}")
      stack.delete(value)
      return undefined
    }
    default:
      return `${typeof value} is not a JSON value at ${path || "/"}`
  }
}

/**
 * The RFC 8785 canonical text of a JSON value (as produced by `JSON.parse`, or built in memory
 * from plain objects, arrays, strings, finite numbers, booleans and null).
 */
export const canonicalize = (value: unknown): Either.Either<string, JcsCanonicalizeError> => {
  const out: Array<string> = []
  try {
    const err = write(value, "", out, new Set())
    return err === undefined ? Either.right(out.join("")) : Either.left(new JcsCanonicalizeError({ detail: err }))
  } catch (cause) {
    // Only a stack overflow on absurdly deep nesting can land here.
    return Either.left(new JcsCanonicalizeError({ detail: cause instanceof Error ? cause.message : String(cause) }))
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
