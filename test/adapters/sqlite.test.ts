/**
 * The SQLite adapters: every storage port's conformance suite (also under a table prefix), plus
 * what only SQLite has: WAL, foreign keys, CHECK constraints, migrations, prefixes and bad rows
 * that must surface as typed errors.
 */
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { layerSqliteClient, layerSqliteConnection, layerSqliteOutboundQueueClient } from "../../adapters/sqlite/index.js"
import { HOST_STATES, ROLLOUT_STATES } from "../../src/domain/index.js"
import type { StorageError } from "../../src/ports/errors.js"
import { EventLog } from "../../src/ports/eventLog.js"
import { OutboundQueue } from "../../src/ports/outboundQueue.js"
import { Storage } from "../../src/ports/storage.js"
import { eventLogConformance } from "../ports/eventLogConformance.js"
import { agentEntry, freshHost, freshRollout, openRollout, pending, queued } from "../ports/fixtures.js"
import { outboundQueueConformance } from "../ports/outboundQueueConformance.js"
import { storageConformance } from "../ports/storageConformance.js"
import { layerTempOutboundQueue, layerTempSqlite, tempDir } from "./sqliteSupport.js"

storageConformance("sqlite", layerTempSqlite())
storageConformance("sqlite, prefixed", layerTempSqlite("fleet_"))
eventLogConformance("sqlite", layerTempSqlite())
outboundQueueConformance("sqlite", layerTempOutboundQueue)

/** Storage + EventLog + the raw client on one fresh file, for poking at rows directly. */
const layerWithClient = (tablePrefix = "") =>
  Layer.unwrapScoped(
    Effect.map(tempDir, (dir) => layerSqliteClient({ tablePrefix }).pipe(Layer.provideMerge(layerSqliteConnection({ filename: join(dir, "cp.db") }))))
  )

