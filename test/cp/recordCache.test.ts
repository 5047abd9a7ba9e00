/**
 * The reducer's record cache over in-memory storage: reads it can answer never reach storage,
 * writes always do, a rollout is re-read after any change to it, a rolled-back write is not
 * served after `reset`, pruning forgets.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Ref } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { makeRecordCache } from "../../src/cp/recordCache.js"
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
  const rolloutLoads = yield* Ref.make(0)
  const wrapped: StorageService = {
    ...storage,
    loadRollout: (r) => Effect.zipRight(Ref.update(rolloutLoads, (n) => n + 1), storage.loadRollout(r)),
    loadHostRecord: (r, h) => Effect.zipRight(Ref.update(loads, (n) => n + 1), storage.loadHostRecord(r, h)),
    upsertHostRecord: (record) => Effect.zipRight(Ref.update(upserts, (n) => n + 1), storage.upsertHostRecord(record))
  }
  return { storage, wrapped, loads, upserts, rolloutLoads }
})

describe("record cache", () => {
  it.effect("a record it wrote or read once is served from memory; every write reaches storage", () =>
    Effect.gen(function* () {
      const { loads, storage, upserts, wrapped } = yield* counted
      const cache = makeRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(pending)
      expect(yield* Ref.get(loads)).toBe(0)
      const acked = { ...pending, state: "Activating" as const, lastEventSeq: 1 }
      yield* cache.storage.upsertHostRecord(acked)
      expect(yield* Ref.get(upserts)).toBe(2)
      expect(Option.getOrThrow(yield* storage.loadHostRecord(RID, HOST))).toEqual(acked)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(acked)
      // A cold cache reads storage once, then remembers.
      const cold = makeRecordCache(wrapped)
      yield* cold.storage.loadHostRecord(RID, HOST)
      yield* cold.storage.loadHostRecord(RID, HOST)
      expect(yield* Ref.get(loads)).toBe(1)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("after a rolled-back transaction and reset, a load returns the committed record, not the rolled-back write", () =>
    Effect.gen(function* () {
      const { wrapped } = yield* counted
      const cache = makeRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      const doomed = cache.storage.transaction(
        Effect.zipRight(cache.storage.upsertHostRecord({ ...pending, state: "Activating", lastEventSeq: 1 }), Effect.fail("boom"))
      )
      const exit = yield* Effect.exit(Effect.onExit(doomed, (e) => (Exit.isSuccess(e) ? Effect.void : cache.reset)))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Option.getOrThrow(yield* cache.storage.loadHostRecord(RID, HOST))).toEqual(pending)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a rollout read once is served from memory until a call that may change it", () =>
    Effect.gen(function* () {
      const { rolloutLoads, wrapped } = yield* counted
      const cache = makeRecordCache(wrapped)
      const state = Effect.map(cache.storage.loadRollout(RID), (r) => Option.getOrThrow(r).state)
      expect(yield* state).toBe("Opening")
      expect(yield* state).toBe("Opening")
      expect(yield* Ref.get(rolloutLoads)).toBe(1)
      expect(yield* cache.storage.recordRolloutTransition(RID, "Active", T0)).toBe(true)
      expect(yield* state).toBe("Active")
      expect(yield* cache.storage.setCurrentWave(RID, 1)).toBe(true)
      expect(Option.getOrThrow(yield* cache.storage.loadRollout(RID)).currentWave).toBe(1)
      expect(yield* Ref.get(rolloutLoads)).toBe(3)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("pruning a finished rollout forgets its cached records", () =>
    Effect.gen(function* () {
      const { wrapped } = yield* counted
      const cache = makeRecordCache(wrapped)
      yield* cache.storage.upsertHostRecord(pending)
      yield* cache.storage.loadRollout(RID)
      yield* cache.storage.recordRolloutTransition(RID, "Terminal", T0)
      expect(yield* cache.storage.pruneFinishedRollouts((T0 + 1) as typeof T0)).toBe(1)
      expect(Option.isNone(yield* cache.storage.loadHostRecord(RID, HOST))).toBe(true)
      expect(Option.isNone(yield* cache.storage.loadRollout(RID))).toBe(true)
    }).pipe(Effect.provide(layerMemory))
  )
})
