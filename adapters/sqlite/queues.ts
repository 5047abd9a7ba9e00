/**
 * SQLite Storage, part 2: the dispatch queue, quarantines, the probe-failure projection,
 * enrollment nonces and revocations.
 *
 * Invariants: `takeDispatchForHost` is one `DELETE … RETURNING` of the oldest row, so a dispatch
 * is handed out at most once; quarantines and nonces insert with `ON CONFLICT DO NOTHING` (never
 * `OR IGNORE`, which would also swallow CHECK and NOT NULL failures); probe failures insert in
 * one transaction.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Array as Arr, Effect } from "effect"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import {
  type DispatchEntry,
  type DispatchStore,
  type IdentityStore,
  type ProbeFailure,
  type ProbeFailureCounts,
  type ProbeFailureStore,
  type QuarantineStore,
  toQuarantineSet
} from "../../src/ports/storage.js"
import { forEachChunk, insertRows, type Param, query, type Row, rowDecoder, rowEncoder } from "./exec.js"
import { DispatchRow, ProbeFailureCountRow, ProbeFailureRow, QuarantineRow, RevocationRow, TokenNonceRow } from "./rows.js"
import type { CpTables } from "./schema.js"

/** The Storage methods of this module. */
export type QueueOps = DispatchStore & QuarantineStore & ProbeFailureStore & IdentityStore