it.layer(layerWithClient())("sqlite specifics", (it) => {
  it.effect("the database runs in WAL mode with foreign keys on and synchronous NORMAL", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql.unsafe("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }])
      expect(yield* sql.unsafe("PRAGMA foreign_keys")).toEqual([{ foreign_keys: 1 }])
      expect(yield* sql.unsafe("PRAGMA synchronous")).toEqual([{ synchronous: 1 }])
    })
  )

  it.effect("CHECK constraints accept exactly the 7 host states (Deferred included) and the 8 rollout states", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const sql = yield* SqlClient.SqlClient
      const rolloutId = yield* openRollout()
      for (const state of HOST_STATES) {
        const record = { ...pending(rolloutId), state }
        yield* storage.upsertHostRecord(record)
        expect(Option.map(yield* storage.loadHostRecord(rolloutId, record.hostname), (r) => r.state)).toEqual(Option.some(state))
      }
      for (const state of ROLLOUT_STATES) {
        const id = freshRollout()
        yield* sql.unsafe("INSERT INTO rollouts (rollout_id, channel, target_ref, state, opened_at) VALUES (?, 'c', 'r', ?, 0)", [id, state])
      }
      const badHost = yield* Effect.flip(sql.unsafe("UPDATE host_rollout_records SET state = 'Exploded' WHERE rollout_id = ?", [rolloutId]))
      expect(String(badHost.cause)).toMatch(/CHECK constraint failed/)
      const badRollout = yield* Effect.flip(
        sql.unsafe("INSERT INTO rollouts (rollout_id, channel, target_ref, state, opened_at) VALUES (?, 'c', 'r', 'Paused', 0)", [freshRollout()])
      )
      expect(String(badRollout.cause)).toMatch(/CHECK constraint failed/)
    })
  )

  it.effect("bad data: an unknown host state in a row is a typed Decode error naming table and key", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const sql = yield* SqlClient.SqlClient
      const rolloutId = yield* openRollout()
      const record = pending(rolloutId)
      yield* storage.upsertHostRecord(record)
      yield* sql.unsafe("PRAGMA ignore_check_constraints = ON")
      yield* sql.unsafe("UPDATE host_rollout_records SET state = 'Exploded' WHERE rollout_id = ?", [rolloutId])
      yield* sql.unsafe("PRAGMA ignore_check_constraints = OFF")
      const reads: ReadonlyArray<Effect.Effect<unknown, StorageError>> = [
        storage.loadHostRecord(rolloutId, record.hostname),
        storage.hostRecordsForRollout(rolloutId),
        storage.allHostRecords
      ]
      for (const read of reads) {
        const error = yield* Effect.flip(read)
        expect(error._tag).toBe("StorageError")
        expect(error.reason).toBe("Decode")
        expect(error.table).toBe("host_rollout_records")
        expect(error.detail).toContain(record.hostname)
        expect(error.detail).toContain("Exploded")
      }
      yield* sql.unsafe("DELETE FROM host_rollout_records WHERE rollout_id = ?", [rolloutId])
    })
  )

  it.effect("bad data: corrupt probes JSON, an unknown rollout state and a non-JSON payload are typed errors", () =>
    Effect.gen(function* () {
      const storage = yield* Storage
      const log = yield* EventLog
      const sql = yield* SqlClient.SqlClient
      const rolloutId = yield* openRollout()
      const record = pending(rolloutId)
      yield* storage.upsertHostRecord(record)
      yield* sql.unsafe(`UPDATE host_rollout_records SET probes_json = '{"http": {"status": "maybe"}}' WHERE rollout_id = ?`, [rolloutId])
      const probes = yield* Effect.flip(storage.loadHostRecord(rolloutId, record.hostname))
      expect([probes.reason, probes.table]).toEqual(["Decode", "host_rollout_records"])

      yield* sql.unsafe("PRAGMA ignore_check_constraints = ON")
      yield* sql.unsafe("UPDATE rollouts SET state = 'Paused' WHERE rollout_id = ?", [rolloutId])
      yield* log.append(agentEntry(freshHost(), rolloutId, 1))
      yield* sql.unsafe("UPDATE event_log SET payload = '{not json' WHERE rollout_id = ?", [rolloutId])
      yield* sql.unsafe("PRAGMA ignore_check_constraints = OFF")
      const rollout = yield* Effect.flip(storage.loadRollout(rolloutId))
      expect([rollout.reason, rollout.table]).toEqual(["Decode", "rollouts"])
      expect(rollout.detail).toContain(rolloutId)
      const payload = yield* Effect.flip(log.byRollout(rolloutId))
      expect([payload.reason, payload.table]).toEqual(["Decode", "event_log"])

      yield* sql.unsafe("DELETE FROM rollouts WHERE rollout_id = ?", [rolloutId])
    })
  )

  it.effect("the store's tables live under the prefix, beside a host application's own tables", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe("CREATE TABLE app_users (id INTEGER PRIMARY KEY, rollouts TEXT)")
      const prefixed = yield* Effect.scoped(
        Layer.build(layerSqliteClient({ tablePrefix: "fleet_" })).pipe(
          Effect.flatMap((ctx) =>
            Effect.gen(function* () {
              const storage = yield* Storage
              const rolloutId = yield* openRollout()
              return [rolloutId, Option.isSome(yield* storage.loadRollout(rolloutId))] as const
            }).pipe(Effect.provide(ctx))
          )
        )
      )
      expect(prefixed[1]).toBe(true)
      // The unprefixed store on the same database does not see the prefixed rollout.
      const storage = yield* Storage
      expect(yield* storage.loadRollout(prefixed[0])).toEqual(Option.none())
      const tables = (yield* sql.unsafe<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name)
      expect(tables).toEqual(expect.arrayContaining(["app_users", "fleet_rollouts", "fleet_host_rollout_records", "fleet_event_log", "rollouts"]))
      expect(tables).not.toContain("effect_sql_migrations")
    })
  )

  it.effect("an invalid table prefix fails the layer with Config", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(layerSqliteClient({ tablePrefix: "x; DROP TABLE rollouts; --" }))))
      expect([error._tag, error.reason]).toEqual(["StorageError", "Config"])
    })
  )

  it.effect("bad data: a corrupt outbound-queue row fails peek with Decode until discardCorrupt removes it", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* Effect.scoped(
        Effect.gen(function* () {
          const queue = yield* OutboundQueue
          const rolloutId = freshRollout()
          yield* queue.enqueue(queued(rolloutId, 1))
          yield* queue.enqueue(queued(rolloutId, 2))
          yield* sql.unsafe(`UPDATE outbound_queue SET event = '{"kind": "Teleported", "seq": 1}' WHERE seq = 1`)
          const error = yield* Effect.flip(queue.peek(10))
          expect([error.reason, error.table]).toEqual(["Decode", "outbound_queue"])
          expect(yield* queue.discardCorrupt).toBe(1)
          expect((yield* queue.peek(10)).map((e) => e.event.seq)).toEqual([2])
        }).pipe(Effect.provide(layerSqliteOutboundQueueClient()))
      )
    })
  )
})

it.effect("reopening a database keeps its data and does not migrate twice", () =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const layer = layerSqliteClient().pipe(Layer.provideMerge(layerSqliteConnection({ filename: join(dir, "cp.db") })))
    const rolloutId = yield* openRollout().pipe(Effect.provide(layer))
    const [reopened, migrations] = yield* Effect.gen(function* () {
      const storage = yield* Storage
      const sql = yield* SqlClient.SqlClient
      return [yield* storage.loadRollout(rolloutId), yield* sql.unsafe("SELECT migration_id FROM effect_fleet_migrations")] as const
    }).pipe(Effect.provide(layer))
    expect(Option.isSome(reopened)).toBe(true)
    expect(migrations).toEqual([{ migration_id: 1 }])
  }).pipe(Effect.scoped)
)

it.effect("a database that cannot be opened fails the layer with a typed StorageError", () =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(
      Effect.scoped(Layer.build(layerSqliteClient().pipe(Layer.provide(layerSqliteConnection({ filename: "/nonexistent-dir/x/cp.db" })))))
    )
    expect([error._tag, error.reason]).toEqual(["StorageError", "Sql"])
  })
)
