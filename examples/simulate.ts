/**
 * The longer soak (issue 7): `tsx examples/simulate.ts` runs the simulator over many seeds, with
 * the chosen faults, checks every invariant and the expected outcome of each run, prints one line
 * per seed and a summary, and exits 1 when any run broke an invariant or ended otherwise than
 * expected (2 on bad flags). CI runs SIM_SEEDS small runs per fault scenario in test/sim; this
 * is the same thing for as many seeds as you like.
 *
 * Flags:
 *   --seeds N        how many seeds (default 20)
 *   --first-seed S   the first seed (default 1); seeds S .. S+N-1 run
 *   --hosts N        hosts per channel (default 3)
 *   --channels N     channels (default 2)
 *   --waves N        waves per channel (default 2)
 *   --max-in-flight N  the fleet's disruption budget (default 5)
 *   --faults LIST    comma-separated faults (default none), or "all"; one of: transientProbe,
 *                    agentCrash, offline, deferred, cpRestart, cpWipe, netDrop, netResponseLost,
 *                    netDuplicate, netDelay, netReorder
 *   --sqlite         SQLite storage in a temporary directory instead of memory
 *   --transport T    how agents reach the CP: direct (default: its AgentEndpoint) or http (its
 *                    full HTTP stack, in-process)
 *   --canary C       the last channel's canary: rollback (default: its probe fails, the channel's
 *                    policy rolls it back and quarantines its closure), halt (it fails and stays
 *                    Failed) or healthy (no failing probe)
 *   --quiet          only failing seeds and the summary
 *
 * Invariant: a run's verdict is the simulator's own (violations with their seed and step, the
 * outcome check); the script only chooses seeds and prints.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { ALL_FAULTS, type Fault, formatDuration, simulate } from "../src/sim/index.js"

const usage = `usage: simulate [--seeds N] [--first-seed S] [--hosts N] [--channels N] [--waves N] [--max-in-flight N] [--faults LIST|all] [--sqlite] [--transport direct|http] [--canary rollback|halt|healthy] [--quiet]
faults: ${ALL_FAULTS.join(", ")}`

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "20" },
    "first-seed": { type: "string", default: "1" },
    hosts: { type: "string", default: "3" },
    channels: { type: "string", default: "2" },
    waves: { type: "string", default: "2" },
    "max-in-flight": { type: "string", default: "5" },
    faults: { type: "string", default: "" },
    sqlite: { type: "boolean", default: false },
    transport: { type: "string", default: "direct" },
    canary: { type: "string", default: "rollback" },
    quiet: { type: "boolean", default: false }
  }
})

const positive = (text: string) => {
  const n = Number(text)
  return Number.isInteger(n) && n >= 1 ? n : null
}
const seeds = positive(values.seeds)
const firstSeed = Number(values["first-seed"])
const hostsPerChannel = positive(values.hosts)
const channels = positive(values.channels)
const waves = positive(values.waves)
const maxInFlight = positive(values["max-in-flight"])
const requested = values.faults === "all" ? ALL_FAULTS : values.faults.split(",").filter((f) => f.length > 0)
const unknown = requested.filter((f) => !(ALL_FAULTS as ReadonlyArray<string>).includes(f))
const transport = values.transport === "http" || values.transport === "direct" ? values.transport : null
const canary = values.canary === "rollback" || values.canary === "halt" || values.canary === "healthy" ? values.canary : null
if (transport === null || canary === null || seeds === null || hostsPerChannel === null || channels === null || waves === null || maxInFlight === null || !Number.isInteger(firstSeed) || unknown.length > 0) {
  if (unknown.length > 0) console.error(`unknown fault(s): ${unknown.join(", ")}`)
  console.error(usage)
  process.exit(2)
}
const faults = requested as ReadonlyArray<Fault>

const pad = (text: string | number, width: number) => String(text).padStart(width)
console.log(
  `soak: ${seeds} seeds from ${firstSeed}, ${channels} channels × ${hostsPerChannel} hosts, ${waves} waves, faults: ${faults.length === 0 ? "none" : faults.join(", ")}, storage ${values.sqlite ? "SQLite" : "memory"}, transport ${transport}, canary ${canary}`
)
if (!values.quiet) console.log(`${pad("seed", 6)}  ${pad("verdict", 7)}  ${pad("violations", 10)}  ${pad("simulated", 9)}  ${pad("events", 6)}  ${pad("wall ms", 7)}  injected`)

const program = Effect.gen(function* () {
  const failed: Array<number> = []
  const walls: Array<number> = []
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const dir = values.sqlite ? mkdtempSync(join(tmpdir(), "effect-fleet-soak-")) : null
    const started = performance.now()
    const result = yield* simulate({
      seed,
      channels,
      hostsPerChannel,
      waves,
      maxInFlight,
      faults,
      transport,
      failingCanary: canary !== "healthy",
      onCanaryFailure: canary === "halt" ? "halt" : "rollback-and-halt",
      storage: dir === null ? { _tag: "memory" } : { _tag: "sqlite", filename: join(dir, "cp.db") }
    }).pipe(Effect.ensuring(Effect.sync(() => dir !== null && rmSync(dir, { recursive: true, force: true }))))
    const wall = performance.now() - started
    walls.push(wall)
    const ok = result.outcome.ok && result.violations.length === 0
    if (!ok) failed.push(seed)
    const { network, ...counts } = result.injected
    const injected = [...Object.entries(counts), ...Object.entries(network)]
      .filter(([, n]) => typeof n === "number" && n > 0)
      .map(([kind, n]) => `${kind} ${String(n)}`)
      .join(", ")
    if (!values.quiet || !ok) {
      console.log(
        `${pad(seed, 6)}  ${pad(ok ? "ok" : "FAILED", 7)}  ${pad(result.violations.length, 10)}  ${pad(formatDuration(result.simulatedSeconds), 9)}  ${pad(result.log.length, 6)}  ${pad(wall.toFixed(0), 7)}  ${injected || "-"}`
      )
    }
    if (!ok) {
      for (const problem of result.outcome.problems) console.log(`        outcome: ${problem}`)
      for (const v of result.violations.slice(0, 10)) console.log(`        violation: ${JSON.stringify(v)}`)
    }
  }
  const sorted = [...walls].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0
  console.log(`${seeds - failed.length}/${seeds} seeds ok; wall per run: median ${median.toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`)
  if (failed.length > 0) console.log(`failing seeds: ${failed.join(", ")}`)
  return failed.length
})

Effect.runPromise(program).then(
  (failures) => process.exit(failures === 0 ? 0 : 1),
  (error: unknown) => {
    console.error("soak failed:", error)
    process.exit(1)
  }
)
