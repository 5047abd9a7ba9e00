/**
 * The SQLite Storage + EventLog layers: self-migrating, on a client the layer opens itself
 * (`layerSqlite`) or on a host application's client (`layerSqliteClient`), with every table
 * behind `tablePrefix`.
 *
 * Invariants: the schema is migrated before any service is handed out; `Storage.transaction`
 * is the client's transaction, so it spans EventLog calls too; migrations are recorded in
 * `<prefix>effect_fleet_migrations`, never in a host application's own migrations table.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer } from "effect"
import { StorageError } from "../../src/ports/errors.js"
import { EventLog } from "../../src/ports/eventLog.js"
import { Storage, type StorageService } from "../../src/ports/storage.js"
import { configureConnection, layerSqliteConnection, type SqliteFileOptions } from "./connection.js"
import { makeSqliteEventLog } from "./eventLog.js"
import { catchSql } from "./exec.js"
import { makeHostRecordOps } from "./hostRecords.js"
import { makeQueueOps } from "./queues.js"
import { cpSchemaV1, cpTables, isValidPrefix, migrate } from "./schema.js"

/** Options shared by the SQLite layers. */
export interface SqliteStorageOptions {
  /** Prepended to every table and index name (letters, digits, `_`); default `""`. */
  readonly tablePrefix?: string
}

/** Checks a table prefix, failing with `Config` when it is not an SQL identifier fragment. */
export const checkPrefix = (operation: string, prefix: string): Effect.Effect<string, StorageError> =>
  isValidPrefix(prefix)
    ? Effect.succeed(prefix)
    : Effect.fail(new StorageError({ operation, table: "", reason: "Config", detail: `invalid table prefix ${JSON.stringify(prefix)}` }))

/** Runs migrations, mapping their failures to `Migration`. */
export const runMigrations = (operation: string, table: string, migrations: Record<string, ReadonlyArray<string>>) =>
  migrate(table, migrations).pipe(
    Effect.mapError((error) => new StorageError({ operation, table, reason: "Migration", detail: error.message })),
    Effect.asVoid
  )

/** Builds Storage and EventLog on the client in context, migrating the schema first. */
export const makeSqliteStore = (options: SqliteStorageOptions = {}) =>
  Effect.gen(function* () {
    const prefix = yield* checkPrefix("layerSqlite", options.tablePrefix ?? "")
    const sql = yield* SqlClient.SqlClient
    yield* configureConnection("layerSqlite", null)
    const tables = cpTables(prefix)
    yield* runMigrations("layerSqlite", tables.migrations, { "1_schema": cpSchemaV1(tables) })
    const storage: StorageService = {
      transaction: (effect) => catchSql("Storage.transaction", "")(sql.withTransaction(effect)),
      ...makeHostRecordOps(sql, tables),
      ...makeQueueOps(sql, tables)
    }
    return { storage, eventLog: makeSqliteEventLog(sql, tables) }
  })

/**
 * Storage and EventLog on the SqlClient in context, e.g. a host application's database (its
 * connection gets `PRAGMA foreign_keys = ON`; its journal mode is left as configured).
 */
export const layerSqliteClient = (options: SqliteStorageOptions = {}): Layer.Layer<Storage | EventLog, StorageError, SqlClient.SqlClient> =>
  Layer.effectContext(
    Effect.map(makeSqliteStore(options), ({ eventLog, storage }) => Context.make(Storage, storage).pipe(Context.add(EventLog, eventLog)))
  )

/** Storage and EventLog on their own SQLite file (WAL, foreign keys on, synchronous NORMAL by default). */
export const layerSqlite = (options: SqliteFileOptions & SqliteStorageOptions): Layer.Layer<Storage | EventLog, StorageError> =>
  layerSqliteClient(options).pipe(Layer.provide(layerSqliteConnection(options, "NORMAL")))
