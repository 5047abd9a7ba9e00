/**
 * Timestamps: epoch milliseconds (UTC) in memory, RFC 3339 with a `Z` on the wire.
 *
 * Invariant: every decoded timestamp is an integer number of milliseconds within years
 * 0000–9999, so encoding never throws; encoding always writes millisecond precision.
 * Sub-millisecond digits on input are truncated (Rust sends up to nanoseconds, JS keeps ms).
 */
import { ParseResult, Schema } from "effect"

/** Earliest representable instant: 0000-01-01T00:00:00.000Z. */
const MIN_MILLIS = -62_167_219_200_000
/** Latest representable instant: 9999-12-31T23:59:59.999Z. */
const MAX_MILLIS = 253_402_300_799_999

/**
 * An instant as integer epoch milliseconds, branded so it cannot be mixed up with durations or
 * seconds. This is the in-memory (Type) side of {@link Timestamp}.
 */
export const TimestampMillis = Schema.Number.pipe(
  Schema.int(),
  Schema.between(MIN_MILLIS, MAX_MILLIS),
  Schema.brand("effect-fleet/Timestamp"),
  Schema.annotations({ identifier: "TimestampMillis" })
)

/** An instant in epoch milliseconds (UTC). */
export type Timestamp = typeof TimestampMillis.Type

const RFC3339_Z = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?[Zz]$/

/**
 * Parses an RFC 3339 UTC timestamp (`Z` suffix required) into epoch milliseconds, or returns
 * `undefined` when the text is not one (wrong shape, offset other than `Z`, impossible date).
 */
export const parseRfc3339Z = (text: string): number | undefined => {
  const m = RFC3339_Z.exec(text)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0").slice(0, 3))
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second, millis)
  // Reject dates that JavaScript silently rolls over (e.g. 2026-02-30).
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined
  return d.getTime()
}

/** Formats epoch milliseconds as RFC 3339 UTC with millisecond precision (`2026-05-17T12:00:00.000Z`). */
export const formatRfc3339 = (millis: number): string => new Date(millis).toISOString()

/**
 * The wire and storage form of an instant: decodes RFC 3339 text with a `Z` suffix into
 * {@link Timestamp} milliseconds and encodes back with millisecond precision.
 */
export const Timestamp = Schema.transformOrFail(Schema.String, TimestampMillis, {
  strict: true,
  decode: (text, _options, ast) => {
    const millis = parseRfc3339Z(text)
    return millis === undefined
      ? ParseResult.fail(
          new ParseResult.Type(ast, text, `Expected an RFC 3339 UTC timestamp ending in "Z", actual ${JSON.stringify(text)}`)
        )
      : ParseResult.succeed(millis)
  },
  encode: (millis) => ParseResult.succeed(formatRfc3339(millis))
}).annotations({ identifier: "Timestamp" })

/**
 * Builds a {@link Timestamp} from RFC 3339 text or epoch milliseconds; throws on bad input.
 * Meant for literals in tests, fixtures and examples, not for untrusted input (decode that).
 */
export const ts = (value: string | number): Timestamp => {
  const millis = typeof value === "number" ? value : parseRfc3339Z(value)
  if (millis === undefined || !Number.isInteger(millis) || millis < MIN_MILLIS || millis > MAX_MILLIS) {
    throw new RangeError(`not an RFC 3339 UTC timestamp or epoch milliseconds: ${String(value)}`)
  }
  return millis as Timestamp
}

/** Adds a number of milliseconds to an instant. */
export const addMillis = (at: Timestamp, millis: number): Timestamp => (at + millis) as Timestamp

/** A per-(host, rollout) event sequence number: a non-negative safe integer. */
export const Seq = Schema.Number.pipe(
  Schema.int(),
  Schema.between(0, Number.MAX_SAFE_INTEGER),
  Schema.annotations({ identifier: "Seq" })
)