/** Builds the queue, quarantine, probe-failure and identity methods over an SQL client. */
export const makeQueueOps = (sql: SqlClient.SqlClient, t: CpTables): QueueOps => {
  const dispatch = { decode: rowDecoder(DispatchRow, "dispatch_queue", ["hostname", "rollout_id"]), encode: rowEncoder(DispatchRow, "dispatch_queue") }
  const quarantine = {
    decode: rowDecoder(QuarantineRow, "quarantined_closures", ["channel", "closure_hash"]),
    encode: rowEncoder(QuarantineRow, "quarantined_closures")
  }
  const failure = { encode: rowEncoder(ProbeFailureRow, "probe_failures"), decodeCount: rowDecoder(ProbeFailureCountRow, "probe_failures", ["rollout_id", "host_id"]) }
  const nonce = rowEncoder(TokenNonceRow, "token_replay")
  const revocation = { decode: rowDecoder(RevocationRow, "cert_revocations", ["hostname"]), encode: rowEncoder(RevocationRow, "cert_revocations") }

  const insert = (operation: string, table: string, tableName: string, rows: ReadonlyArray<Row>, conflict: string) =>
    insertRows(sql, operation, table, tableName, rows, conflict)
  const dispatchesWhere = (operation: string, text: string, params: ReadonlyArray<Param>) =>
    Effect.flatMap(query(sql, operation, "dispatch_queue", text, params), (rows) => dispatch.decode(operation, rows))
  const oldestFirst = "ORDER BY enqueued_at, rollout_id"

  return {
    enqueueDispatch: Effect.fn("Storage.enqueueDispatch")((entry: DispatchEntry) =>
      Effect.flatMap(dispatch.encode("Storage.enqueueDispatch", [entry]), (rows) =>
        insert(
          "Storage.enqueueDispatch",
          "dispatch_queue",
          t.dispatchQueue,
          rows,
          `ON CONFLICT (hostname, rollout_id) DO UPDATE SET target_closure = excluded.target_closure,
             soak_due_at = excluded.soak_due_at, enqueued_at = excluded.enqueued_at`
        )
      ).pipe(Effect.asVoid)
    ),
    takeDispatchForHost: Effect.fn("Storage.takeDispatchForHost")((hostname: HostId) =>
      Effect.map(
        dispatchesWhere(
          "Storage.takeDispatchForHost",
          `DELETE FROM ${t.dispatchQueue} WHERE rowid =
             (SELECT rowid FROM ${t.dispatchQueue} WHERE hostname = ? ${oldestFirst} LIMIT 1) RETURNING *`,
          [hostname]
        ),
        Arr.head
      )
    ),
    dispatchesForHost: Effect.fn("Storage.dispatchesForHost")((hostname: HostId) =>
      dispatchesWhere("Storage.dispatchesForHost", `SELECT * FROM ${t.dispatchQueue} WHERE hostname = ? ${oldestFirst}`, [hostname])
    ),
    removeDispatch: Effect.fn("Storage.removeDispatch")((hostname: HostId, rolloutId: RolloutId) =>
      Effect.map(
        query(
          sql,
          "Storage.removeDispatch",
          "dispatch_queue",
          `DELETE FROM ${t.dispatchQueue} WHERE hostname = ? AND rollout_id = ? RETURNING hostname`,
          [hostname, rolloutId]
        ),
        (rows) => rows.length > 0
      )
    ),
    insertQuarantine: Effect.fn("Storage.insertQuarantine")((record) =>
      Effect.flatMap(quarantine.encode("Storage.insertQuarantine", [record]), (rows) =>
        insert("Storage.insertQuarantine", "quarantined_closures", t.quarantines, rows, "ON CONFLICT DO NOTHING RETURNING channel")
      ).pipe(Effect.map((n) => n > 0))
    ),
    listQuarantines: Effect.withSpan(
      Effect.flatMap(
        query(sql, "Storage.listQuarantines", "quarantined_closures", `SELECT * FROM ${t.quarantines} ORDER BY channel, closure_hash`),
        (rows) => quarantine.decode("Storage.listQuarantines", rows)
      ),
      "Storage.listQuarantines"
    ),
    loadQuarantines: Effect.withSpan(
      Effect.flatMap(query(sql, "Storage.loadQuarantines", "quarantined_closures", `SELECT * FROM ${t.quarantines}`), (rows) =>
        Effect.map(quarantine.decode("Storage.loadQuarantines", rows), toQuarantineSet)
      ),
      "Storage.loadQuarantines"
    ),
    insertProbeFailures: Effect.fn("Storage.insertProbeFailures")((failures: ReadonlyArray<ProbeFailure>) =>
      Effect.flatMap(failure.encode("Storage.insertProbeFailures", failures), (rows) =>
        forEachChunk(sql, "Storage.insertProbeFailures", "probe_failures", rows, (chunk) =>
          insert("Storage.insertProbeFailures", "probe_failures", t.probeFailures, chunk, "")
        )
      )
    ),
    probeFailureCounts: Effect.withSpan(
      Effect.flatMap(
        query(
          sql,
          "Storage.probeFailureCounts",
          "probe_failures",
          `SELECT rollout_id, host_id, COUNT(DISTINCT COALESCE(control_id, probe_name)) AS count
             FROM ${t.probeFailures} GROUP BY rollout_id, host_id`
        ),
        (rows) =>
          Effect.map(failure.decodeCount("Storage.probeFailureCounts", rows), (counts): ProbeFailureCounts => {
            const out = new Map<RolloutId, Map<HostId, number>>()
            for (const c of counts) out.set(c.rolloutId, (out.get(c.rolloutId) ?? new Map<HostId, number>()).set(c.hostname, c.count))
            return out
          })
      ),
      "Storage.probeFailureCounts"
    ),
    recordTokenNonce: Effect.fn("Storage.recordTokenNonce")((record) =>
      Effect.flatMap(nonce("Storage.recordTokenNonce", [record]), (rows) =>
        insert("Storage.recordTokenNonce", "token_replay", t.tokenReplay, rows, "ON CONFLICT DO NOTHING RETURNING nonce")
      ).pipe(Effect.map((n) => n > 0))
    ),
    pruneTokenNonces: Effect.fn("Storage.pruneTokenNonces")((cutoff) =>
      Effect.map(
        query(sql, "Storage.pruneTokenNonces", "token_replay", `DELETE FROM ${t.tokenReplay} WHERE first_seen < ? RETURNING nonce`, [cutoff]),
        (rows) => rows.length
      )
    ),
    upsertRevocation: Effect.fn("Storage.upsertRevocation")((record) =>
      Effect.flatMap(revocation.encode("Storage.upsertRevocation", [record]), (rows) =>
        insert(
          "Storage.upsertRevocation",
          "cert_revocations",
          t.revocations,
          rows,
          `ON CONFLICT (hostname) DO UPDATE SET not_before = excluded.not_before, reason = excluded.reason,
             revoked_at = excluded.revoked_at, revoked_by = excluded.revoked_by`
        )
      ).pipe(Effect.asVoid)
    ),
    loadRevocation: Effect.fn("Storage.loadRevocation")((hostname: HostId) =>
      Effect.flatMap(
        query(sql, "Storage.loadRevocation", "cert_revocations", `SELECT * FROM ${t.revocations} WHERE hostname = ?`, [hostname]),
        (rows) => Effect.map(revocation.decode("Storage.loadRevocation", rows), Arr.head)
      )
    )
  }
}
