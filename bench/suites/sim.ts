/**
 * Simulator benchmark (issue 7): a simulated rollout of 1k, 10k and 100k hosts on the virtual
 * clock — one channel, 4 waves (canary, then three thirds), the sample fleet's soak (5 min for
 * the canary wave, 10 min for the others), the disruption budget as large as the channel so the
 * waves are paced by soak alone, no failing canary, memory storage, the "direct" transport (agents
 * call the CP's AgentEndpoint), invariants OFF. Target: 10k hosts end to end in under 10 s of
 * wall time. Two modes, each its own rows:
 * - real agents: every real CP and agent fiber (the full simulation);
 * - SCALE MODE: the real CP with one scripted host per host (src/sim/scriptedHost.ts: the least a
 *   healthy agent reports, no agent runtime). Its rows measure the CP, never a real agent fleet.
 * Each mode ends with a FLOOR row at 10k hosts (bench/simFloor.ts): the Effect runtime alone doing
 * that mode's wake-ups and CP round trips per host, as its largest finished size measured them,
 * with no work at all — the least any simulation on these primitives can cost, whatever our code
 * does (SIM_BENCH_FLOOR=0 skips it).
 *
 * How: each size runs in its own child process (this file with `--child <hosts> <mode>`), so its peak
 * RSS (`resourceUsage().maxRSS`) and peak heap (sampled every simulated minute) are its own. The
 * child reports progress every simulated minute; a size that has not finished within
 * SIM_BENCH_CAP_SECONDS of wall time (default 600) is stopped, and its row says how far it got
 * and extrapolates from there, labelled as such. Sizes run in order (SIM_BENCH_SIZES, default
 * "1000,10000,100000"); sizes above SIM_BENCH_MAX_HOSTS (default 10,000) are not started — real
 * agents would not fit this 24 GiB machine, and neither mode could finish within the cap — and
 * their row is a linear extrapolation from the largest size measured, labelled as such. Every
 * row gives wall and CPU time (the machine is shared: CPU time is the steadier figure).
 *
 * Invariant: every figure is measured by this run or explicitly marked as an extrapolation; the
 * child never outlives its row (killed at the cap or when the parent exits).
 */
import { spawn } from "node:child_process"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { simulate } from "../../src/sim/index.js"
import { type BenchRow, type BenchSuite, cpuMs } from "../lib.js"
import { type FloorResult, type FloorWorkload, runFloor } from "../simFloor.js"

const WAVES = 4
const TARGET_HOSTS = 10_000
const TARGET_SECONDS = 10
const FRAME_SECONDS = 60
const sizes = (process.env.SIM_BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0)
/** The modes measured (SIM_BENCH_MODES, default both). */
const modes = (process.env.SIM_BENCH_MODES ?? "real,scripted").split(",").filter((m): m is Mode => m === "real" || m === "scripted")
const capSeconds = Number(process.env.SIM_BENCH_CAP_SECONDS ?? 600)
/** Whether each mode ends with its runtime-floor row at the target size (SIM_BENCH_FLOOR=0 skips it). */
const floorEnabled = process.env.SIM_BENCH_FLOOR !== "0"
/** Sizes above this are never started (their memory alone would not fit); their row is an extrapolation. */
const maxStarted = Number(process.env.SIM_BENCH_MAX_HOSTS ?? 10_000)
/** The rollout's simulated length when nothing measured it: soak 5 + 10 + 10 + 10 min, plus activations and plan ticks. */
const EXPECTED_SIMULATED_SECONDS = 40 * 60

/** What runs on the simulated hosts. */
type Mode = "real" | "scripted"

/** A child's progress line (every simulated minute) and its last line (`done`, or `floor` for a floor run). */
type Report =
  | { readonly kind: "progress"; readonly simulatedSeconds: number; readonly wallMs: number; readonly cpuMs: number; readonly heapMiB: number }
  | ({ readonly kind: "floor"; readonly peakRssMiB: number } & FloorResult)
  | {
      readonly kind: "done"
      readonly wallMs: number
      readonly cpuMs: number
      readonly setupMs: number
      readonly simulatedSeconds: number
      readonly events: number
      /** The agent_event entries among `events` (the hosts' round trips to the CP). */
      readonly agentEvents: number
      /** Sleeps started on the virtual clock (timer wake-ups). */
      readonly sleeps: number
      readonly ok: boolean
      readonly violations: number
      readonly peakRssMiB: number
      readonly peakHeapMiB: number
    }

