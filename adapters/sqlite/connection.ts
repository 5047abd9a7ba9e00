/**
 * Opening an SQLite file for the adapters: an @effect/sql-sqlite-node client in WAL mode with
 * foreign keys on and the chosen `synchronous` level.
 *
 * Invariant: every failure to open (a bad path, a locked or corrupt file) is a StorageError, so
 * a layer built on it fails with a typed error instead of a defect.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Cause, Effect, Layer } from "effect"
import { StorageError } from "../../src/ports/errors.js"
import { query } from "./exec.js"

/** How an adapter opens its own SQLite file. */
export interface SqliteFileOptions {
  /** The database file (created when missing). */
  readonly filename: string
  /**
   * `PRAGMA synchronous`. `NORMAL` (CP default) is durable across process crashes in WAL mode
   * and may lose the last commits on power loss; `FULL` (outbound-queue default) syncs the WAL on
   * every commit.
   */
  readonly synchronous?: "NORMAL" | "FULL"
}

const asStorageError = (operation: string, cause: Cause.Cause<unknown>): StorageError => {
  const error = Cause.squash(cause)
  return error instanceof StorageError
    ? error
    : new StorageError({ operation, table: "", reason: "Sql", detail: error instanceof Error ? error.message : String(error) })
}

/** Sets the pragmas every adapter relies on (foreign keys are per connection in SQLite). */
export const configureConnection = (operation: string, synchronous: "NORMAL" | "FULL" | null) =>
  Effect.flatMap(SqlClient.SqlClient, (sql): Effect.Effect<void, StorageError> => {
    const foreignKeys = Effect.asVoid(query(sql, operation, "", "PRAGMA foreign_keys = ON"))
    return synchronous === null ? foreignKeys : Effect.zipRight(foreignKeys, Effect.asVoid(query(sql, operation, "", `PRAGMA synchronous = ${synchronous}`)))
  })

/** An SQLite client on `filename` (WAL, foreign keys on, `synchronous` as given). */
export const layerSqliteConnection = (
  options: SqliteFileOptions,
  defaultSynchronous: "NORMAL" | "FULL" = "NORMAL"
): Layer.Layer<SqlClient.SqlClient | SqliteClient.SqliteClient, StorageError> =>
  Layer.effectDiscard(configureConnection("layerSqliteConnection", options.synchronous ?? defaultSynchronous)).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename: options.filename })),
    Layer.catchAllCause((cause) => Layer.fail(asStorageError("layerSqliteConnection", cause)))
  )
