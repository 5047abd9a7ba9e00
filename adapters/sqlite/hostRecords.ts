/**
 * SQLite Storage, part 1: host rollout records and rollouts.
 *
 * Invariants: batch upserts are multi-row statements inside one transaction (savepoint when
 * nested); guarded UPDATEs (`state != to`, `current_wave < w`) make transitions and wave moves
 * idempotent; pruning is one DELETE whose foreign keys cascade to host records, dispatches and
 * probe failures.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Array as Arr, Effect } from "effect"
import type { HostRolloutState } from "../../src/domain/hostState.js"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import { newRolloutRecord } from "../../src/domain/rollout.js"
import type { StorageError } from "../../src/ports/errors.js"
import {
  ACTIVE_HOST_STATES,
  type HostRecordStore,
  PRUNABLE_ROLLOUT_STATES,
  type RolloutFilter,
  type RolloutStore
} from "../../src/ports/storage.js"
import { forEachChunk, inList, insertRows, type Param, placeholders, query, rowDecoder, rowEncoder } from "./exec.js"
import { HOST_RECORD_COLUMNS, HostRecordRow, hostRecordParams, RolloutRow } from "./rows.js"
import type { CpTables } from "./schema.js"

/** The Storage methods for host records and rollouts. */
export type HostRecordOps = HostRecordStore & RolloutStore

const HRR = "host_rollout_records"
const ROLLOUTS = "rollouts"