const mib = (bytes: number) => Math.round(bytes / 2 ** 20)


/** The child: one simulation of `hosts` hosts in `mode`, reporting on stdout as JSON lines. */
const child = async (hosts: number, mode: Mode) => {
  const emit = (report: Report) => process.stdout.write(JSON.stringify(report) + "\n")
  const started = performance.now()
  const cpuAtStart = cpuMs()
  let setupMs: number | null = null
  let peakHeap = 0
  const result = await Effect.runPromise(
    simulate({
      seed: 1,
      channels: 1,
      hostsPerChannel: hosts,
      waves: WAVES,
      maxInFlight: hosts,
      failingCanary: false,
      checkInvariants: false,
      transport: "direct",
      agents: mode,
      frameSeconds: FRAME_SECONDS,
      onFrame: (frame) =>
        Effect.sync(() => {
          const wallMs = performance.now() - started
          setupMs ??= wallMs
          const heap = process.memoryUsage().heapUsed
          peakHeap = Math.max(peakHeap, heap)
          emit({ kind: "progress", simulatedSeconds: frame.elapsedSeconds, wallMs, cpuMs: cpuMs() - cpuAtStart, heapMiB: mib(heap) })
        })
    })
  )
  emit({
    kind: "done",
    wallMs: performance.now() - started,
    cpuMs: cpuMs() - cpuAtStart,
    setupMs: setupMs ?? 0,
    simulatedSeconds: result.simulatedSeconds,
    events: result.log.length,
    agentEvents: result.log.filter((e) => e.kind === "agent_event").length,
    sleeps: result.clockSleeps,
    ok: result.outcome.ok,
    violations: result.violations.length,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMiB: mib(Math.max(peakHeap, process.memoryUsage().heapUsed))
  })
}

/** Runs one size in a child process; resolves with its reports (the last one `done` unless it was stopped at the cap). */
const runChild = (hosts: number, mode: Mode) => spawnChild(["--child", String(hosts), mode], `sim ${mode} ${hosts}`)

/** Runs this file as a child with `args`; resolves with its reports once it exits (or is stopped at the cap). */
const spawnChild = (args: ReadonlyArray<string>, label: string): Promise<{ readonly reports: ReadonlyArray<Report>; readonly peakRssMiB: number }> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--max-old-space-size=16384", "--import", "tsx", fileURLToPath(import.meta.url), ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    const reports: Array<Report> = []
    let peakRssMiB = 0
    let buffered = ""
    proc.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop() ?? ""
      for (const line of lines) {
        if (!line.startsWith("{")) continue
        const report = JSON.parse(line) as Report
        reports.push(report)
        if (report.kind === "progress" && report.simulatedSeconds % 300 === 0) {
          process.stderr.write(`  ${label}: ${minutes(report.simulatedSeconds)} simulated after ${(report.wallMs / 1000).toFixed(0)} s wall, heap ${report.heapMiB} MiB\n`)
        }
      }
    })
    // Peak RSS of a child stopped at the cap: sampled from /proc while it runs.
    const sampler = setInterval(() => {
      void import("node:fs").then((fs) => {
        try {
          const status = fs.readFileSync(`/proc/${proc.pid}/status`, "utf8")
          const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
          if (hwm !== null) peakRssMiB = Math.max(peakRssMiB, Math.round(Number(hwm[1]) / 1024))
        } catch {
          // the child has exited
        }
      })
    }, 1000)
    const cap = setTimeout(() => proc.kill("SIGKILL"), capSeconds * 1000)
    const stop = () => proc.kill("SIGKILL")
    process.once("exit", stop)
    proc.on("error", reject)
    proc.on("exit", () => {
      clearInterval(sampler)
      clearTimeout(cap)
      process.removeListener("exit", stop)
      resolve({ reports, peakRssMiB })
    })
  })

const minutes = (seconds: number) => `${(seconds / 60).toFixed(0)} min`

const LABEL: Readonly<Record<Mode, string>> = {
  real: "real agents",
  scripted: "SCALE MODE: real CP + scripted hosts (minimal healthy protocol, no agent runtime)"
}

