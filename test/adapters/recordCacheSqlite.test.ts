/**
 * The reducer's record cache (src/cp/recordCache.ts) holding host-record writes back inside a
 * transaction, over the real SQLite adapter: a transaction's writes reach SQLite as one multi-row
 * upsert, every SQL read and cascade in the same transaction sees them, a host written twice is
 * one row with its last value, and a transaction that does not commit writes nothing (nor does a
 * failed nested one lose its parent's writes). Once it has read every record, it answers host-record
 * reads from memory exactly as SQLite would (same records, same order) until a prune.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Ref } from "effect"
import { makeRecordCache } from "../../src/cp/recordCache.js"
import { newPending } from "../../src/domain/hostState.js"
import type { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "../../src/domain/ids.js"
import { Storage, type StorageService } from "../../src/ports/storage.js"
import { T0 } from "../planner/builders.js"
import { layerTempSqlite } from "./sqliteSupport.js"

const RID = "stable@r1" as RolloutId
const record = (host: string, lastEventSeq = 0) => ({
  ...newPending({
    rolloutId: RID,
    hostname: host as HostId,
    channel: "stable" as ChannelId,
    targetClosure: "/nix/store/target" as ClosureHash,
    dispatchedAt: T0,
    soakDueAt: T0
  }),
  lastEventSeq
})

/** SQLite storage with the rollout open, counting the single and batch upserts that reach it. */
const counted = Effect.gen(function* () {
  const storage = yield* Storage
  yield* storage.openRollout({ rolloutId: RID, channel: "stable" as ChannelId, targetRef: "r1" as ChannelRef, openedAt: T0 })
  const single = yield* Ref.make(0)
  const batches = yield* Ref.make<ReadonlyArray<number>>([])
  const wrapped: StorageService = {
    ...storage,
    upsertHostRecord: (r) => Effect.zipRight(Ref.update(single, (n) => n + 1), storage.upsertHostRecord(r)),
    upsertHostRecords: (rs) => Effect.zipRight(Ref.update(batches, (b) => [...b, rs.length]), storage.upsertHostRecords(rs))
  }
  return { storage, cache: makeRecordCache(wrapped), single, batches }
})

const seqOf = (storage: StorageService, host: string) =>
  Effect.map(storage.loadHostRecord(RID, host as HostId), (r) => Option.map(r, (x) => x.lastEventSeq))

