/**
 * The machine's HTTP floor: a plain `node:http` server in a child process that answers every
 * request with 200 and does nothing else, loaded by the same autocannon settings as the CP. It
 * bounds what any Node HTTP service can reach on this machine with the load generator sharing its
 * cores, and puts the CP's figures in proportion.
 *
 * Invariants: the child listens on 127.0.0.1 only and is always killed; the figures come from the
 * same `runHealthz` load as the CP's /healthz row, and the child's own CPU time is measured.
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

/** Loads a do-nothing node:http server for `seconds` with `connections`; returns the load and its CPU ms per request. */
export const measureHttpFloor = async (connections: number, seconds: number): Promise<{ readonly r: LoadResult; readonly cpuPerOk: number }> => {
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit", "ipc"] })
  try {
    if (child.stdout === null) throw new Error("the floor server has no stdout")
    const [chunk] = (await once(child.stdout, "data")) as [Buffer]
    const port = Number(chunk.toString().trim())
    const cpu = async () => {
      child.send("cpu")
      const [micros] = (await once(child, "message")) as [number]
      return micros
    }
    const before = await cpu()
    const r = await runHealthz({ baseUrl: `http://127.0.0.1:${port}`, connections, stop: { duration: seconds } })
    const used = (await cpu()) - before
    return { r, cpuPerOk: r.ok > 0 ? used / 1000 / r.ok : Number.NaN }
  } finally {
    child.kill("SIGKILL")
  }
}
