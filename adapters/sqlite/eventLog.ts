/**
 * SQLite EventLog: the audit log table, appended in multi-row statements inside one transaction.
 *
 * Invariants: an agent event is written at most once (partial unique index on (host_id,
 * rollout_id, agent_seq) for kind agent_event, `ON CONFLICT DO NOTHING`); the seqs returned for a
 * batch are the seqs its rows got, in input order (rows of one batch get ascending seqs); a
 * payload that is not JSON fails the whole batch with `Encode` before anything is written.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Either, Option } from "effect"
import { StorageError } from "../../src/ports/errors.js"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import {
  agentEventKey,
  agentKeyString,
  type EventLogEntry,
  type EventLogKind,
  type EventLogQuery,
  type EventLogService
} from "../../src/ports/eventLog.js"
import { forEachChunk, type Param, placeholders, query, queryCount, type Row, rowDecoder } from "./exec.js"
import { EVENT_LOG_COLUMNS, EventLogRow, eventLogParams } from "./rows.js"
import type { CpTables } from "./schema.js"

const TABLE = "event_log"

/** The dedup key of a returned row (only meaningful for agent_event rows). */
const returnedKey = (row: Row): string | null =>
  row.kind === "agent_event" && row.host_id !== null && row.rollout_id !== null && row.agent_seq !== null
    ? agentKeyString({ hostname: String(row.host_id) as HostId, rolloutId: String(row.rollout_id) as RolloutId, seq: Number(row.agent_seq) })
    : null

/** Builds the EventLog service over an SQL client. */
export const makeSqliteEventLog = (sql: SqlClient.SqlClient, t: CpTables): EventLogService => {
  const decode = rowDecoder(EventLogRow, TABLE, ["seq"])
  const insertText = (rows: number) =>
    `INSERT INTO ${t.eventLog} (${EVENT_LOG_COLUMNS.join(", ")}) VALUES ${placeholders(EVENT_LOG_COLUMNS.length, rows)}
       ON CONFLICT DO NOTHING RETURNING seq, kind, host_id, rollout_id, agent_seq`

  const appendBatch = (operation: string, entries: ReadonlyArray<EventLogEntry>) =>
    Effect.gen(function* () {
      // Later duplicates of a key within the batch are skipped here; earlier stored ones by SQL.
      const keys = entries.map(agentEventKey)
      const seen = new Set<string>()
      const sent: Array<number> = []
      keys.forEach((key, index) => {
        if (key !== null && seen.has(key)) return
        if (key !== null) seen.add(key)
        sent.push(index)
      })
      const rows: Array<ReadonlyArray<Param>> = []
      for (const index of sent) {
        const params = eventLogParams(entries[index] as EventLogEntry)
        if (Either.isLeft(params)) {
          return yield* new StorageError({ operation, table: TABLE, reason: "Encode", detail: `entry ${index}: ${params.left}` })
        }
        rows.push(params.right)
      }
      const returned: Array<Row> = []
      yield* forEachChunk(sql, operation, TABLE, rows, (chunk) =>
        Effect.map(query(sql, operation, TABLE, insertText(chunk.length), chunk.flat()), (out) => returned.push(...out))
      )
      const insertedKeys = new Set(returned.map(returnedKey))
      const seqs = returned.map((r) => Number(r.seq)).sort((a, b) => a - b)
      let next = 0
      const results: Array<Option.Option<number>> = entries.map(() => Option.none())
      for (const index of sent) {
        const key = keys[index] ?? null
        if (key !== null && !insertedKeys.has(key)) continue
        results[index] = Option.fromNullable(seqs[next++])
      }
      return results
    })

  const select = (operation: string, where: string, params: ReadonlyArray<Param>, q: EventLogQuery = {}) =>
    Effect.flatMap(
      query(sql, operation, TABLE, `SELECT * FROM ${t.eventLog} WHERE ${where} AND seq > ? ORDER BY seq LIMIT ?`, [
        ...params,
        q.afterSeq ?? 0,
        q.limit === undefined ? -1 : Math.max(0, q.limit)
      ]),
      (rows) => decode(operation, rows)
    )

  return {
    append: Effect.fn("EventLog.append")((entry: EventLogEntry) =>
      Effect.map(appendBatch("EventLog.append", [entry]), (results) => Option.flatten(Option.fromNullable(results[0])))
    ),
    appendBatch: Effect.fn("EventLog.appendBatch")((entries: ReadonlyArray<EventLogEntry>) => appendBatch("EventLog.appendBatch", entries)),
    byRollout: Effect.fn("EventLog.byRollout")((rolloutId: RolloutId, q?: EventLogQuery) =>
      select("EventLog.byRollout", "rollout_id = ?", [rolloutId], q)
    ),
    byHost: Effect.fn("EventLog.byHost")((hostname: HostId, q?: EventLogQuery) => select("EventLog.byHost", "host_id = ?", [hostname], q)),
    byKind: Effect.fn("EventLog.byKind")((kind: EventLogKind, q?: EventLogQuery) => select("EventLog.byKind", "kind = ?", [kind], q)),
    hasAgentEvent: Effect.fn("EventLog.hasAgentEvent")((key) =>
      Effect.map(
        query(
          sql,
          "EventLog.hasAgentEvent",
          TABLE,
          `SELECT 1 AS found FROM ${t.eventLog} WHERE kind = 'agent_event' AND host_id = ? AND rollout_id = ? AND agent_seq = ? LIMIT 1`,
          [key.hostname, key.rolloutId, key.seq]
        ),
        (rows) => rows.length > 0
      )
    ),
    lastSeq: Effect.withSpan(
      queryCount(sql, "EventLog.lastSeq", TABLE, `SELECT COALESCE(MAX(seq), 0) AS value FROM ${t.eventLog}`),
      "EventLog.lastSeq"
    )
  }
}
