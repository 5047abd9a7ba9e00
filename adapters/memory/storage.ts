/**
 * The memory Storage + EventLog layer: both services over one in-memory CP database, so
 * `Storage.transaction` spans EventLog calls as it does on SQLite.
 *
 * Invariant: each layer build is a fresh, empty database (state is never shared between builds).
 */
import { Context, Effect, Layer } from "effect"
import { EventLog } from "../../src/ports/eventLog.js"
import { Storage, type StorageService } from "../../src/ports/storage.js"
import { makeMemoryDb } from "./db.js"
import { makeMemoryEventLog } from "./eventLog.js"
import { makeHostRecordOps } from "./hostRecords.js"
import { makeQueueOps } from "./queues.js"
import { emptyCpState } from "./state.js"

/** Storage and EventLog in memory (Ref based), for tests and the simulator. */
export const layerMemory: Layer.Layer<Storage | EventLog> = Layer.effectContext(
  Effect.gen(function* () {
    const db = yield* makeMemoryDb(emptyCpState)
    const storage: StorageService = { transaction: db.transaction, ...makeHostRecordOps(db), ...makeQueueOps(db) }
    return Context.make(Storage, storage).pipe(Context.add(EventLog, makeMemoryEventLog(db)))
  })
)
