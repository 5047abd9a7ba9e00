/**
 * The Storage conformance suite: one set of tests that every Storage adapter must pass, written
 * once and run per adapter (memory, SQLite) with `it.layer`.
 *
 * Invariant: tests only use the port's interface and fresh ids (see fixtures.ts), so the same
 * assertions hold for every backend.
 */
import { expect, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, FastCheck, Layer, Option } from "effect"
import { HostRolloutState, type HostState } from "../../src/domain/index.js"
import type { StorageError } from "../../src/ports/errors.js"
import { EventLog } from "../../src/ports/eventLog.js"
import { ACTIVE_ROLLOUT_STATES, markRolloutTerminal, Storage, supersedeRollout } from "../../src/ports/storage.js"
import { makeRecordCache } from "../../src/cp/recordCache.js"
import { agentEntry, at, closure, fresh, freshChannel, freshHost, openRollout, pending, T0 } from "./fixtures.js"

/** Runs the Storage conformance tests against `layer` (which must also provide EventLog). */
export const storageConformance = (name: string, layer: Layer.Layer<Storage | EventLog, StorageError>) =>
  it.layer(layer, { timeout: 60_000 })(`Storage conformance (${name})`, (it) => {
    it.effect("a record round-trips every field (property: 60 random records)", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        // A probe named "__proto__" cannot survive Effect Schema's Record codec (it drops the key),
        // so no JSON-backed store can keep it; fast-check generates that name on purpose.
        const samples = FastCheck.sample(Arbitrary.make(HostRolloutState), 60).map((r) => ({
          ...r,
          rolloutId,
          hostname: freshHost(),
          probes: Object.fromEntries(Object.entries(r.probes).filter(([name]) => name !== "__proto__"))
        }))
        for (const record of samples) {
          yield* storage.upsertHostRecord(record)
          expect(yield* storage.loadHostRecord(rolloutId, record.hostname)).toEqual(Option.some(record))
        }
      })
    )

    it.effect("upsert replaces every field of an existing record", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const first = pending(rolloutId)
        yield* storage.upsertHostRecord(first)
        const next = {
          ...first,
          state: "Soaking" as const,
          currentClosureAtDispatch: closure("prior"),
          currentClosure: closure("target"),
          dispatchAckedAt: at(1),
          activationCompletedAt: at(2),
          probes: { http: { status: "fail" as const, mode: "enforce" as const, lastObservedAt: at(3), lastPassAt: null, failureReason: "503" } },
          lastEventSeq: 3
        }
        yield* storage.upsertHostRecord(next)
        expect(yield* storage.loadHostRecord(rolloutId, first.hostname)).toEqual(Option.some(next))
        expect(yield* storage.loadHostRecord(rolloutId, freshHost())).toEqual(Option.none())
      })
    )

    it.effect("records for a rollout come ordered by hostname, and only that rollout's", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const other = yield* openRollout()
        const records = ["web-c", "web-a", "web-b"].map((h) => pending(rolloutId, `${h}-${fresh("")}` as never))
        yield* storage.upsertHostRecords(records)
        yield* storage.upsertHostRecord(pending(other))
        const got = yield* storage.hostRecordsForRollout(rolloutId)
        expect(got.map((r) => r.hostname)).toEqual(records.map((r) => r.hostname).sort())
      })
    )

    it.effect("active records of a host: Pending, Activating, Deferred, Soaking and Failed, in rollout-id order", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const host = freshHost()
        const states: ReadonlyArray<HostState> = ["Pending", "Activating", "Deferred", "Soaking", "Converged", "Failed", "Reverted"]
        const rollouts: Array<string> = []
        for (const state of states) {
          const rolloutId = yield* openRollout()
          rollouts.push(rolloutId)
          yield* storage.upsertHostRecord({ ...pending(rolloutId, host), state })
        }
        const active = yield* storage.activeHostRecordsForHost(host)
        expect(active.map((r) => r.state).sort()).toEqual(["Activating", "Deferred", "Failed", "Pending", "Soaking"])
        expect(active.map((r) => r.rolloutId)).toEqual([...active.map((r) => r.rolloutId)].sort())
        expect(active.every((r) => r.hostname === host)).toBe(true)
      })
    )

    it.effect("allHostRecords lists every record in (rollout id, hostname) order", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const a = yield* openRollout()
        const b = yield* openRollout()
        const mine = [pending(b), pending(a), pending(a)]
        yield* storage.upsertHostRecords(mine)
        const all = yield* storage.allHostRecords
        const keys = all.map((r) => `${r.rolloutId} ${r.hostname}`)
        expect(keys).toEqual([...keys].sort())
        for (const r of mine) expect(keys).toContain(`${r.rolloutId} ${r.hostname}`)
      })
    )

    it.effect("a record for a rollout that does not exist is refused (Constraint) and not stored", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const orphan = pending(`${freshChannel()}@nope` as never)
        const error = yield* Effect.flip(storage.upsertHostRecord(orphan))
        expect(error._tag).toBe("StorageError")
        expect(error.reason).toBe("Constraint")
        expect(yield* storage.loadHostRecord(orphan.rolloutId, orphan.hostname)).toEqual(Option.none())
      })
    )

    it.effect("upsertHostRecords is all or nothing", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const good = Array.from({ length: 300 }, () => pending(rolloutId))
        const orphan = pending(`${freshChannel()}@nope` as never)
        const error = yield* Effect.flip(storage.upsertHostRecords([...good, orphan]))
        expect(error.reason).toBe("Constraint")
        expect(yield* storage.hostRecordsForRollout(rolloutId)).toEqual([])
        yield* storage.upsertHostRecords(good)
        expect((yield* storage.hostRecordsForRollout(rolloutId)).length).toBe(300)
      })
    )

    it.effect("hostRecordCounts: a rollout's records and its Converged ones, kept in step by upserts; zeros for an unknown rollout", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const other = yield* openRollout()
        expect(yield* storage.hostRecordCounts(rolloutId)).toEqual({ total: 0, converged: 0 })
        expect(yield* storage.hostRecordCounts(`${freshChannel()}@nope` as never)).toEqual({ total: 0, converged: 0 })
        const states: ReadonlyArray<HostState> = ["Pending", "Converged", "Soaking", "Converged", "Failed"]
        const records = states.map((state) => ({ ...pending(rolloutId), state }))
        yield* storage.upsertHostRecords(records)
        yield* storage.upsertHostRecord({ ...pending(other), state: "Converged" })
        expect(yield* storage.hostRecordCounts(rolloutId)).toEqual({ total: 5, converged: 2 })
        expect(yield* storage.hostRecordCounts(other)).toEqual({ total: 1, converged: 1 })
        yield* storage.upsertHostRecord({ ...records[0]!, state: "Converged" })
        yield* storage.upsertHostRecord({ ...records[1]!, state: "Reverted" })
        yield* storage.upsertHostRecords([{ ...records[2]!, state: "Converged" }, { ...records[2]!, state: "Converged" }])
        expect(yield* storage.hostRecordCounts(rolloutId)).toEqual({ total: 5, converged: 3 })
      })
    )

    it.effect("hostRecordCounts through the reducer's record cache agree with the adapter's, before and once it holds every record", () =>
      Effect.gen(function* () {
        // The cache answers counts itself once complete (counts it keeps in step with its writes),
        // so it is checked here over every adapter, against the adapter's own answer.
        const storage = yield* Storage
        const cache = makeRecordCache(storage)
        const rolloutId = yield* openRollout()
        const hosts = Array.from({ length: 4 }, () => pending(rolloutId))
        yield* storage.upsertHostRecords(hosts)
        const agree = Effect.gen(function* () {
          for (const id of [rolloutId, `${freshChannel()}@nope` as never]) {
            expect(yield* cache.storage.hostRecordCounts(id)).toEqual(yield* storage.hostRecordCounts(id))
          }
          return yield* cache.storage.hostRecordCounts(rolloutId)
        })
        expect(yield* agree).toEqual({ total: 4, converged: 0 })
        yield* cache.storage.allHostRecords
        yield* cache.storage.upsertHostRecord({ ...hosts[0]!, state: "Converged" })
        expect(yield* agree).toEqual({ total: 4, converged: 1 })
        yield* cache.storage.transaction(
          Effect.gen(function* () {
            yield* cache.storage.upsertHostRecords([{ ...hosts[1]!, state: "Converged" }, { ...hosts[2]!, state: "Converged" }])
            yield* cache.storage.upsertHostRecord({ ...hosts[1]!, state: "Failed" })
            expect(yield* cache.storage.hostRecordCounts(rolloutId)).toEqual({ total: 4, converged: 2 })
          })
        )
        expect(yield* agree).toEqual({ total: 4, converged: 2 })
        yield* cache.storage.upsertHostRecords([{ ...hosts[0]!, state: "Reverted" }, pending(rolloutId), { ...hosts[3]!, state: "Converged" }])
        expect(yield* agree).toEqual({ total: 5, converged: 2 })
        const later = yield* openRollout()
        yield* cache.storage.upsertHostRecord({ ...pending(later), state: "Converged" })
        expect(yield* cache.storage.hostRecordCounts(later)).toEqual(yield* storage.hostRecordCounts(later))
        expect(yield* cache.storage.hostRecordCounts(later)).toEqual({ total: 1, converged: 1 })
      })
    )

    it.effect("openRollout creates Opening at wave 0 once; a second open changes nothing", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout({ openedAt: at(5) })
        const before = yield* storage.loadRollout(rolloutId)
        expect(Option.map(before, (r) => [r.state, r.currentWave, r.openedAt, r.terminalAt, r.supersededAt])).toEqual(
          Option.some(["Opening", 0, at(5), null, null])
        )
        yield* storage.setCurrentWave(rolloutId, 2)
        const again = yield* storage.openRollout({ rolloutId, channel: freshChannel(), targetRef: "x" as never, openedAt: at(9) })
        expect(again).toBe(false)
        expect(Option.map(yield* storage.loadRollout(rolloutId), (r) => [r.currentWave, r.openedAt])).toEqual(Option.some([2, at(5)]))
      })
    )

    it.effect("listRollouts filters by channel and states, newest first", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const channel = freshChannel()
        const old = yield* openRollout({ channel, openedAt: at(1) })
        const mid = yield* openRollout({ channel, openedAt: at(2) })
        const recent = yield* openRollout({ channel, openedAt: at(3) })
        yield* openRollout({ openedAt: at(4) })
        yield* supersedeRollout(old, at(10))
        const all = yield* storage.listRollouts({ channel })
        expect(all.map((r) => r.rolloutId)).toEqual([recent, mid, old])
        const active = yield* storage.listRollouts({ channel, states: ACTIVE_ROLLOUT_STATES })
        expect(active.map((r) => r.rolloutId)).toEqual([recent, mid])
        const everything = yield* storage.listRollouts()
        expect(everything.map((r) => r.rolloutId)).toEqual(expect.arrayContaining([old, mid, recent]))
      })
    )

    it.effect("transitions are guarded: Terminal sets terminalAt, Superseded sets supersededAt, repeats and unknown ids change nothing", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const a = yield* openRollout()
        expect(yield* storage.recordRolloutTransition(a, "Active", at(1))).toBe(true)
        expect(yield* storage.recordRolloutTransition(a, "Active", at(2))).toBe(false)
        expect(yield* markRolloutTerminal(a, at(3))).toBe(true)
        expect(yield* markRolloutTerminal(a, at(4))).toBe(false)
        expect(Option.map(yield* storage.loadRollout(a), (r) => [r.state, r.terminalAt, r.supersededAt])).toEqual(
          Option.some(["Terminal", at(3), null])
        )
        const b = yield* openRollout()
        expect(yield* supersedeRollout(b, at(5))).toBe(true)
        expect(Option.map(yield* storage.loadRollout(b), (r) => [r.state, r.terminalAt, r.supersededAt])).toEqual(
          Option.some(["Superseded", null, at(5)])
        )
        expect(yield* storage.recordRolloutTransition(`${freshChannel()}@none` as never, "Active", at(1))).toBe(false)
      })
    )

    it.effect("setCurrentWave only raises the wave", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        expect(yield* storage.setCurrentWave(rolloutId, 2)).toBe(true)
        expect(yield* storage.setCurrentWave(rolloutId, 1)).toBe(false)
        expect(yield* storage.setCurrentWave(rolloutId, 2)).toBe(false)
        expect(Option.map(yield* storage.loadRollout(rolloutId), (r) => r.currentWave)).toEqual(Option.some(2))
        expect(yield* storage.setCurrentWave(`${freshChannel()}@none` as never, 1)).toBe(false)
      })
    )

    it.effect("ordered reads after a rolled-back write list exactly the stored hosts, in order (same count, other hosts)", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const tag = fresh("")
        const host = (name: string) => pending(rolloutId, `${name}-${tag}` as never)
        const names = (records: ReadonlyArray<{ readonly hostname: string }>) => records.map((r) => r.hostname.slice(0, 1))
        const rollout = (records: ReadonlyArray<{ readonly rolloutId: string; readonly hostname: string }>) =>
          names(records.filter((r) => r.rolloutId === rolloutId))
        yield* storage.upsertHostRecords([host("b"), host("a")])
        expect(names(yield* storage.hostRecordsForRollout(rolloutId))).toEqual(["a", "b"])
        const failed = yield* Effect.either(
          storage.transaction(
            Effect.gen(function* () {
              yield* storage.upsertHostRecord(host("d"))
              expect(names(yield* storage.hostRecordsForRollout(rolloutId))).toEqual(["a", "b", "d"])
              expect(rollout(yield* storage.allHostRecords)).toEqual(["a", "b", "d"])
              return yield* Effect.fail("boom" as const)
            })
          )
        )
        expect(failed).toEqual(Either.left("boom"))
        yield* storage.upsertHostRecord(host("c"))
        expect(names(yield* storage.hostRecordsForRollout(rolloutId))).toEqual(["a", "b", "c"])
        expect(rollout(yield* storage.allHostRecords)).toEqual(["a", "b", "c"])
        yield* storage.upsertHostRecord({ ...host("a"), state: "Converged" })
        expect((yield* storage.hostRecordsForRollout(rolloutId)).map((r) => r.state)).toEqual(["Converged", "Pending", "Pending"])
      })
    )

    it.effect("a transaction commits Storage and EventLog writes together, or none of them", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const record = pending(rolloutId)
        const failed = yield* Effect.either(
          storage.transaction(
            Effect.gen(function* () {
              yield* storage.upsertHostRecord(record)
              yield* log.append(agentEntry(record.hostname, rolloutId, 1))
              return yield* Effect.fail("boom" as const)
            })
          )
        )
        expect(failed).toEqual(Either.left("boom"))
        expect(yield* storage.loadHostRecord(rolloutId, record.hostname)).toEqual(Option.none())
        expect(yield* log.byRollout(rolloutId)).toEqual([])
        yield* storage.transaction(Effect.zip(storage.upsertHostRecord(record), log.append(agentEntry(record.hostname, rolloutId, 1))))
        expect(Option.isSome(yield* storage.loadHostRecord(rolloutId, record.hostname))).toBe(true)
        expect((yield* log.byRollout(rolloutId)).length).toBe(1)
      })
    )

    it.effect("a nested transaction that fails rolls back only itself", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const outer = pending(rolloutId)
        const inner = pending(rolloutId)
        yield* storage.transaction(
          Effect.gen(function* () {
            yield* storage.upsertHostRecord(outer)
            yield* Effect.ignore(storage.transaction(Effect.zipRight(storage.upsertHostRecord(inner), Effect.fail("inner"))))
          })
        )
        expect(Option.isSome(yield* storage.loadHostRecord(rolloutId, outer.hostname))).toBe(true)
        expect(yield* storage.loadHostRecord(rolloutId, inner.hostname)).toEqual(Option.none())
      })
    )

    it.effect("concurrent read-modify-write transactions never lose an update", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const record = pending(rolloutId)
        yield* storage.upsertHostRecord(record)
        const bump = storage.transaction(
          Effect.gen(function* () {
            const current = Option.getOrThrow(yield* storage.loadHostRecord(rolloutId, record.hostname))
            yield* Effect.yieldNow()
            yield* storage.upsertHostRecord({ ...current, lastEventSeq: current.lastEventSeq + 1 })
          })
        )
        yield* Effect.all(Array.from({ length: 25 }, () => bump), { concurrency: "unbounded" })
        expect(Option.map(yield* storage.loadHostRecord(rolloutId, record.hostname), (r) => r.lastEventSeq)).toEqual(Option.some(25))
      })
    )

    it.effect("the dispatch queue upserts per (host, rollout) and hands out the oldest first, once", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const host = freshHost()
        const [r1, r2, r3] = [yield* openRollout(), yield* openRollout(), yield* openRollout()]
        const entry = (rolloutId: typeof r1, enqueuedAt: number) => ({
          hostname: host,
          rolloutId,
          targetClosure: closure(`t-${rolloutId}`),
          soakDueAt: at(900),
          enqueuedAt: at(enqueuedAt)
        })
        yield* storage.enqueueDispatch(entry(r1, 30))
        yield* storage.enqueueDispatch(entry(r2, 20))
        yield* storage.enqueueDispatch(entry(r3, 40))
        yield* storage.enqueueDispatch({ ...entry(r1, 10), targetClosure: closure("replaced") })
        const queued = yield* storage.dispatchesForHost(host)
        expect(queued.map((d) => [d.rolloutId, d.enqueuedAt])).toEqual([
          [r1, at(10)],
          [r2, at(20)],
          [r3, at(40)]
        ])
        expect(yield* storage.takeDispatchForHost(host)).toEqual(Option.some({ ...entry(r1, 10), targetClosure: closure("replaced") }))
        expect(yield* storage.removeDispatch(host, r3)).toBe(true)
        expect(yield* storage.removeDispatch(host, r3)).toBe(false)
        expect(Option.map(yield* storage.takeDispatchForHost(host), (d) => d.rolloutId)).toEqual(Option.some(r2))
        expect(yield* storage.takeDispatchForHost(host)).toEqual(Option.none())
        expect(yield* storage.dispatchesForHost(freshHost())).toEqual([])
      })
    )

    it.effect("concurrent takes hand each dispatch out exactly once", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const host = freshHost()
        const rollouts = []
        for (let i = 0; i < 10; i++) {
          const rolloutId = yield* openRollout()
          rollouts.push(rolloutId)
          yield* storage.enqueueDispatch({ hostname: host, rolloutId, targetClosure: closure("t"), soakDueAt: T0, enqueuedAt: at(i) })
        }
        const taken = yield* Effect.all(Array.from({ length: 15 }, () => storage.takeDispatchForHost(host)), { concurrency: "unbounded" })
        const ids = taken.flatMap(Option.toArray).map((d) => d.rolloutId)
        expect([...ids].sort()).toEqual([...rollouts].sort())
      })
    )

    it.effect("a dispatch for a rollout that does not exist is refused", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const error = yield* Effect.flip(
          storage.enqueueDispatch({ hostname: freshHost(), rolloutId: `${freshChannel()}@x` as never, targetClosure: closure("t"), soakDueAt: T0, enqueuedAt: T0 })
        )
        expect(error.reason).toBe("Constraint")
      })
    )

    it.effect("quarantines insert once and load as a channel → closures map", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const [c1, c2] = [freshChannel(), freshChannel()]
        const q = (channel: typeof c1, hash: string) => ({ channel, closureHash: closure(hash), quarantinedAt: at(1), triggeringEventLogSeq: null })
        expect(yield* storage.insertQuarantine(q(c1, "bad-b"))).toBe(true)
        expect(yield* storage.insertQuarantine(q(c1, "bad-a"))).toBe(true)
        expect(yield* storage.insertQuarantine(q(c2, "bad-a"))).toBe(true)
        expect(yield* storage.insertQuarantine({ ...q(c1, "bad-a"), quarantinedAt: at(99) })).toBe(false)
        const set = yield* storage.loadQuarantines
        expect(set.get(c1)).toEqual(new Set(["bad-a", "bad-b"]))
        expect(set.get(c2)).toEqual(new Set(["bad-a"]))
        const listed = (yield* storage.listQuarantines).filter((r) => r.channel === c1)
        expect(listed).toEqual([q(c1, "bad-a"), q(c1, "bad-b")])
      })
    )

    it.effect("a quarantine may name the event-log entry that caused it", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const log = yield* EventLog
        const seq = Option.getOrThrow(yield* log.append(agentEntry(freshHost(), yield* openRollout(), 1)))
        const record = { channel: freshChannel(), closureHash: closure("bad"), quarantinedAt: at(1), triggeringEventLogSeq: seq }
        expect(yield* storage.insertQuarantine(record)).toBe(true)
        expect((yield* storage.listQuarantines).filter((r) => r.channel === record.channel)).toEqual([record])
      })
    )

    it.effect("probe failures count distinct failing enforce probes or controls per rollout and host", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const rolloutId = yield* openRollout()
        const [h1, h2] = [freshHost(), freshHost()]
        const f = (hostname: typeof h1, probeName: string, controlId: string | null) => ({
          rolloutId,
          hostname,
          probeName: probeName as never,
          controlId,
          framework: controlId === null ? null : "nis2",
          observedAt: at(1),
          eventLogSeq: null
        })
        yield* storage.insertProbeFailures([f(h1, "http", null), f(h1, "http", null), f(h1, "evidence", "art-21"), f(h1, "evidence", "art-23")])
        yield* storage.insertProbeFailures([f(h2, "tcp", null)])
        const counts = yield* storage.probeFailureCounts
        expect(counts.get(rolloutId)).toEqual(
          new Map([
            [h1, 3],
            [h2, 1]
          ])
        )
        const refused = yield* Effect.flip(storage.insertProbeFailures([{ ...f(h1, "x", null), rolloutId: `${freshChannel()}@x` as never }]))
        expect(refused.reason).toBe("Constraint")
      })
    )

    it.effect("pruning deletes old finished rollouts with their records, dispatches and probe failures", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const oldDone = yield* openRollout({ openedAt: at(0) })
        const recentDone = yield* openRollout({ openedAt: at(0) })
        const oldActive = yield* openRollout({ openedAt: at(0) })
        yield* markRolloutTerminal(oldDone, at(10))
        yield* markRolloutTerminal(recentDone, at(5000))
        yield* storage.recordRolloutTransition(oldActive, "Active", at(10))
        const host = freshHost()
        for (const rolloutId of [oldDone, recentDone, oldActive]) {
          yield* storage.upsertHostRecord(pending(rolloutId, host))
          yield* storage.enqueueDispatch({ hostname: host, rolloutId, targetClosure: closure("t"), soakDueAt: T0, enqueuedAt: T0 })
          yield* storage.insertProbeFailures([
            { rolloutId, hostname: host, probeName: "p" as never, controlId: null, framework: null, observedAt: T0, eventLogSeq: null }
          ])
        }
        expect(yield* storage.pruneFinishedRollouts(at(1000))).toBeGreaterThanOrEqual(1)
        expect(yield* storage.loadRollout(oldDone)).toEqual(Option.none())
        expect(yield* storage.hostRecordsForRollout(oldDone)).toEqual([])
        expect((yield* storage.dispatchesForHost(host)).map((d) => d.rolloutId).sort()).toEqual([recentDone, oldActive].sort())
        expect((yield* storage.probeFailureCounts).has(oldDone)).toBe(false)
        expect(Option.isSome(yield* storage.loadRollout(recentDone))).toBe(true)
        expect(Option.isSome(yield* storage.loadRollout(oldActive))).toBe(true)
        expect((yield* storage.hostRecordsForRollout(oldActive)).length).toBe(1)
      })
    )

    it.effect("token nonces are recorded once (replays answer false) and pruned by age", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const [old, recent] = [fresh("nonce-"), fresh("nonce-")]
        const host = freshHost()
        expect(yield* storage.recordTokenNonce({ nonce: old, hostname: host, firstSeenAt: at(0) })).toBe(true)
        expect(yield* storage.recordTokenNonce({ nonce: old, hostname: freshHost(), firstSeenAt: at(5) })).toBe(false)
        expect(yield* storage.recordTokenNonce({ nonce: recent, hostname: host, firstSeenAt: at(100) })).toBe(true)
        expect(yield* storage.pruneTokenNonces(at(50))).toBeGreaterThanOrEqual(1)
        expect(yield* storage.recordTokenNonce({ nonce: old, hostname: host, firstSeenAt: at(200) })).toBe(true)
        expect(yield* storage.recordTokenNonce({ nonce: recent, hostname: host, firstSeenAt: at(200) })).toBe(false)
      })
    )

    it.effect("a revocation is stored per host and replaced by a newer one", () =>
      Effect.gen(function* () {
        const storage = yield* Storage
        const host = freshHost()
        expect(yield* storage.loadRevocation(host)).toEqual(Option.none())
        const first = { hostname: host, notBefore: at(10), reason: "key leaked", revokedAt: at(11), revokedBy: "ops" }
        yield* storage.upsertRevocation(first)
        expect(yield* storage.loadRevocation(host)).toEqual(Option.some(first))
        const second = { ...first, notBefore: at(20), reason: null, revokedBy: null }
        yield* storage.upsertRevocation(second)
        expect(yield* storage.loadRevocation(host)).toEqual(Option.some(second))
      })
    )
  })