/** A row; the target applies to the full simulation (real agents) at 10k hosts only. */
const row = (hosts: number, mode: Mode, result: string, met: boolean | null = null): BenchRow => {
  const targeted = hosts === TARGET_HOSTS && mode === "real"
  return {
    benchmark: `simulated rollout, ${hosts.toLocaleString("en")} hosts, ${LABEL[mode]} (1 channel, ${WAVES} waves, soak 5/10/10/10 min, direct transport, memory, invariants off)`,
    result,
    target: targeted ? `< ${TARGET_SECONDS} s wall` : "",
    met: targeted ? met : null
  }
}

/** The row of a size that is not started: extrapolated from the largest measured one. */
const extrapolated = (hosts: number, mode: Mode, measured: Measured | null): BenchRow => {
  if (measured === null) return row(hosts, mode, "not run, and nothing measured to extrapolate from", false)
  const scale = hosts / measured.hosts
  const startup = (measured.startupSeconds * scale).toFixed(0)
  const rss = ((measured.peakRssMiB * scale) / 1024).toFixed(0)
  return row(
    hosts,
    mode,
    `not run (${maxStarted.toLocaleString("en")} hosts is the largest started). EXTRAPOLATED linearly from ${measured.hosts.toLocaleString("en")} hosts (×${scale}): start-up ≈ ${startup} s, peak RSS ≈ ${rss} GiB — linear because, measured at 500–2,000 hosts, each host costs the CP a fixed amount of work (its reports, its long-polls, and its share of every 15 s plan tick, which also logs one gate decision per deferred host: the spec logs DeferDispatch every tick), so the cost is hosts × rollout length; the Effect runtime and GC (~30 % of CPU) dominate, not any one O(hosts²) path`,
    false
  )
}

/**
 * The runtime floor at the target size for one mode: its per-host wake-ups and round trips as
 * measured by the largest size of that mode that finished (see bench/simFloor.ts).
 */
const floorRow = async (mode: Mode, basis: Extract<Report, { kind: "done" }> & { readonly hosts: number }): Promise<BenchRow> => {
  const workload: FloorWorkload = {
    hosts: TARGET_HOSTS,
    sleepsPerHost: basis.sleeps / basis.hosts,
    asksPerHost: basis.agentEvents / basis.hosts,
    simulatedSeconds: basis.simulatedSeconds
  }
  process.stderr.write(`  sim floor ${mode} ${TARGET_HOSTS}: starting (cap ${capSeconds} s)\n`)
  const { reports } = await spawnChild(["--floor", ...[workload.hosts, workload.sleepsPerHost, workload.asksPerHost, workload.simulatedSeconds].map(String)], `floor ${mode}`)
  const floor = reports.find((r): r is Extract<Report, { kind: "floor" }> => r.kind === "floor")
  const what = `Effect runtime FLOOR of the ${mode === "real" ? "real-agents" : "scale-mode"} workload at ${TARGET_HOSTS.toLocaleString("en")} hosts: one fiber per host sleeping on the simulator's virtual clock ${Math.round(workload.sleepsPerHost)} times and asking one consumer fiber (bounded Queue, reply Deferred) ${Math.round(workload.asksPerHost)} times over ${minutes(workload.simulatedSeconds)} simulated — the per-host counts (${workload.sleepsPerHost.toFixed(1)} and ${workload.asksPerHost.toFixed(1)}, rounded) of the ${basis.hosts.toLocaleString("en")}-host ${LABEL[mode]} run above — and doing nothing else (no request, reducer, storage or agent logic)`
  // The target applies to the real-agent workload only, as in `row`.
  const target = mode === "real" ? `< ${TARGET_SECONDS} s wall` : ""
  const judged = (met: boolean) => (mode === "real" ? met : null)
  if (floor === undefined) {
    return { benchmark: what, result: `no result: stopped at the ${capSeconds} s cap, or failed (see the bench's stderr)`, target, met: judged(false) }
  }
  const wall = floor.wallMs / 1000
  return {
    benchmark: what,
    result: `${wall.toFixed(1)} s wall, ${(floor.cpuMs / 1000).toFixed(1)} s CPU, ${floor.sleeps.toLocaleString("en")} wake-ups, ${floor.asks.toLocaleString("en")} round trips, peak RSS ${floor.peakRssMiB} MiB; load ${loadavg()[0]?.toFixed(1)}`,
    target,
    met: judged(wall < TARGET_SECONDS)
  }
}

/** What a size measured (finished or not), for extrapolating larger ones. */
interface Measured {
  readonly hosts: number
  readonly startupSeconds: number
  readonly peakRssMiB: number
}

