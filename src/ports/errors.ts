/**
 * The error every storage port (Storage, EventLog, OutboundQueue) fails with.
 *
 * Invariant: a storage method that fails with a StorageError changed nothing (its writes were one
 * transaction and were rolled back); bad rows surface as `reason: "Decode"` naming the table and
 * the row's key, never as a defect.
 */
import { Schema } from "effect"

/**
 * Why a storage call failed:
 * - `Sql`: the database refused or failed (I/O, locked, closed, syntax);
 * - `Constraint`: a uniqueness, foreign-key or CHECK constraint rejected a write;
 * - `Decode`: a stored row does not decode into the domain type (corrupt row, unknown enum);
 * - `Encode`: a value to store does not encode (e.g. a payload that is not JSON);
 * - `Config`: the adapter was configured wrongly (e.g. an invalid table prefix);
 * - `Migration`: the schema could not be created or upgraded.
 */
export const StorageFailureReason = Schema.Literal("Sql", "Constraint", "Decode", "Encode", "Config", "Migration")
/** Why a storage call failed. */
export type StorageFailureReason = typeof StorageFailureReason.Type

/** A storage call failed; it crosses storage boundaries, so it is a Schema.TaggedError. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  /** The port method, e.g. `"Storage.upsertHostRecord"`. */
  operation: Schema.String,
  /** The table (without prefix) the failure concerns, or `""` when none does. */
  table: Schema.String,
  reason: StorageFailureReason,
  /** A human-readable explanation, naming the row's key for decode failures. */
  detail: Schema.String
}) {
  /** `"<operation>: <reason> on <table>: <detail>"`. */
  override get message(): string {
    return `${this.operation}: ${this.reason}${this.table === "" ? "" : ` on ${this.table}`}: ${this.detail}`
  }
}
