/**
 * Test helpers for the SQLite adapters: scoped temporary directories and layers on a fresh file.
 *
 * Invariant: every file lives in a temp directory removed when its scope closes.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import { layerSqlite, layerSqliteOutboundQueue } from "../../adapters/sqlite/index.js"

/** A temporary directory, removed with its scope. */
export const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "effect-fleet-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

/** Storage + EventLog on a fresh SQLite file. */
export const layerTempSqlite = (tablePrefix = "") =>
  Layer.unwrapScoped(Effect.map(tempDir, (dir) => layerSqlite({ filename: join(dir, "cp.db"), tablePrefix })))

/** The outbound queue on a fresh SQLite file. */
export const layerTempOutboundQueue = Layer.unwrapScoped(Effect.map(tempDir, (dir) => layerSqliteOutboundQueue({ filename: join(dir, "outbound.db") })))
