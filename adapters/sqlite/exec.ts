/**
 * Shared helpers of the SQLite adapters: running SQL text with positional parameters, turning
 * SqlErrors and ParseErrors into StorageErrors, and chunking multi-row statements.
 *
 * Invariants: nothing here lets an SqlError or a ParseError escape (every failure becomes a
 * StorageError naming the operation and table); chunk sizes come from a small fixed set, so the
 * client's prepared-statement cache stays small.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Option, Schema } from "effect"
import { StorageError } from "../../src/ports/errors.js"

/** A positional SQL parameter. */
export type Param = string | number | null

/** A raw result row. */
export type Row = Record<string, unknown>

/** Whether an SqlError comes from a constraint (unique, foreign key, CHECK, NOT NULL). */
const isConstraint = (error: SqlError): boolean => {
  const cause: unknown = error.cause
  return typeof cause === "object" && cause !== null && "code" in cause && String(cause.code).startsWith("SQLITE_CONSTRAINT")
}

const causeMessage = (error: SqlError): string => {
  const cause: unknown = error.cause
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message
}

/** The StorageError for an SqlError. */
export const fromSqlError = (operation: string, table: string, error: SqlError): StorageError =>
  new StorageError({ operation, table, reason: isConstraint(error) ? "Constraint" : "Sql", detail: causeMessage(error) })

/** Maps SqlErrors raised by `effect` to StorageErrors, leaving its other errors alone. */
export const catchSql =
  (operation: string, table: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, Extract<E, SqlError>> | StorageError, R> =>
    Effect.catchIf(
      effect,
      (e): e is Extract<E, SqlError> => e instanceof SqlError,
      (e) => Effect.fail(fromSqlError(operation, table, e))
    )

/**
 * Runs `text` on the transaction's connection when one is open (the reducer's writes and reads
 * all run inside its group transaction), else through `sql.unsafe`. Inside a transaction this is
 * the connection `sql.unsafe` would pick too, minus the per-statement `sql.execute` span and
 * scope: 23 µs instead of 132 µs per point SELECT on the bench machine (a 6× cut that the
 * service-method spans of the callers keep traced). Rows come back untransformed (this library
 * reads snake_case columns).
 */
const execute = (sql: SqlClient.SqlClient, text: string, params: ReadonlyArray<Param>): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
  Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (tx) =>
    Option.isSome(tx) ? tx.value[0].execute(text, params, undefined) : sql.unsafe<Row>(text, params)
  )

/** Runs one statement and returns its rows (empty for statements without RETURNING). */
export const query = (
  sql: SqlClient.SqlClient,
  operation: string,
  table: string,
  text: string,
  params: ReadonlyArray<Param> = []
): Effect.Effect<ReadonlyArray<Row>, StorageError> => catchSql(operation, table)(execute(sql, text, params))

/** A decoder of raw rows that fails with `Decode`, naming the table and the bad row's key. */
export const rowDecoder = <A, I>(schema: Schema.Schema<A, I>, table: string, keyColumns: ReadonlyArray<string>) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (operation: string, rows: ReadonlyArray<Row>): Effect.Effect<Array<A>, StorageError> => {
    const out: Array<A> = []
    for (const row of rows) {
      const result = decode(row)
      if (Either.isLeft(result)) {
        const key = keyColumns.map((c) => `${c}=${JSON.stringify(row[c])}`).join(", ")
        return Effect.fail(new StorageError({ operation, table, reason: "Decode", detail: `row (${key}): ${result.left.message}` }))
      }
      out.push(result.right)
    }
    return Effect.succeed(out)
  }
}

/** An encoder of domain values to rows that fails with `Encode`. */
export const rowEncoder = <A, I>(schema: Schema.Schema<A, I>, table: string) => {
  const encode = Schema.encodeEither(schema)
  return (operation: string, values: ReadonlyArray<A>): Effect.Effect<Array<I>, StorageError> => {
    const out: Array<I> = []
    for (const [index, value] of values.entries()) {
      const result = encode(value)
      if (Either.isLeft(result)) {
        return Effect.fail(new StorageError({ operation, table, reason: "Encode", detail: `value ${index}: ${result.left.message}` }))
      }
      out.push(result.right)
    }
    return Effect.succeed(out)
  }
}

/** The largest multi-row chunk (a power of two; 256 rows × 22 columns stays far below SQLite's 32766 variables). */
export const MAX_CHUNK = 256

/**
 * Splits `items` into chunks of {@link MAX_CHUNK}, then the remainder into descending powers of
 * two, so at most log2(MAX_CHUNK) + 1 distinct statement shapes exist per table.
 */
export const chunks = <T>(items: ReadonlyArray<T>): Array<ReadonlyArray<T>> => {
  const out: Array<ReadonlyArray<T>> = []
  let start = 0
  for (; items.length - start >= MAX_CHUNK; start += MAX_CHUNK) out.push(items.slice(start, start + MAX_CHUNK))
  for (let size = MAX_CHUNK / 2; size >= 1; size /= 2) {
    if (items.length - start >= size) {
      out.push(items.slice(start, start + size))
      start += size
    }
  }
  return out
}

/**
 * Runs `run` on each chunk of `items` atomically: a single statement is atomic by itself, so only
 * several chunks are wrapped in a transaction (a savepoint when nested).
 */
export const forEachChunk = <T>(
  sql: SqlClient.SqlClient,
  operation: string,
  table: string,
  items: ReadonlyArray<T>,
  run: (chunk: ReadonlyArray<T>) => Effect.Effect<unknown, StorageError>
): Effect.Effect<void, StorageError> => {
  const parts = chunks(items)
  const all = Effect.forEach(parts, run, { discard: true })
  return parts.length <= 1 ? all : catchSql(operation, table)(sql.withTransaction(all))
}

/** `(?, ?, …), (…)`: placeholders for `rows` rows of `columns` columns. */
export const placeholders = (columns: number, rows: number): string => {
  const one = `(${Array.from({ length: columns }, () => "?").join(", ")})`
  return Array.from({ length: rows }, () => one).join(", ")
}

/** `?, ?, …`: placeholders for an IN list of `n` values. */
export const inList = (n: number): string => Array.from({ length: n }, () => "?").join(", ")

/**
 * INSERTs encoded rows (all with the same keys, in the same order) followed by `conflict` (an
 * `ON CONFLICT …` and/or `RETURNING …` clause); returns how many rows the statement returned.
 */
export const insertRows = (
  sql: SqlClient.SqlClient,
  operation: string,
  table: string,
  tableName: string,
  rows: ReadonlyArray<Row>,
  conflict: string
): Effect.Effect<number, StorageError> => {
  const columns = Object.keys(rows[0] ?? {})
  const text = `INSERT INTO ${tableName} (${columns.join(", ")}) VALUES ${placeholders(columns.length, rows.length)} ${conflict}`
  const params = rows.flatMap((r) => columns.map((c) => (r[c] ?? null) as Param))
  return Effect.map(query(sql, operation, table, text, params), (returned) => returned.length)
}

const CountRow = Schema.Struct({ value: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) })

/** Runs a query returning one row with a non-negative integer column `value` (0 when no row). */
export const queryCount = (
  sql: SqlClient.SqlClient,
  operation: string,
  table: string,
  text: string,
  params: ReadonlyArray<Param> = []
): Effect.Effect<number, StorageError> =>
  Effect.flatMap(query(sql, operation, table, text, params), (rows) =>
    Effect.map(rowDecoder(CountRow, table, ["value"])(operation, rows), (decoded) => decoded[0]?.value ?? 0)
  )
