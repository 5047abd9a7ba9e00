/**
 * Memory Storage, part 2: the dispatch queue, quarantines, the probe-failure projection,
 * enrollment nonces and revocations.
 *
 * Invariants: at most one dispatch per (hostname, rolloutId) and only for a stored rollout;
 * quarantines and nonces are insert-once; probe failures are append-only per stored rollout and
 * may only reference an existing event-log seq.
 */
import { Chunk, Effect, HashMap, Option } from "effect"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import {
  type DispatchEntry,
  type DispatchStore,
  type IdentityStore,
  type ProbeFailure,
  type ProbeFailureStore,
  type QuarantineStore,
  toQuarantineSet
} from "../../src/ports/storage.js"
import { type MemoryDb, ok } from "./db.js"
import { compareStrings, type CpState, refuse, seqExists } from "./state.js"

/** The Storage methods of this module. */
export type QueueOps = DispatchStore & QuarantineStore & ProbeFailureStore & IdentityStore

const oldestFirst = (a: DispatchEntry, b: DispatchEntry) => a.enqueuedAt - b.enqueuedAt || compareStrings(a.rolloutId, b.rolloutId)

const hostDispatches = (s: CpState, hostname: HostId): Array<DispatchEntry> =>
  Option.match(HashMap.get(s.dispatches, hostname), {
    onNone: () => [],
    onSome: (m) => Array.from(HashMap.values(m)).sort(oldestFirst)
  })

const hasDispatch = (s: CpState, hostname: HostId): boolean =>
  Option.match(HashMap.get(s.dispatches, hostname), { onNone: () => false, onSome: (m) => HashMap.size(m) > 0 })

const noDispatch: Effect.Effect<Option.Option<DispatchEntry>> = Effect.succeed(Option.none())

const withoutDispatch = (s: CpState, hostname: HostId, rolloutId: RolloutId): CpState => ({
  ...s,
  dispatches: HashMap.modify(s.dispatches, hostname, HashMap.remove(rolloutId))
})

const quarantineKey = (channel: string, closure: string) => `${channel}\u0000${closure}`

/** Builds the queue, quarantine, probe-failure and identity methods over a memory database. */
export const makeQueueOps = (db: MemoryDb<CpState>): QueueOps => ({
  enqueueDispatch: (entry: DispatchEntry) =>
    db.write((s) => {
      if (!HashMap.has(s.rollouts, entry.rolloutId)) {
        return refuse("Storage.enqueueDispatch", "dispatch_queue", `rollout ${entry.rolloutId} does not exist`)
      }
      const forHost = Option.getOrElse(HashMap.get(s.dispatches, entry.hostname), () => HashMap.empty<RolloutId, DispatchEntry>())
      return ok(undefined, { ...s, dispatches: HashMap.set(s.dispatches, entry.hostname, HashMap.set(forHost, entry.rolloutId, entry)) })
    }),
  // Every long-poll look calls this, and nearly every look finds nothing: a host with no queued
  // dispatch in the state this fiber sees is answered from a read, without the write lock (a
  // dispatch a running transaction is queueing is not visible to a write outside it either: the
  // transaction's kick comes after its commit). No span: it runs per look (~20% of a 2k-host
  // scale run's CPU with the span and the lock).
  takeDispatchForHost: (hostname: HostId) =>
    Effect.flatMap(
      db.read((s) => hasDispatch(s, hostname)),
      (queued) =>
        queued
          ? db.write((s) => {
              const oldest = hostDispatches(s, hostname)[0]
              return oldest === undefined ? ok(Option.none(), s) : ok(Option.some(oldest), withoutDispatch(s, hostname, oldest.rolloutId))
            })
          : noDispatch
    ),
  dispatchesForHost: (hostname: HostId) => db.read((s) => hostDispatches(s, hostname)),
  removeDispatch: (hostname: HostId, rolloutId: RolloutId) =>
    db.write((s) => {
      const present = Option.exists(HashMap.get(s.dispatches, hostname), HashMap.has(rolloutId))
      return ok(present, present ? withoutDispatch(s, hostname, rolloutId) : s)
    }),
  insertQuarantine: (record) =>
    db.write((s) => {
      const key = quarantineKey(record.channel, record.closureHash)
      if (HashMap.has(s.quarantines, key)) return ok(false, s)
      if (!seqExists(s, record.triggeringEventLogSeq)) {
        return refuse("Storage.insertQuarantine", "quarantined_closures", `event log seq ${record.triggeringEventLogSeq} does not exist`)
      }
      return ok(true, { ...s, quarantines: HashMap.set(s.quarantines, key, record) })
    }),
  listQuarantines: db.read((s) =>
      Array.from(HashMap.values(s.quarantines)).sort(
        (a, b) => compareStrings(a.channel, b.channel) || compareStrings(a.closureHash, b.closureHash)
      )
    ),
  loadQuarantines: db.read((s) => toQuarantineSet(Array.from(HashMap.values(s.quarantines)))),
  insertProbeFailures: (failures: ReadonlyArray<ProbeFailure>) =>
    db.write((s) => {
      for (const f of failures) {
        if (!HashMap.has(s.rollouts, f.rolloutId)) {
          return refuse("Storage.insertProbeFailures", "probe_failures", `rollout ${f.rolloutId} does not exist`)
        }
        if (!seqExists(s, f.eventLogSeq)) {
          return refuse("Storage.insertProbeFailures", "probe_failures", `event log seq ${f.eventLogSeq} does not exist`)
        }
      }
      return ok(undefined, { ...s, probeFailures: Chunk.appendAll(s.probeFailures, Chunk.fromIterable(failures)) })
    }),
  probeFailureCounts: db.read((s) => {
      const distinct = new Map<RolloutId, Map<HostId, Set<string>>>()
      for (const f of s.probeFailures) {
        const hosts = distinct.get(f.rolloutId) ?? new Map<HostId, Set<string>>()
        const probes = hosts.get(f.hostname) ?? new Set<string>()
        probes.add(f.controlId ?? f.probeName)
        hosts.set(f.hostname, probes)
        distinct.set(f.rolloutId, hosts)
      }
      return new Map(Array.from(distinct, ([rid, hosts]) => [rid, new Map(Array.from(hosts, ([h, probes]) => [h, probes.size]))]))
    }),
  recordTokenNonce: (nonce) =>
    db.write((s) => (HashMap.has(s.nonces, nonce.nonce) ? ok(false, s) : ok(true, { ...s, nonces: HashMap.set(s.nonces, nonce.nonce, nonce) }))),
  pruneTokenNonces: (cutoff) =>
    db.write((s) => {
      const kept = HashMap.filter(s.nonces, (n) => n.firstSeenAt >= cutoff)
      return ok(HashMap.size(s.nonces) - HashMap.size(kept), { ...s, nonces: kept })
    }),
  upsertRevocation: (revocation) =>
    db.write((s) => ok(undefined, { ...s, revocations: HashMap.set(s.revocations, revocation.hostname, revocation) })),
  loadRevocation: (hostname: HostId) => db.read((s) => HashMap.get(s.revocations, hostname))
})
