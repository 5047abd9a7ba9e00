/**
 * Schema helpers shared by the domain modules.
 *
 * Invariant: a "nullable, omitted" field is `T | null` in memory, accepts a missing key or `null`
 * when decoding, and is left out of the encoded object when null.
 */
import { Option, Schema } from "effect"

/**
 * A field that is `T | null` in memory, optional-or-null on input, and omitted on output when null.
 */
export const nullableOmitted = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalToRequired(Schema.NullOr(schema), Schema.NullOr(Schema.typeSchema(schema)), {
    decode: Option.getOrElse((): null => null),
    encode: (value) => (value === null ? Option.none() : Option.some(value))
  })
