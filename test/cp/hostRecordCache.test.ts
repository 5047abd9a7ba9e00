/**
 * The reducer's host-record cache over in-memory storage: reads it can answer never reach
 * storage, writes always do, a rolled-back write is not served after `reset`, pruning forgets.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Ref } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { makeHostRecordCache } from "../../src/cp/hostRecordCache.js"
import { newPending } from "../../src/domain/hostState.js"
import type { ChannelId, ChannelRef, ClosureHash, HostId, RolloutId } from "../../src/domain/ids.js"
import { Storage, type StorageService } from "../../src/ports/storage.js"
import { T0 } from "../planner/builders.js"

const RID = "stable@r1" as RolloutId
const HOST = "h1" as HostId
const pending = newPending({
  rolloutId: RID,
  hostname: HOST,
  channel: "stable" as ChannelId,
  targetClosure: "/nix/store/target" as ClosureHash,
  dispatchedAt: T0,
  soakDueAt: T0
})

/** Storage with the rollout open, and a counter of the loads and upserts that reach it. */
const counted = Effect.gen(function* () {
  const storage = yield* Storage
  yield* storage.openRollout({ rolloutId: RID, channel: "stable" as ChannelId, targetRef: "r1" as ChannelRef, openedAt: T0 })
  const loads = yield* Ref.make(0)
  const upserts = yield* Ref.make(0)
  const wrapped: StorageService = {
    ...storage,
    loadHostRecord: (r, h) => Effect.zipRight(Ref.update(loads, (n) => n + 1), storage.loadHostRecord(r, h)),
    upsertHostRecord: (record) => Effect.zipRight(Ref.update(upserts, (n) => n + 1), storage.upsertHostRecord(record))
  }
  return { storage, wrapped, loads, upserts }
})

describe("host-record cache", () => {
  it.effect("a record it wrote or read once is served from memory; every write reaches storage", () =>
    Effect.gen(function* () {
      const { loads, storage, upserts, wrapped } = yield* counted
      const cache = makeHostRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(pending)
      expect(yield* Ref.get(loads)).toBe(0)
      const acked = { ...pending, state: "Activating" as const, lastEventSeq: 1 }
      yield* cache.storage.upsertHostRecord(acked)
      expect(yield* Ref.get(upserts)).toBe(2)
      expect(Option.getOrThrow(yield* storage.loadHostRecord(RID, HOST))).toEqual(acked)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(acked)
      // A cold cache reads storage once, then remembers.
      const cold = makeHostRecordCache(wrapped)
      yield* cold.storage.loadHostRecord(RID, HOST)
      yield* cold.storage.loadHostRecord(RID, HOST)
      expect(yield* Ref.get(loads)).toBe(1)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("after a rolled-back transaction and reset, a load returns the committed record, not the rolled-back write", () =>
    Effect.gen(function* () {
      const { wrapped } = yield* counted
      const cache = makeHostRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      const doomed = cache.storage.transaction(
        Effect.zipRight(cache.storage.upsertHostRecord({ ...pending, state: "Activating", lastEventSeq: 1 }), Effect.fail("boom"))
      )
      const exit = yield* Effect.exit(Effect.onExit(doomed, (e) => (Exit.isSuccess(e) ? Effect.void : cache.reset)))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(pending)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("pruning a finished rollout forgets its cached records", () =>
    Effect.gen(function* () {
      const { wrapped } = yield* counted
      const cache = makeHostRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      yield* cache.storage.recordRolloutTransition(RID, "Terminal", T0)
      expect(yield* cache.storage.pruneFinishedRollouts((T0 + 1) as typeof T0)).toBe(1)
      expect(Option.isNone(yield* cache.storage.loadHostRecord(RID, HOST))).toBe(true)
    }).pipe(Effect.provide(layerMemory))
  )
})
