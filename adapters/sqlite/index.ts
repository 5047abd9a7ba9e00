/**
 * `effect-fleet/sqlite`: the storage ports on SQLite (@effect/sql-sqlite-node).
 *
 * - `layerSqlite({ filename, tablePrefix?, synchronous? })`: Storage + EventLog on their own file.
 * - `layerSqliteClient({ tablePrefix? })`: the same on a host application's SqlClient.
 * - `layerSqliteOutboundQueue({ filename })`: the agent's durable OutboundQueue on its own file.
 * - `layerSqliteConnection({ filename })`: the configured client itself (WAL, foreign keys on).
 *
 * Storage format: STRICT tables; timestamps are INTEGER epoch milliseconds (UTC); enum columns
 * hold the domain's PascalCase / kebab-case strings under CHECK constraints; JSON columns hold
 * the domain's encoded JSON (camelCase keys, RFC 3339 timestamps).
 *
 * Invariant: each layer migrates its schema before handing out a service.
 */
export { layerSqliteConnection, type SqliteFileOptions } from "./connection.js"
export { layerSqliteOutboundQueue, layerSqliteOutboundQueueClient, makeSqliteOutboundQueue } from "./outboundQueue.js"
export { cpSchemaV1, cpTables, type CpTables, outboundSchemaV1, outboundTables, type OutboundTables } from "./schema.js"
export { layerSqlite, layerSqliteClient, makeSqliteStore, type SqliteStorageOptions } from "./storage.js"
