/**
 * Storage benchmark: the SQLite adapter's host-record upsert + event-log append (what the CP
 * reducer and event-log writer do per agent event) against the raw better-sqlite3 ceiling on the
 * same schema, same pragmas (WAL, synchronous NORMAL, foreign keys on) and same batches, all
 * measured in this run. Target: the adapter reaches at least half the best raw rate.
 *
 * Invariant: every side writes the same rows (22-column host record upsert + 6-column agent
 * event insert with the dedup index) in one transaction per BATCH events; each side runs ROUNDS
 * times on a fresh file and its best round counts, so a noisy neighbour hurts all sides alike;
 * the ceiling is the faster of two raw strategies (single-row and multi-row statements).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { Effect, Schema } from "effect"
import { cpSchemaV1, cpTables, layerSqlite } from "../../adapters/sqlite/index.js"
import {
  type ChannelId,
  type ChannelRef,
  type ClosureHash,
  type HostId,
  type HostRolloutState,
  newPending,
  OutboundAgentEvent,
  type ProbeName,
  type RolloutId,
  ts
} from "../../src/domain/index.js"
import { EventLog, type EventLogEntry } from "../../src/ports/eventLog.js"
import { Storage } from "../../src/ports/storage.js"
import { type BenchRow, type BenchSuite, si } from "../lib.js"

/** The slice of better-sqlite3's API the raw side uses (the package ships no types here). */
interface RawStatement {
  run(...params: ReadonlyArray<unknown>): unknown
}
interface RawDatabase {
  pragma(text: string): unknown
  exec(text: string): unknown
  prepare(text: string): RawStatement
  transaction<A extends ReadonlyArray<unknown>>(fn: (...args: A) => void): (...args: A) => void
  close(): void
}
type RawDatabaseConstructor = new (filename: string) => RawDatabase
const Database = createRequire(import.meta.url)("better-sqlite3") as RawDatabaseConstructor

const EVENTS = 60_000
const HOSTS = 1_000
/** Events per transaction; a multiple of RAW_ROWS so every raw multi-row statement is full. */
const BATCH = 500
const RAW_ROWS = 250
const ROUNDS = 3
const T0 = ts("2026-05-17T12:00:00Z")
const ROLLOUT = "stable@bench" as RolloutId

/** The workload: event i is an agent ProbeResult of host i % HOSTS, with that host's new record. */
interface Workload {
  readonly records: ReadonlyArray<HostRolloutState>
  readonly entries: ReadonlyArray<EventLogEntry>
}

const makeWorkload = (events: number): Workload => {
  const records: Array<HostRolloutState> = []
  const entries: Array<EventLogEntry> = []
  const encodeEvent = Schema.encodeSync(OutboundAgentEvent)
  for (let i = 0; i < events; i++) {
    const hostname = `host-${(i % HOSTS).toString().padStart(4, "0")}` as HostId
    const seq = Math.floor(i / HOSTS) + 1
    const at = ts(T0 + i)
    records.push({
      ...newPending({ rolloutId: ROLLOUT, hostname, channel: "stable" as ChannelId, targetClosure: "target" as ClosureHash, dispatchedAt: T0, soakDueAt: T0 }),
      state: "Soaking",
      currentClosure: "target" as ClosureHash,
      probes: { http: { status: "pass", mode: "enforce", lastObservedAt: at, lastPassAt: at, failureReason: null } } as HostRolloutState["probes"],
      lastEventSeq: seq
    })
    const payload = encodeEvent({
      _tag: "ProbeResult",
      probeName: "http" as ProbeName,
      mode: "enforce",
      status: "pass",
      observedAt: at,
      failureReason: null,
      subResults: null,
      seq
    })
    entries.push({ kind: "agent_event", rolloutId: ROLLOUT, hostname, agentSeq: seq, at, payload })
  }
  return { records, entries }
}

const freshFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-bench-"))
  return { filename: join(dir, "cp.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A host record's 22 parameters (table column order), as the raw side binds them. */
const rawRecord = (r: HostRolloutState): ReadonlyArray<unknown> => [
  r.rolloutId, r.hostname, r.channel, r.state, r.targetClosure, r.currentClosureAtDispatch, r.currentClosure, r.revertedTo,
  r.dispatchedAt, r.dispatchAckedAt, r.activationStartedAt, r.activationCompletedAt, r.activationFailedAt, r.probeObservedFirstAt,
  r.probeFailureFirstAt, r.soakDueAt, r.convergedAt, r.failedAt, r.policyApplied, r.revertedAt, JSON.stringify(r.probes), r.lastEventSeq
]

/** An event's 6 parameters, as the raw side binds them. */
const rawEntry = (e: EventLogEntry): ReadonlyArray<unknown> => [e.at, e.kind, e.rolloutId, e.hostname, e.agentSeq, JSON.stringify(e.payload)]

const values = (columns: number, rows: number) =>
  Array.from({ length: rows }, () => `(${Array.from({ length: columns }, () => "?").join(", ")})`).join(", ")

/**
 * Raw better-sqlite3, one `db.transaction` per batch, with prepared statements of
 * `rowsPerStatement` rows (1: a statement per event; more: multi-row, as the adapter does).
 */
const runRaw = (w: Workload, rowsPerStatement: number): number => {
  const { cleanup, filename } = freshFile()
  const db = new Database(filename)
  try {
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.pragma("foreign_keys = ON")
    const t = cpTables("")
    for (const ddl of cpSchemaV1(t)) db.exec(ddl)
    db.prepare(`INSERT INTO ${t.rollouts} (rollout_id, channel, target_ref, state, opened_at) VALUES (?, 'stable', 'bench', 'Active', ?)`).run(
      ROLLOUT,
      T0
    )
    const upsert = db.prepare(`INSERT INTO ${t.hostRecords} VALUES ${values(22, rowsPerStatement)}
      ON CONFLICT (rollout_id, hostname) DO UPDATE SET state = excluded.state, current_closure = excluded.current_closure,
      probes_json = excluded.probes_json, last_event_seq = excluded.last_event_seq`)
    const append = db.prepare(
      `INSERT INTO ${t.eventLog} (ts, kind, rollout_id, host_id, agent_seq, payload) VALUES ${values(6, rowsPerStatement)} ON CONFLICT DO NOTHING`
    )
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i += rowsPerStatement) {
        upsert.run(...w.records.slice(i, i + rowsPerStatement).flatMap(rawRecord))
        append.run(...w.entries.slice(i, i + rowsPerStatement).flatMap(rawEntry))
      }
    })
    const start = performance.now()
    for (let i = 0; i < w.records.length; i += BATCH) batch(i, Math.min(w.records.length, i + BATCH))
    return w.records.length / ((performance.now() - start) / 1000)
  } finally {
    db.close()
    cleanup()
  }
}

/** The Storage + EventLog adapter: one `Storage.transaction` per `batch` upserts and appends. */
const runAdapter = (w: Workload, batch: number): Promise<number> => {
  const { cleanup, filename } = freshFile()
  const program = Effect.gen(function* () {
    const storage = yield* Storage
    const log = yield* EventLog
    yield* storage.openRollout({ rolloutId: ROLLOUT, channel: "stable" as ChannelId, targetRef: "bench" as ChannelRef, openedAt: T0 })
    const start = performance.now()
    for (let i = 0; i < w.records.length; i += batch) {
      const to = Math.min(w.records.length, i + batch)
      yield* storage.transaction(Effect.zip(storage.upsertHostRecords(w.records.slice(i, to)), log.appendBatch(w.entries.slice(i, to))))
    }
    return w.records.length / ((performance.now() - start) / 1000)
  }).pipe(Effect.provide(layerSqlite({ filename })))
  return Effect.runPromise(program).finally(cleanup)
}

const best = async (run: () => number | Promise<number>): Promise<number> => {
  let top = 0
  for (let round = 0; round < ROUNDS; round++) top = Math.max(top, await run())
  return top
}

/** The storage suite. */
export const suite: BenchSuite = {
  name: "storage",
  run: async (): Promise<ReadonlyArray<BenchRow>> => {
    const w = makeWorkload(EVENTS)
    const rawSingle = await best(() => runRaw(w, 1))
    const rawMulti = await best(() => runRaw(w, RAW_ROWS))
    const adapter = await best(() => runAdapter(w, BATCH))
    const perEvent = await runAdapter(makeWorkload(5_000), 1)
    const ratio = adapter / Math.max(rawSingle, rawMulti)
    const setup = `${si(EVENTS)} events, ${HOSTS} hosts, ${BATCH} events per transaction`
    return [
      { benchmark: `raw better-sqlite3, single-row statements (${setup})`, result: `${si(rawSingle)} events/s`, target: "", met: null },
      { benchmark: `raw better-sqlite3, ${RAW_ROWS}-row statements (${setup})`, result: `${si(rawMulti)} events/s`, target: "", met: null },
      { benchmark: `SQLite adapter upsertHostRecords + appendBatch (${setup})`, result: `${si(adapter)} events/s`, target: "", met: null },
      { benchmark: "adapter / best raw ceiling", result: ratio.toFixed(2), target: ">= 0.50", met: ratio >= 0.5 },
      { benchmark: "SQLite adapter, one transaction per event (the reducer's unbatched path, 5 k events)", result: `${si(perEvent)} events/s`, target: "", met: null }
    ]
  }
}
