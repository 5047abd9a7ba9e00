/**
 * The machine's HTTP floor: a plain `node:http` server in a child process that answers every
 * request with 200 and does nothing else, loaded by the same autocannon settings as the CP. It
 * bounds what any Node HTTP service can reach on this machine with the load generator sharing its
 * cores, and puts the CP's figures in proportion.
 *
 * Invariants: the child listens on 127.0.0.1 only and is always killed; the figures come from the
 * same `runHealthz` load as the CP's /healthz row, and the child's own CPU time is measured. The
 * child-process plumbing (`startChildServer`) serves the ceiling server too (ceiling.ts).
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { type LoadResult, runHealthz } from "./agents.js"

const SERVER = `
const http = require("node:http")
const server = http.createServer((req, res) => {
  req.resume()
  req.on("end", () => { res.writeHead(200, { "content-type": "text/plain" }); res.end("ok") })
})
server.keepAliveTimeout = 60000
server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port) + "\\n"))
process.on("message", () => { const u = process.cpuUsage(); process.send(u.user + u.system) })
`

/** A server script running as a child process: its port, its CPU so far, and the way to stop it. */
export interface ChildServer {
  readonly port: number
  /** User + system CPU microseconds the child has used (its own `process.cpuUsage`, over IPC). */
  readonly cpuMicros: () => Promise<number>
  /** Kills the child and waits for it to exit. */
  readonly stop: () => Promise<void>
}

/**
 * Starts `script` (CommonJS, run with `node -e`, which prints its port on its first stdout line and
 * answers any IPC message with its CPU microseconds) with `env` added to this process's.
 */
export const startChildServer = async (script: string, options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>> } = {}): Promise<ChildServer> => {
  const child = spawn(process.execPath, ["-e", script], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    env: { ...process.env, ...options.env }
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, "exit")
    child.kill("SIGKILL")
    await exited
  }
  try {
    if (child.stdout === null) throw new Error("the child server has no stdout")
    const [chunk] = (await once(child.stdout, "data")) as [Buffer]
    const port = Number(chunk.toString().trim())
    const cpuMicros = async () => {
      child.send("cpu")
      const [micros] = (await once(child, "message")) as [number]
      return micros
    }
    return { port, cpuMicros, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Loads a do-nothing node:http server for `seconds` with `connections`; returns the load and its CPU ms per request. */
export const measureHttpFloor = async (connections: number, seconds: number): Promise<{ readonly r: LoadResult; readonly cpuPerOk: number }> => {
  const server = await startChildServer(SERVER)
  try {
    const before = await server.cpuMicros()
    const r = await runHealthz({ baseUrl: `http://127.0.0.1:${server.port}`, connections, stop: { duration: seconds } })
    const used = (await server.cpuMicros()) - before
    return { r, cpuPerOk: r.ok > 0 ? used / 1000 / r.ok : Number.NaN }
  } finally {
    await server.stop()
  }
}
