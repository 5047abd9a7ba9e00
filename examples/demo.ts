/**
 * `npm run demo` (tsx examples/demo.ts): the whole system in one process. Signs the sample fleet
 * (3 channels × 20 hosts, waves, host and channel edges, a disruption budget; the canary of the
 * rollback-and-halt channel gets a probe that fails), starts the control plane on embedded
 * SQLite and one agent per simulated host (each call through the CP's HTTP API, in-process),
 * and runs the rollout on a virtual clock: hours of
 * simulated soak windows in seconds of wall time. Shows a live view every simulated minute, then
 * a summary. Exits 0 when the outcome is the expected one: every channel Terminal except the
 * failing canary's, which is Failed with the canary Reverted and its closure quarantined.
 *
 * Flags:
 *   --hosts N    hosts per channel (default 20; 3 channels, so 60 hosts)
 *   --seed S     seeds the activation-time jitter (default 1)
 *   --fast       no live redraw: a frame every 15 simulated minutes
 *   --memory     in-memory storage instead of SQLite
 *   --db PATH    the SQLite file (default: a temporary file, removed afterwards)
 *
 * Invariant: output is plain text; redraws (clear screen) happen only when stdout is a TTY.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { renderFrame, renderSummary, simulate } from "../src/sim/index.js"

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    fast: { type: "boolean", default: false },
    memory: { type: "boolean", default: false },
    db: { type: "string" }
  }
})
const hostsPerChannel = Number(values.hosts)
const seed = Number(values.seed)
if (!Number.isInteger(hostsPerChannel) || hostsPerChannel < 1 || !Number.isInteger(seed)) {
  console.error("usage: demo [--hosts N (≥ 1, per channel)] [--seed S (integer)] [--fast] [--memory] [--db PATH]")
  process.exit(2)
}

const tty = process.stdout.isTTY === true && !values.fast
const tempDir = values.memory || values.db !== undefined ? null : mkdtempSync(join(tmpdir(), "effect-fleet-demo-"))
const filename = values.db ?? (tempDir === null ? null : join(tempDir, "demo.db"))
const frameEvery = values.fast ? 15 * 60 : tty ? 60 : 5 * 60

console.log(
  `effect-fleet demo: 3 channels × ${hostsPerChannel} hosts, seed ${seed}, storage ${filename === null ? "memory" : `SQLite (${filename})`}`
)
const started = Date.now()
const program = simulate({
  seed,
  // Every agent call through the CP's full HTTP stack in-process: the demo shows the real wire.
  transport: "http",
  hostsPerChannel,
  storage: filename === null ? { _tag: "memory" } : { _tag: "sqlite", filename },
  checkEverySeconds: 60,
  onFrame: (frame) =>
    Effect.sync(() => {
      if (frame.elapsedSeconds % frameEvery !== 0) return
      if (tty) process.stdout.write("\x1b[H\x1b[2J")
      console.log(renderFrame(frame))
    })
})

Effect.runPromise(program).then(
  (result) => {
    console.log(renderSummary(result, Date.now() - started))
    if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true })
    process.exit(result.outcome.ok ? 0 : 1)
  },
  (error: unknown) => {
    console.error("demo failed:", error)
    if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true })
    process.exit(1)
  }
)