/** Builds the host-record and rollout methods over an SQL client. */
export const makeHostRecordOps = (sql: SqlClient.SqlClient, t: CpTables): HostRecordOps => {
  const decodeHost = rowDecoder(HostRecordRow, HRR, ["rollout_id", "hostname"])
  const decodeRollout = rowDecoder(RolloutRow, ROLLOUTS, ["rollout_id"])
  const encodeRollout = rowEncoder(RolloutRow, ROLLOUTS)

  const updates = HOST_RECORD_COLUMNS.filter((c) => c !== "rollout_id" && c !== "hostname")
    .map((c) => `${c} = excluded.${c}`)
    .join(", ")
  const upsertText = new Map<number, string>()
  const upsertSql = (rows: number) => {
    const cached = upsertText.get(rows)
    if (cached !== undefined) return cached
    const text = `INSERT INTO ${t.hostRecords} (${HOST_RECORD_COLUMNS.join(", ")}) VALUES ${placeholders(HOST_RECORD_COLUMNS.length, rows)}
      ON CONFLICT (rollout_id, hostname) DO UPDATE SET ${updates}`
    upsertText.set(rows, text)
    return text
  }
  const upsert = (operation: string, records: ReadonlyArray<HostRolloutState>): Effect.Effect<void, StorageError> =>
    forEachChunk(sql, operation, HRR, records, (chunk) => query(sql, operation, HRR, upsertSql(chunk.length), chunk.flatMap(hostRecordParams)))

  const selectHosts = (operation: string, where: string, params: ReadonlyArray<Param>, order: string) =>
    Effect.flatMap(query(sql, operation, HRR, `SELECT * FROM ${t.hostRecords} ${where} ORDER BY ${order}`, params), (rows) =>
      decodeHost(operation, rows)
    )
  const selectRollouts = (operation: string, where: string, params: ReadonlyArray<Param>) =>
    Effect.flatMap(
      query(sql, operation, ROLLOUTS, `SELECT * FROM ${t.rollouts} ${where} ORDER BY opened_at DESC, rollout_id`, params),
      (rows) => decodeRollout(operation, rows)
    )
  const changed = (operation: string, text: string, params: ReadonlyArray<Param>) =>
    Effect.map(query(sql, operation, ROLLOUTS, text, params), (rows) => rows.length)

  return {
    loadHostRecord: Effect.fn("Storage.loadHostRecord")((rolloutId: RolloutId, hostname: HostId) =>
      Effect.map(selectHosts("Storage.loadHostRecord", "WHERE rollout_id = ? AND hostname = ?", [rolloutId, hostname], "hostname"), Arr.head)
    ),
    upsertHostRecord: Effect.fn("Storage.upsertHostRecord")((record: HostRolloutState) => upsert("Storage.upsertHostRecord", [record])),
    upsertHostRecords: Effect.fn("Storage.upsertHostRecords")((records: ReadonlyArray<HostRolloutState>) =>
      upsert("Storage.upsertHostRecords", records)
    ),
    hostRecordsForRollout: Effect.fn("Storage.hostRecordsForRollout")((rolloutId: RolloutId) =>
      selectHosts("Storage.hostRecordsForRollout", "WHERE rollout_id = ?", [rolloutId], "hostname")
    ),
    hostRecordCounts: Effect.fn("Storage.hostRecordCounts")((rolloutId: RolloutId) =>
      Effect.map(
        query(
          sql,
          "Storage.hostRecordCounts",
          HRR,
          `SELECT COUNT(*) AS total, COUNT(CASE WHEN state = 'Converged' THEN 1 END) AS converged FROM ${t.hostRecords} WHERE rollout_id = ?`,
          [rolloutId]
        ),
        (rows) => ({ total: Number(rows[0]?.["total"] ?? 0), converged: Number(rows[0]?.["converged"] ?? 0) })
      )
    ),
    activeHostRecordsForHost: Effect.fn("Storage.activeHostRecordsForHost")((hostname: HostId) =>
      selectHosts(
        "Storage.activeHostRecordsForHost",
        `WHERE hostname = ? AND state IN (${inList(ACTIVE_HOST_STATES.length)})`,
        [hostname, ...ACTIVE_HOST_STATES],
        "rollout_id"
      )
    ),
    allHostRecords: Effect.withSpan(selectHosts("Storage.allHostRecords", "", [], "rollout_id, hostname"), "Storage.allHostRecords"),
    openRollout: Effect.fn("Storage.openRollout")((rollout) =>
      Effect.flatMap(encodeRollout("Storage.openRollout", [newRolloutRecord(rollout)]), (rows) =>
        insertRows(sql, "Storage.openRollout", ROLLOUTS, t.rollouts, rows, "ON CONFLICT (rollout_id) DO NOTHING RETURNING rollout_id")
      ).pipe(Effect.map((n) => n > 0))
    ),
    loadRollout: Effect.fn("Storage.loadRollout")((rolloutId: RolloutId) =>
      Effect.map(selectRollouts("Storage.loadRollout", "WHERE rollout_id = ?", [rolloutId]), Arr.head)
    ),
    listRollouts: Effect.fn("Storage.listRollouts")((filter: RolloutFilter = {}) => {
      const clauses: Array<string> = []
      const params: Array<Param> = []
      if (filter.channel !== undefined) {
        clauses.push("channel = ?")
        params.push(filter.channel)
      }
      if (filter.states !== undefined) {
        clauses.push(`state IN (${inList(filter.states.length)})`)
        params.push(...filter.states)
      }
      return selectRollouts("Storage.listRollouts", clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`, params)
    }),
    recordRolloutTransition: Effect.fn("Storage.recordRolloutTransition")((rolloutId, to, at) =>
      Effect.map(
        changed(
          "Storage.recordRolloutTransition",
          `UPDATE ${t.rollouts} SET state = ?,
             terminal_at = CASE WHEN ? = 'Terminal' THEN ? ELSE terminal_at END,
             superseded_at = CASE WHEN ? = 'Superseded' THEN ? ELSE superseded_at END
           WHERE rollout_id = ? AND state != ? RETURNING rollout_id`,
          [to, to, at, to, at, rolloutId, to]
        ),
        (n) => n > 0
      )
    ),
    setCurrentWave: Effect.fn("Storage.setCurrentWave")((rolloutId: RolloutId, wave: number) =>
      Effect.map(
        changed(
          "Storage.setCurrentWave",
          `UPDATE ${t.rollouts} SET current_wave = ? WHERE rollout_id = ? AND current_wave < ? RETURNING rollout_id`,
          [wave, rolloutId, wave]
        ),
        (n) => n > 0
      )
    ),
    pruneFinishedRollouts: Effect.fn("Storage.pruneFinishedRollouts")((cutoff) =>
      changed(
        "Storage.pruneFinishedRollouts",
        `DELETE FROM ${t.rollouts} WHERE state IN (${inList(PRUNABLE_ROLLOUT_STATES.length)})
           AND COALESCE(terminal_at, superseded_at, opened_at) < ? RETURNING rollout_id`,
        [...PRUNABLE_ROLLOUT_STATES, cutoff]
      )
    )
  }
}
