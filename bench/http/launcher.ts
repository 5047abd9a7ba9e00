/**
 * Starts the benchmark's control plane (bench/http/cp.ts) as a child process on a temporary
 * directory, waits until it serves with every rollout open, reads its SQLite file, and stops it.
 *
 * Invariants: the child listens on 127.0.0.1 only; `start` resolves only once `/readyz` answers
 * 200 and every host has a record (all rollouts opened); `stop` always ends the child (SIGTERM,
 * then SIGKILL after a grace period) and removes the directory unless asked to keep it.
 */
import Database from "better-sqlite3"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { HostId } from "../../src/domain/ids.js"
import { PROTOCOL_HEADER, PROTOCOL_HEADER_VALUE } from "../../src/wire/protocol.js"

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
const START_TIMEOUT_MS = 180_000
const STOP_GRACE_MS = 20_000

/** What the CP is started with. */
export interface CpOptions {
  readonly channels: number
  readonly hostsPerChannel: number
  /** Each host's bearer token. */
  readonly tokens: ReadonlyMap<HostId, string>
  /** Write a V8 CPU profile of the CP into this directory (`--cpu-prof`). */
  readonly cpuProfDir?: string
  /** Extra flags for bench/http/cp.ts (e.g. `--poll-seconds`). */
  readonly extraArgs?: ReadonlyArray<string>
}

/** A running benchmark CP. */
export interface CpProcess {
  readonly baseUrl: string
  readonly dbPath: string
  /** GET a JSON operator route with the operator token. */
  readonly getJson: (path: string) => Promise<unknown>
  /** CPU time (user + system) the CP process has used so far, milliseconds (from /proc). */
  readonly cpuMillis: () => number
  /** Stops the child and removes its directory. */
  readonly stop: () => Promise<void>
}

interface FleetStatusView {
  readonly rollouts: ReadonlyArray<{ readonly hostCounts: Readonly<Record<string, number>> }>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resolves with the port from the child's `READY <port>` line; rejects if it exits first. */
const readyPort = (child: ChildProcess, tail: Array<string>): Promise<number> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    const timer = setTimeout(() => reject(new Error(`CP not ready within ${START_TIMEOUT_MS} ms:\n${tail.join("")}`)), START_TIMEOUT_MS)
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8")
      const m = /^READY (\d+)$/m.exec(buffer)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
      if (buffer.length > 1 << 16) buffer = buffer.slice(-1024)
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`CP exited (${code}) before it was ready:\n${tail.join("")}`))
    })
  })

/** Keeps the last lines the child wrote (for error messages). */
const keepTail = (child: ChildProcess): Array<string> => {
  const tail: Array<string> = []
  const push = (chunk: Buffer) => {
    tail.push(chunk.toString("utf8"))
    if (tail.length > 40) tail.shift()
  }
  child.stdout?.on("data", push)
  child.stderr?.on("data", push)
  return tail
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()))

/** Starts the CP and waits until every host has a Pending record. */
export const startCp = async (options: CpOptions): Promise<CpProcess> => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-bench-http-"))
  const tokensFile = join(dir, "tokens.json")
  const operatorToken = randomBytes(16).toString("hex")
  writeFileSync(tokensFile, JSON.stringify(Object.fromEntries([...options.tokens].map(([host, token]) => [token, host]))))
  const args = [
    "--import",
    "tsx",
    ...(options.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`]),
    join(projectRoot, "bench", "http", "cp.ts"),
    "--dir",
    dir,
    "--channels",
    String(options.channels),
    "--hosts-per-channel",
    String(options.hostsPerChannel),
    "--tokens-file",
    tokensFile,
    "--operator-token",
    operatorToken,
    ...(options.extraArgs ?? [])
  ]
  const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] })
  const tail = keepTail(child)
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS)
      await exited(child)
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const port = await readyPort(child, tail)
    const baseUrl = `http://127.0.0.1:${port}`
    const getJson = async (path: string): Promise<unknown> => {
      const response = await fetch(`${baseUrl}${path}`, {
        headers: { authorization: `Bearer ${operatorToken}`, [PROTOCOL_HEADER]: PROTOCOL_HEADER_VALUE }
      })
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
      return response.json()
    }
    const hosts = options.channels * options.hostsPerChannel
    const deadline = Date.now() + START_TIMEOUT_MS
    while (true) {
      const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.ok, () => false)
      if (ready) {
        const status = (await getJson("/v1/fleet/status")) as FleetStatusView
        const pending = status.rollouts.reduce((n, r) => n + (r.hostCounts["Pending"] ?? 0), 0)
        if (status.rollouts.length === options.channels && pending === hosts) break
      }
      if (Date.now() > deadline) throw new Error(`CP did not open every rollout within ${START_TIMEOUT_MS} ms:\n${tail.join("")}`)
      await sleep(200)
    }
    const pid = child.pid
    if (pid === undefined) throw new Error("CP has no pid")
    return { baseUrl, dbPath: join(dir, "cp.db"), getJson, cpuMillis: () => processCpuMillis(pid), stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100

/** User + system CPU time of a process, milliseconds (Linux /proc, fields 14 and 15 of stat); NaN elsewhere. */
export const processCpuMillis = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ
  } catch {
    return Number.NaN
  }
}

/** Event-log entries of `kind` in the CP's SQLite file (read-only, beside the running CP: WAL). */
export const countEventLog = (dbPath: string, kind: string): number => {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    const row = db.prepare("SELECT count(*) AS n FROM event_log WHERE kind = ?").get(kind) as { readonly n: number }
    return row.n
  } finally {
    db.close()
  }
}