const run = async (): Promise<ReadonlyArray<BenchRow>> => {
  const rows: Array<BenchRow> = []
  for (const mode of modes) rows.push(...(await runMode(mode)))
  return rows
}

/** Every size of one mode, in order; a size not started is extrapolated from the largest measured. */
const runMode = async (mode: Mode): Promise<ReadonlyArray<BenchRow>> => {
  const rows: Array<BenchRow> = []
  let measured: Measured | null = null
  let basis: (Extract<Report, { kind: "done" }> & { readonly hosts: number }) | null = null
  let expected = EXPECTED_SIMULATED_SECONDS
  for (const hosts of sizes) {
    if (hosts > maxStarted) {
      rows.push(extrapolated(hosts, mode, measured))
      continue
    }
    process.stderr.write(`  sim ${mode} ${hosts}: starting (cap ${capSeconds} s)\n`)
    const { peakRssMiB, reports } = await runChild(hosts, mode)
    const done = reports.find((r): r is Extract<Report, { kind: "done" }> => r.kind === "done")
    const progress = reports.filter((r): r is Extract<Report, { kind: "progress" }> => r.kind === "progress")
    const peakHeap = Math.max(0, ...progress.map((p) => p.heapMiB))
    const load = loadavg()[0]?.toFixed(1)
    if (done !== undefined) {
      const wall = done.wallMs / 1000
      rows.push(
        row(
          hosts,
          mode,
          `${wall.toFixed(1)} s wall, ${(done.cpuMs / 1000).toFixed(1)} s CPU (start-up ${(done.setupMs / 1000).toFixed(1)} s), ${minutes(done.simulatedSeconds)} simulated, ${done.events.toLocaleString("en")} events, peak RSS ${done.peakRssMiB} MiB, peak heap ${Math.max(done.peakHeapMiB, peakHeap)} MiB, outcome ${done.ok ? "ok" : "NOT ok"}, end-of-run violations ${done.violations}; load ${load}`,
          wall < TARGET_SECONDS
        )
      )
      measured = { hosts, startupSeconds: done.setupMs / 1000, peakRssMiB: done.peakRssMiB }
      basis = { ...done, hosts }
      expected = done.simulatedSeconds
      continue
    }
    const first = progress[0]
    const last = progress.at(-1)
    const reached = last?.simulatedSeconds ?? 0
    const rate = first !== undefined && last !== undefined && reached > 0 ? (last.wallMs - first.wallMs) / 1000 / reached : null
    const estimate = rate === null || first === undefined ? null : first.wallMs / 1000 + rate * expected
    if (first !== undefined) measured = { hosts, startupSeconds: first.wallMs / 1000, peakRssMiB }
    rows.push(
      row(
        hosts,
        mode,
        `did not finish within the ${capSeconds} s cap${last === undefined ? "" : ` (${(last.cpuMs / 1000).toFixed(0)} s CPU)`}: ${first === undefined ? "start-up (every agent started and through its boot handshake) not done" : `start-up ${(first.wallMs / 1000).toFixed(0)} s, then ${minutes(reached)} simulated`}; peak RSS ${peakRssMiB} MiB${peakHeap > 0 ? `, peak heap ${peakHeap} MiB` : ""}${estimate === null ? "" : `; EXTRAPOLATED at that rate to a ${minutes(expected)} rollout: ≈ ${estimate.toFixed(0)} s wall`}; load ${load}`,
        false
      )
    )
  }
  if (basis !== null && floorEnabled) rows.push(await floorRow(mode, basis))
  return rows
}

/** The simulated-rollout benchmark. */
export const suite: BenchSuite = { name: "sim", run }

if (process.argv[2] === "--child") await child(Number(process.argv[3]), process.argv[4] === "scripted" ? "scripted" : "real")
if (process.argv[2] === "--floor") {
  const [hosts, sleepsPerHost, asksPerHost, simulatedSeconds] = process.argv.slice(3).map(Number)
  const result = await runFloor({ hosts: hosts ?? 0, sleepsPerHost: sleepsPerHost ?? 0, asksPerHost: asksPerHost ?? 0, simulatedSeconds: simulatedSeconds ?? 0 })
  const report: Report = { kind: "floor", ...result, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }
  process.stdout.write(JSON.stringify(report) + "\n")
}
