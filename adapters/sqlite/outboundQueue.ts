/**
 * The agent's OutboundQueue on its own SQLite file: one row per pending event, FIFO by an
 * autoincrement id, unique per (rollout_id, seq).
 *
 * Invariants: `enqueue` returns after the commit, and the file runs with `synchronous = FULL`
 * (the WAL is synced on every commit), so an acknowledged enqueue survives process death and
 * power loss; a row that does not decode makes `peek` fail with `Decode` until
 * `discardCorrupt` removes it (logging it), so one bad row never crashes the drainer.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Either, Layer, Schema } from "effect"
import type { RolloutId } from "../../src/domain/ids.js"
import type { StorageError } from "../../src/ports/errors.js"
import { OutboundQueue, type OutboundQueueService, type QueuedEvent } from "../../src/ports/outboundQueue.js"
import { layerSqliteConnection, type SqliteFileOptions } from "./connection.js"
import { insertRows, query, queryCount, rowDecoder, rowEncoder } from "./exec.js"
import { OutboundRow } from "./rows.js"
import { outboundSchemaV1, outboundTables } from "./schema.js"
import { checkPrefix, runMigrations, type SqliteStorageOptions } from "./storage.js"

const TABLE = "outbound_queue"

/** Builds the outbound queue on the client in context, migrating its table first. */
export const makeSqliteOutboundQueue = (options: SqliteStorageOptions = {}): Effect.Effect<OutboundQueueService, StorageError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const prefix = yield* checkPrefix("layerSqliteOutboundQueue", options.tablePrefix ?? "")
    const sql = yield* SqlClient.SqlClient
    const t = outboundTables(prefix)
    yield* runMigrations("layerSqliteOutboundQueue", t.migrations, { "1_schema": outboundSchemaV1(t) })
    const encode = rowEncoder(OutboundRow, TABLE)
    const decode = rowDecoder(OutboundRow, TABLE, ["id", "rollout_id", "seq"])
    const isValid = Schema.decodeUnknownEither(OutboundRow)

    return {
      enqueue: Effect.fn("OutboundQueue.enqueue")((entry: QueuedEvent) =>
        Effect.flatMap(encode("OutboundQueue.enqueue", [entry]), ([row]) =>
          insertRows(sql, "OutboundQueue.enqueue", TABLE, t.queue, [{ ...row, seq: entry.event.seq }], "ON CONFLICT (rollout_id, seq) DO NOTHING RETURNING id")
        ).pipe(Effect.map((n) => n > 0))
      ),
      peek: Effect.fn("OutboundQueue.peek")((limit: number) =>
        Effect.flatMap(
          query(sql, "OutboundQueue.peek", TABLE, `SELECT * FROM ${t.queue} ORDER BY id LIMIT ?`, [Math.max(0, limit)]),
          (rows) => decode("OutboundQueue.peek", rows)
        )
      ),
      ack: Effect.fn("OutboundQueue.ack")((rolloutId: RolloutId, seq: number) =>
        Effect.asVoid(query(sql, "OutboundQueue.ack", TABLE, `DELETE FROM ${t.queue} WHERE rollout_id = ? AND seq = ?`, [rolloutId, seq]))
      ),
      size: Effect.withSpan(queryCount(sql, "OutboundQueue.size", TABLE, `SELECT COUNT(*) AS value FROM ${t.queue}`), "OutboundQueue.size"),
      discardCorrupt: Effect.gen(function* () {
        const rows = yield* query(sql, "OutboundQueue.discardCorrupt", TABLE, `SELECT * FROM ${t.queue} ORDER BY id`)
        let discarded = 0
        for (const row of rows) {
          const result = isValid(row)
          if (Either.isRight(result)) continue
          yield* Effect.logWarning("discarding a corrupt outbound-queue entry").pipe(
            Effect.annotateLogs({ id: String(row.id), reason: result.left.message })
          )
          yield* query(sql, "OutboundQueue.discardCorrupt", TABLE, `DELETE FROM ${t.queue} WHERE id = ?`, [Number(row.id)])
          discarded += 1
        }
        return discarded
      }).pipe(Effect.withSpan("OutboundQueue.discardCorrupt"))
    }
  })

/** The outbound queue on the SqlClient in context (e.g. an agent application's own database). */
export const layerSqliteOutboundQueueClient = (options: SqliteStorageOptions = {}): Layer.Layer<OutboundQueue, StorageError, SqlClient.SqlClient> =>
  Layer.effect(OutboundQueue, makeSqliteOutboundQueue(options))

/** The agent's outbound queue on its own SQLite file (WAL, synchronous FULL by default). */
export const layerSqliteOutboundQueue = (options: SqliteFileOptions & SqliteStorageOptions): Layer.Layer<OutboundQueue, StorageError> =>
  layerSqliteOutboundQueueClient(options).pipe(Layer.provide(layerSqliteConnection(options, "FULL")))