describe("record cache write-behind over SQLite", () => {
  it.effect("a transaction's writes reach SQLite as one multi-row upsert, at the latest at commit; SQL reads inside see them", () =>
    Effect.gen(function* () {
      const { batches, cache, single, storage } = yield* counted
      const seen = yield* cache.storage.transaction(
        Effect.gen(function* () {
          for (const host of ["h1", "h2", "h3"]) yield* cache.storage.upsertHostRecord(record(host, 1))
          // A host written twice in the transaction: one row, its last value.
          yield* cache.storage.upsertHostRecord(record("h2", 2))
          expect(yield* Ref.get(batches)).toEqual([])
          // An SQL read first writes what is pending.
          return (yield* cache.storage.hostRecordsForRollout(RID)).map((r) => [r.hostname, r.lastEventSeq])
        })
      )
      expect(seen).toEqual([["h1", 1], ["h2", 2], ["h3", 1]])
      expect(yield* Ref.get(batches)).toEqual([3])
      yield* cache.storage.transaction(Effect.forEach(["h1", "h2"], (h) => cache.storage.upsertHostRecord(record(h, 5))))
      expect(yield* Ref.get(batches)).toEqual([3, 2])
      expect(yield* Ref.get(single)).toBe(0)
      expect(yield* seqOf(storage, "h1")).toEqual(Option.some(5))
      expect(yield* seqOf(storage, "h3")).toEqual(Option.some(1))
      // Outside a transaction a write goes straight through.
      yield* cache.storage.upsertHostRecord(record("h4", 1))
      expect(yield* Ref.get(single)).toBe(1)
    }).pipe(Effect.provide(layerTempSqlite()))
  )

  it.effect("pending writes go out before a cascade: pruning a finished rollout in the same transaction deletes them", () =>
    Effect.gen(function* () {
      const { cache, storage } = yield* counted
      const pruned = yield* cache.storage.transaction(
        Effect.gen(function* () {
          yield* cache.storage.upsertHostRecord(record("h1", 1))
          yield* cache.storage.recordRolloutTransition(RID, "Terminal", T0)
          return yield* cache.storage.pruneFinishedRollouts((T0 + 1) as typeof T0)
        })
      )
      expect(pruned).toBe(1)
      expect(yield* storage.allHostRecords).toEqual([])
    }).pipe(Effect.provide(layerTempSqlite()))
  )

  it.effect("a transaction that does not commit writes nothing, now or later; a failed nested one keeps its parent's writes", () =>
    Effect.gen(function* () {
      const { cache, storage } = yield* counted
      const doomed = cache.storage.transaction(Effect.zipRight(cache.storage.upsertHostRecord(record("h1", 1)), Effect.fail("boom")))
      expect(Exit.isFailure(yield* Effect.exit(Effect.onExit(doomed, (e) => (Exit.isSuccess(e) ? Effect.void : cache.reset))))).toBe(true)
      yield* cache.storage.upsertHostRecord(record("h2", 1))
      expect(yield* seqOf(storage, "h1")).toEqual(Option.none())

      yield* cache.storage.transaction(
        Effect.gen(function* () {
          yield* cache.storage.upsertHostRecord(record("h3", 1))
          const inner = cache.storage.transaction(Effect.zipRight(cache.storage.upsertHostRecord(record("h4", 1)), Effect.fail("inner")))
          expect(Exit.isFailure(yield* Effect.exit(inner))).toBe(true)
        })
      )
      expect(yield* seqOf(storage, "h3")).toEqual(Option.some(1))
      expect(yield* seqOf(storage, "h4")).toEqual(Option.none())
    }).pipe(Effect.provide(layerTempSqlite()))
  )

  it.effect("after one allHostRecords read, host-record reads are answered from memory, equal to SQLite's, until a prune", () =>
    Effect.gen(function* () {
      const { storage } = yield* counted
      const other = "canary@r2" as RolloutId
      yield* storage.openRollout({ rolloutId: other, channel: "canary" as ChannelId, targetRef: "r2" as ChannelRef, openedAt: T0 })
      yield* storage.upsertHostRecords([record("h2", 1), record("h1", 1), { ...record("h1", 3), rolloutId: other }, { ...record("h3", 1), state: "Converged" }])
      const reads = yield* Ref.make(0)
      const countReads = <A, E>(effect: Effect.Effect<A, E>) => Effect.zipRight(Ref.update(reads, (n) => n + 1), effect)
      const watched = makeRecordCache({
        ...storage,
        allHostRecords: countReads(storage.allHostRecords),
        hostRecordsForRollout: (r) => countReads(storage.hostRecordsForRollout(r)),
        activeHostRecordsForHost: (h) => countReads(storage.activeHostRecordsForHost(h)),
        loadHostRecord: (r, h) => countReads(storage.loadHostRecord(r, h))
      })
      expect(yield* watched.storage.allHostRecords).toEqual(yield* storage.allHostRecords)
      yield* watched.storage.transaction(watched.storage.upsertHostRecord(record("h2", 7)))
      const answers = Effect.all([
        watched.storage.allHostRecords,
        watched.storage.hostRecordsForRollout(RID),
        watched.storage.activeHostRecordsForHost("h1" as HostId),
        watched.storage.activeHostRecordsForHost("h3" as HostId),
        watched.storage.loadHostRecord(other, "h2" as HostId)
      ])
      const fromMemory = yield* answers
      expect(yield* Ref.get(reads)).toBe(1)
      const fromSqlite = yield* Effect.all([
        storage.allHostRecords,
        storage.hostRecordsForRollout(RID),
        storage.activeHostRecordsForHost("h1" as HostId),
        storage.activeHostRecordsForHost("h3" as HostId),
        storage.loadHostRecord(other, "h2" as HostId)
      ])
      expect(fromMemory).toEqual(fromSqlite)
      expect(fromMemory[2].map((r) => r.rolloutId)).toEqual([other, RID])
      // A prune may delete records: reads go back to SQLite.
      yield* watched.storage.pruneFinishedRollouts(T0)
      yield* watched.storage.hostRecordsForRollout(RID)
      expect(yield* Ref.get(reads)).toBe(2)
    }).pipe(Effect.provide(layerTempSqlite()))
  )
})
