/**
 * Memory Storage, part 1: host rollout records and rollouts.
 *
 * Invariants: a host record is written only while its rollout exists; a rollout transition to
 * the state it is in changes nothing; `currentWave` never decreases; pruning removes a rollout
 * together with its host records, dispatches and probe failures.
 */
import { Chunk, HashMap, Option } from "effect"
import type { HostRolloutState } from "../../src/domain/hostState.js"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import { newRolloutRecord, type RolloutRecord } from "../../src/domain/rollout.js"
import { ACTIVE_HOST_STATES, type HostRecordStore, PRUNABLE_ROLLOUT_STATES, type RolloutStore } from "../../src/ports/storage.js"
import { type MemoryDb, ok } from "./db.js"
import { compareStrings, type CpState, refuse } from "./state.js"

/** The Storage methods for host records and rollouts. */
export type HostRecordOps = HostRecordStore & RolloutStore

const byHostname = (a: HostRolloutState, b: HostRolloutState) => compareStrings(a.hostname, b.hostname)
const byPrimaryKey = (a: HostRolloutState, b: HostRolloutState) => compareStrings(a.rolloutId, b.rolloutId) || byHostname(a, b)
const newestFirst = (a: RolloutRecord, b: RolloutRecord) => b.openedAt - a.openedAt || compareStrings(a.rolloutId, b.rolloutId)

const putRecords = (operation: string, state: CpState, records: ReadonlyArray<HostRolloutState>) => {
  let hostRecords = state.hostRecords
  for (const r of records) {
    if (!HashMap.has(state.rollouts, r.rolloutId)) {
      return refuse(operation, "host_rollout_records", `rollout ${r.rolloutId} does not exist (host ${r.hostname})`)
    }
    const hosts = Option.getOrElse(HashMap.get(hostRecords, r.rolloutId), () => HashMap.empty<HostId, HostRolloutState>())
    hostRecords = HashMap.set(hostRecords, r.rolloutId, HashMap.set(hosts, r.hostname, r))
  }
  return ok(undefined, { ...state, hostRecords })
}

const allRecords = (state: CpState): Array<HostRolloutState> =>
  Array.from(HashMap.values(state.hostRecords)).flatMap((hosts) => Array.from(HashMap.values(hosts)))

/** Builds the host-record and rollout methods over a memory database. */
export const makeHostRecordOps = (db: MemoryDb<CpState>): HostRecordOps => ({
  loadHostRecord: (rolloutId: RolloutId, hostname: HostId) =>
    db.read((s) => Option.flatMap(HashMap.get(s.hostRecords, rolloutId), HashMap.get(hostname))),
  upsertHostRecord: (record: HostRolloutState) =>
    db.write((s) => putRecords("Storage.upsertHostRecord", s, [record])),
  upsertHostRecords: (records: ReadonlyArray<HostRolloutState>) =>
    db.write((s) => putRecords("Storage.upsertHostRecords", s, records)),
  hostRecordsForRollout: (rolloutId: RolloutId) =>
    db.read((s) =>
      Option.match(HashMap.get(s.hostRecords, rolloutId), {
        onNone: () => [],
        onSome: (hosts) => Array.from(HashMap.values(hosts)).sort(byHostname)
      })
    ),
  hostRecordCounts: (rolloutId: RolloutId) =>
    db.read((s) =>
      Option.match(HashMap.get(s.hostRecords, rolloutId), {
        onNone: () => ({ total: 0, converged: 0 }),
        onSome: (hosts) => {
          let converged = 0
          for (const r of HashMap.values(hosts)) if (r.state === "Converged") converged++
          return { total: HashMap.size(hosts), converged }
        }
      })
    ),
  activeHostRecordsForHost: (hostname: HostId) =>
    db.read((s) =>
      Array.from(HashMap.values(s.hostRecords))
        .flatMap((hosts) => Option.toArray(HashMap.get(hosts, hostname)))
        .filter((r) => ACTIVE_HOST_STATES.includes(r.state))
        .sort(byPrimaryKey)
    ),
  allHostRecords: db.read((s) => allRecords(s).sort(byPrimaryKey)),
  openRollout: (rollout) =>
    db.write((s) =>
      HashMap.has(s.rollouts, rollout.rolloutId)
        ? ok(false, s)
        : ok(true, { ...s, rollouts: HashMap.set(s.rollouts, rollout.rolloutId, newRolloutRecord(rollout)) })
    ),
  loadRollout: (rolloutId: RolloutId) => db.read((s) => HashMap.get(s.rollouts, rolloutId)),
  listRollouts: (filter = {}) =>
    db.read((s) =>
      Array.from(HashMap.values(s.rollouts))
        .filter((r) => (filter.channel === undefined || r.channel === filter.channel) && (filter.states?.includes(r.state) ?? true))
        .sort(newestFirst)
    ),
  recordRolloutTransition: (rolloutId, to, at) =>
    db.write((s) =>
      Option.match(HashMap.get(s.rollouts, rolloutId), {
        onNone: () => ok(false, s),
        onSome: (r) => {
          if (r.state === to) return ok(false, s)
          const next: RolloutRecord = {
            ...r,
            state: to,
            terminalAt: to === "Terminal" ? at : r.terminalAt,
            supersededAt: to === "Superseded" ? at : r.supersededAt
          }
          return ok(true, { ...s, rollouts: HashMap.set(s.rollouts, rolloutId, next) })
        }
      })
    ),
  setCurrentWave: (rolloutId: RolloutId, wave: number) =>
    db.write((s) =>
      Option.match(HashMap.get(s.rollouts, rolloutId), {
        onNone: () => ok(false, s),
        onSome: (r) =>
          r.currentWave >= wave ? ok(false, s) : ok(true, { ...s, rollouts: HashMap.set(s.rollouts, rolloutId, { ...r, currentWave: wave }) })
      })
    ),
  pruneFinishedRollouts: (cutoff) =>
    db.write((s) => {
      const doomed = new Set(
        Array.from(HashMap.values(s.rollouts))
          .filter((r) => PRUNABLE_ROLLOUT_STATES.includes(r.state) && (r.terminalAt ?? r.supersededAt ?? r.openedAt) < cutoff)
          .map((r) => r.rolloutId)
      )
      if (doomed.size === 0) return ok(0, s)
      return ok(doomed.size, {
        ...s,
        rollouts: HashMap.filter(s.rollouts, (_, id) => !doomed.has(id)),
        hostRecords: HashMap.filter(s.hostRecords, (_, id) => !doomed.has(id)),
        dispatches: HashMap.map(s.dispatches, (byRollout) => HashMap.filter(byRollout, (_, id) => !doomed.has(id))),
        probeFailures: Chunk.filter(s.probeFailures, (f) => !doomed.has(f.rolloutId))
      })
    })
})
