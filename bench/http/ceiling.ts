/**
 * The machine's physical ceiling for the events workload: a raw `node:http` server in a child
 * process that does, per `POST /v1/agent/events`, only what persisting an event needs — read the
 * body, `JSON.parse` it, update the host's record in memory — and group-commits everything that
 * arrived in one event-loop turn (flushed from `setImmediate`) to raw better-sqlite3 on the CP's
 * own schema and pragmas (`cpSchemaV1`, WAL, synchronous NORMAL, foreign keys on): a 22-column
 * host-record upsert and an `agent_event` row insert per event, answering 204 only after the
 * transaction committed. No validation, no authentication, no Effect. Loaded by the same
 * autocannon event run as the CP (bench/http/agents.ts), it bounds what any implementation of the
 * events route can reach on this machine with the load generator sharing its cores.
 *
 * Invariants: the child listens on 127.0.0.1 only, works on a temporary directory and is always
 * killed (the directory removed); a 204 is sent only for an event whose rows committed, and the
 * parent checks the stored `agent_event` rows against the 2xx answers; the child's own CPU time
 * is measured (user + system, `process.cpuUsage` over IPC).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { cpSchemaV1, cpTables } from "../../adapters/sqlite/schema.js"
import { HOST_RECORD_COLUMNS } from "../../adapters/sqlite/rows.js"
import { type LoadResult, runEvents, type SimHost } from "./agents.js"
import { startChildServer } from "./floor.js"
import { countEventLog } from "./launcher.js"

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/**
 * The server, plain CommonJS for `node -e` (no tsx on its path). The DDL, the host-record
 * columns and the database path come in through the environment.
 */
const SERVER = `
const http = require("node:http")
const Database = require("better-sqlite3")
const ddl = JSON.parse(process.env.CEILING_DDL)
const columns = JSON.parse(process.env.CEILING_COLUMNS)
const db = new Database(process.env.CEILING_DB)
db.pragma("journal_mode = WAL")
db.pragma("synchronous = NORMAL")
db.pragma("foreign_keys = ON")
for (const statement of ddl) db.exec(statement)
const updates = columns.filter((c) => c !== "rollout_id" && c !== "hostname").map((c) => c + " = excluded." + c).join(", ")
const upsert = db.prepare("INSERT INTO host_rollout_records (" + columns.join(", ") + ") VALUES (" + columns.map(() => "?").join(", ") +
  ") ON CONFLICT (rollout_id, hostname) DO UPDATE SET " + updates)
const append = db.prepare("INSERT INTO event_log (ts, kind, rollout_id, host_id, agent_seq, payload) VALUES (?, 'agent_event', ?, ?, ?, ?) ON CONFLICT DO NOTHING")
const openRollout = db.prepare("INSERT INTO rollouts (rollout_id, channel, target_ref, state, opened_at) VALUES (?, 'bench', 'bench', 'Active', ?) ON CONFLICT DO NOTHING")
const STATE = { DispatchAck: "Pending", ActivationStarted: "Activating", ActivationCompleted: "Soaking", ProbeResult: "Soaking" }
const records = new Map()
const rollouts = new Set()
let pending = []
const commit = db.transaction((batch) => {
  for (const p of batch) {
    if (!rollouts.has(p.rolloutId)) openRollout.run(p.rolloutId, p.at)
    upsert.run(p.record)
    append.run(p.at, p.rolloutId, p.hostname, p.seq, p.payload)
  }
})
const flush = () => {
  const batch = pending
  pending = []
  try {
    commit(batch)
    for (const p of batch) rollouts.add(p.rolloutId)
    for (const p of batch) { p.res.writeHead(204); p.res.end() }
  } catch (e) {
    for (const p of batch) { p.res.writeHead(500); p.res.end(String(e)) }
  }
}
const server = http.createServer((req, res) => {
  const chunks = []
  req.on("data", (c) => chunks.push(c))
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/agent/events") { res.writeHead(404); res.end(); return }
    let body
    try { body = JSON.parse(Buffer.concat(chunks).toString("utf8")) } catch { res.writeHead(400); res.end(); return }
    const at = Date.now()
    const key = body.rolloutId + " " + body.hostname
    let record = records.get(key)
    if (record === undefined) {
      record = [body.rolloutId, body.hostname, "bench", "Pending", "target", null, null, null, at, null, null, null, null, null, null, at, null, null, null, null, "{}", 0]
      records.set(key, record)
    }
    record[3] = STATE[body.event.kind] || "Soaking"
    record[9] = record[9] === null ? at : record[9]
    record[20] = body.event.kind === "ProbeResult" ? JSON.stringify({ [body.event.probeName]: { status: body.event.status, mode: body.event.mode, lastObservedAt: body.event.observedAt } }) : record[20]
    record[21] = body.event.seq
    if (pending.length === 0) setImmediate(flush)
    pending.push({ res, at, rolloutId: body.rolloutId, hostname: body.hostname, seq: body.event.seq, record, payload: JSON.stringify(body.event) })
  })
})
server.keepAliveTimeout = 60000
server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port) + "\\n"))
process.on("message", () => { const u = process.cpuUsage(); process.send(u.user + u.system) })
`

/** What the ceiling run measured. */
export interface CeilingResult {
  readonly r: LoadResult
  /** Server CPU milliseconds per 2xx answer. */
  readonly cpuPerOk: number
  /** `agent_event` rows stored (checked against the 2xx answers). */
  readonly rows: number
}

/** Runs the event load (`events` distinct events over `connections`) against the ceiling server. */
export const measureCeiling = async (agents: ReadonlyArray<SimHost>, connections: number, events: number): Promise<CeilingResult> => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-bench-ceiling-"))
  const dbPath = join(dir, "ceiling.db")
  try {
    const server = await startChildServer(SERVER, {
      cwd: projectRoot,
      env: { CEILING_DB: dbPath, CEILING_DDL: JSON.stringify(cpSchemaV1(cpTables(""))), CEILING_COLUMNS: JSON.stringify(HOST_RECORD_COLUMNS) }
    })
    try {
      const before = await server.cpuMicros()
      const r = await runEvents(agents, { baseUrl: `http://127.0.0.1:${server.port}`, connections, stop: { amount: events } })
      const used = (await server.cpuMicros()) - before
      return { r, cpuPerOk: r.ok > 0 ? used / 1000 / r.ok : Number.NaN, rows: countEventLog(dbPath, "agent_event") }
    } finally {
      await server.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
