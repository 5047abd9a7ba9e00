/**
 * HTTP benchmark (issue 5): agent events per second through HTTP into the SQLite-backed control
 * plane, with 1,000 and 10,000 simulated agents on loopback, and the p50/p99 latency of events
 * and heartbeats. Target: 10k events/s with p99 under 50 ms.
 *
 * How: a real CP runs as its own process (bench/http/cp.ts: `layerRuntime` on a temporary SQLite
 * file, a freshly signed sample fleet in a directory, one bearer token per host); autocannon in
 * this process drives it over keep-alive connections to 127.0.0.1. Every event request is a
 * distinct, legal event of its host (DispatchAck, ActivationStarted, ActivationCompleted, then
 * ProbeResults while Soaking), each host with at most one request in flight. Per agent count:
 * a closed-loop run at CONNECTIONS connections (throughput, and its latency), one at
 * FEW_CONNECTIONS (latency with little queueing), the event-log check (agent_event rows in the
 * SQLite file = 2xx answers), a heartbeat run, a duplicate-only run (already-applied seqs: no
 * write; labelled, it flatters) and `GET /healthz` (the HTTP stack's floor); then, for 1,000
 * agents, the event run and /healthz on a CP without per-request spans (labelled), and the event
 * and heartbeat runs on a CP without the agent fast path (every route through the HttpApi). The load
 * generator (autocannon, this process) shares the machine's 2 cores with the CP. The CP's own CPU time
 * per request (from /proc) is reported beside each rate: unlike the rate it barely depends on
 * what else the machine runs. Then the machine's floors: a do-nothing node:http server
 * (bench/http/floor.ts) and the physical ceiling of this very workload, raw node:http + raw
 * better-sqlite3 group commit on the CP's schema under the same event load (bench/http/ceiling.ts).
 * Last, the per-call CPU of each step of an event's path, measured alone in this process
 * (bench/http/breakdown.ts).
 *
 * Invariant: the CP listens on 127.0.0.1 only and is stopped (and its directory removed) after
 * each agent count, whatever happens; latencies are of 2xx answers only, and every non-2xx or
 * unanswered request is counted and shown.
 */
import { randomBytes } from "node:crypto"
import { loadavg } from "node:os"
import { sampleClosure, sampleFleet, SAMPLE_CI_COMMIT } from "../../src/sim/sampleFleet.js"
import { type ChannelRef, makeRolloutId } from "../../src/domain/ids.js"
import { type LoadResult, runDuplicates, runEvents, runHealthz, runHeartbeats, type SimHost, SOAKING_PHASE } from "../http/agents.js"
import { measureBreakdown } from "../http/breakdown.js"
import { type CeilingResult, measureCeiling } from "../http/ceiling.js"
import { measureHttpFloor } from "../http/floor.js"
import { countEventLog, type CpProcess, startCp } from "../http/launcher.js"
import { type BenchRow, type BenchSuite, si } from "../lib.js"

/** An agent count and how its fleet and its event run are shaped. */
interface Scenario {
  readonly channels: number
  readonly hostsPerChannel: number
  /** Distinct events of the closed-loop run (every one answered before the run ends). */
  readonly events: number
}

const SCENARIOS: ReadonlyArray<Scenario> = [
  { channels: 10, hostsPerChannel: 100, events: 6_000 },
  { channels: 10, hostsPerChannel: 1_000, events: 10_000 }
]
/** Keep-alive connections of the throughput runs (requests in flight at most). */
const CONNECTIONS = 64
/** Connections of the low-queueing latency run, and its events. */
const FEW_CONNECTIONS = 4
const FEW_EVENTS = 1_500
/** Seconds of the heartbeat and duplicate runs, and of the /healthz run. */
const RUN_SECONDS = 10
const HEALTHZ_SECONDS = 5
const TARGET = "≥ 10k events/s, p99 < 50 ms"
const TARGET_RATE = 10_000
const TARGET_P99_MS = 50

/** The simulated agents of a sample fleet: every host, its rollout, its closures, a fresh token. */
const makeAgents = (scenario: Scenario): ReadonlyArray<SimHost> => {
  const sample = sampleFleet({ channels: scenario.channels, hostsPerChannel: scenario.hostsPerChannel })
  return sample.hosts.flatMap((hostname) => {
    const host = sample.fleet.hosts[hostname]
    return host === undefined || host.closureHash === null
      ? []
      : [
          {
            hostname,
            rolloutId: makeRolloutId(host.channel, sample.ciCommit as ChannelRef),
            token: randomBytes(16).toString("hex"),
            targetClosure: host.closureHash,
            previousClosure: sampleClosure(hostname, `${SAMPLE_CI_COMMIT}-previous`),
            phase: 0,
            seq: 0,
            appliedSeq: 0
          }
        ]
  })
}

const rate = (r: LoadResult): number => r.ok / r.seconds

/** What went wrong besides 2xx, e.g. "non-2xx: 503×4; no answer: 2" or "non-2xx: none". */
const failures = (r: LoadResult): string => {
  const refused = [...r.refused].map(([status, n]) => `${status}×${n}`).join(", ")
  const parts = [refused === "" ? "non-2xx: none" : `non-2xx: ${refused}`]
  if (r.errors > 0) parts.push(`no answer: ${r.errors} (${r.timeouts} timed out)`)
  return parts.join("; ")
}

const latency = (r: LoadResult): string => `p50 ${r.p50} ms, p99 ${r.p99} ms (max ${r.max} ms)`

/** Runs `load` and returns its result with the CP's CPU milliseconds per 2xx answer. */
const measured = async (cp: CpProcess, load: () => Promise<LoadResult>): Promise<{ readonly r: LoadResult; readonly cpuPerOk: number }> => {
  const before = cp.cpuMillis()
  const r = await load()
  return { r, cpuPerOk: (cp.cpuMillis() - before) / Math.max(1, r.ok) }
}

const runScenario = async (scenario: Scenario): Promise<ReadonlyArray<BenchRow>> => {
  const agents = makeAgents(scenario)
  const label = `${agents.length.toLocaleString("en-US")} agents`
  const load = loadavg()[0] ?? Number.NaN
  const cp = await startCp({
    channels: scenario.channels,
    hostsPerChannel: scenario.hostsPerChannel,
    tokens: new Map(agents.map((a) => [a.hostname, a.token]))
  })
  try {
    const base = { baseUrl: cp.baseUrl, connections: CONNECTIONS }
    const closed = await measured(cp, () => runEvents(agents, { ...base, stop: { amount: scenario.events } }))
    const few = await measured(cp, () => runEvents(agents, { baseUrl: cp.baseUrl, connections: FEW_CONNECTIONS, stop: { amount: FEW_EVENTS } }))
    const answered = closed.r.ok + few.r.ok
    const unanswered = closed.r.errors + few.r.errors
    const logged = countEventLog(cp.dbPath, "agent_event")
    // Every agent beats once first (not measured), so the CP holds a whole fleet's heartbeat state.
    await runHeartbeats(agents, { ...base, stop: { amount: agents.length } })
    const beats = await measured(cp, () => runHeartbeats(agents, { ...base, stop: { duration: RUN_SECONDS } }))
    const duplicates = await measured(cp, () => runDuplicates(agents, { ...base, stop: { duration: RUN_SECONDS } }))
    const healthz = await measured(cp, () => runHealthz({ ...base, stop: { duration: HEALTHZ_SECONDS } }))
    const soaking = agents.filter((a) => a.phase >= SOAKING_PHASE).length
    const met = rate(closed.r) >= TARGET_RATE && closed.r.p99 < TARGET_P99_MS
    return [
      {
        benchmark: `events via HTTP into the SQLite CP, ${label}, ${CONNECTIONS} connections, ${scenario.events.toLocaleString("en-US")} distinct legal events (autocannon on the same 2 cores; machine load ${load.toFixed(1)} at start)`,
        result: `${si(rate(closed.r))} events/s; ${latency(closed.r)}; ${failures(closed.r)}; CP CPU ${closed.cpuPerOk.toFixed(2)} ms/event`,
        target: TARGET,
        met
      },
      {
        benchmark: `events via HTTP, ${label}, ${FEW_CONNECTIONS} connections (little queueing), ${FEW_EVENTS.toLocaleString("en-US")} distinct legal events`,
        result: `${si(rate(few.r))} events/s; ${latency(few.r)}; ${failures(few.r)}; CP CPU ${few.cpuPerOk.toFixed(2)} ms/event`,
        target: `p99 < ${TARGET_P99_MS} ms`,
        met: few.r.p99 < TARGET_P99_MS
      },
      {
        benchmark: `event log after both event runs, ${label} (${soaking.toLocaleString("en-US")} hosts reached Soaking)`,
        result: `${logged} agent_event rows, ${answered} 2xx answers${unanswered > 0 ? `, ${unanswered} unanswered` : ""}`,
        target: "rows = 2xx answers",
        met: unanswered === 0 ? logged === answered : logged >= answered && logged <= answered + unanswered
      },
      {
        benchmark: `heartbeats via HTTP, ${label} (each had beaten once before), ${CONNECTIONS} connections, ${RUN_SECONDS} s`,
        result: `${si(rate(beats.r))} heartbeats/s; ${latency(beats.r)}; ${failures(beats.r)}; CP CPU ${beats.cpuPerOk.toFixed(2)} ms/heartbeat`,
        target: "",
        met: null
      },
      {
        benchmark: `duplicate-only events (already applied, nothing written; flatters), ${label}, ${CONNECTIONS} connections, ${RUN_SECONDS} s`,
        result: `${si(rate(duplicates.r))} events/s; ${latency(duplicates.r)}; ${failures(duplicates.r)}; CP CPU ${duplicates.cpuPerOk.toFixed(2)} ms/event`,
        target: "",
        met: null
      },
      {
        benchmark: `GET /healthz (the HttpApi stack's floor: no auth, no body, no reducer; the agent fast path does not take this stack), ${CONNECTIONS} connections, ${HEALTHZ_SECONDS} s`,
        result: `${si(rate(healthz.r))} requests/s; ${latency(healthz.r)}; CP CPU ${healthz.cpuPerOk.toFixed(2)} ms/request`,
        target: "",
        met: null
      }
    ]
  } finally {
    await cp.stop()
  }
}

/** A fresh CP for the scenario's agents, started with `extraArgs`, handed to `body` and always stopped. */
const onFreshCp = async (
  scenario: Scenario,
  extraArgs: ReadonlyArray<string>,
  body: (cp: CpProcess, agents: ReadonlyArray<SimHost>, label: string) => Promise<ReadonlyArray<BenchRow>>
): Promise<ReadonlyArray<BenchRow>> => {
  const agents = makeAgents(scenario)
  const cp = await startCp({
    channels: scenario.channels,
    hostsPerChannel: scenario.hostsPerChannel,
    tokens: new Map(agents.map((a) => [a.hostname, a.token])),
    extraArgs
  })
  try {
    return await body(cp, agents, `${agents.length.toLocaleString("en-US")} agents`)
  } finally {
    await cp.stop()
  }
}

/** The row of a closed-loop event run on a CP variant (`variant` says how it differs). */
const variantEventRow = (label: string, scenario: Scenario, variant: string, closed: { readonly r: LoadResult; readonly cpuPerOk: number }): BenchRow => ({
  benchmark: `events via HTTP, ${label}, ${CONNECTIONS} connections, ${scenario.events.toLocaleString("en-US")} distinct legal events, ${variant}`,
  result: `${si(rate(closed.r))} events/s; ${latency(closed.r)}; ${failures(closed.r)}; CP CPU ${closed.cpuPerOk.toFixed(2)} ms/event`,
  target: TARGET,
  met: rate(closed.r) >= TARGET_RATE && closed.r.p99 < TARGET_P99_MS
})

/**
 * The closed-loop event run and /healthz again on a fresh CP started with `--trace-requests
 * false` (no per-request `http.server` span; what a deployment without a tracer exporter can run).
 */
const runUntraced = (scenario: Scenario): Promise<ReadonlyArray<BenchRow>> =>
  onFreshCp(scenario, ["--trace-requests", "false"], async (cp, agents, label) => {
    const base = { baseUrl: cp.baseUrl, connections: CONNECTIONS }
    const closed = await measured(cp, () => runEvents(agents, { ...base, stop: { amount: scenario.events } }))
    const healthz = await measured(cp, () => runHealthz({ ...base, stop: { duration: HEALTHZ_SECONDS } }))
    return [
      variantEventRow(label, scenario, "request spans off (traceRequests: false)", closed),
      {
        benchmark: `GET /healthz, request spans off (traceRequests: false), ${CONNECTIONS} connections, ${HEALTHZ_SECONDS} s`,
        result: `${si(rate(healthz.r))} requests/s; ${latency(healthz.r)}; CP CPU ${healthz.cpuPerOk.toFixed(2)} ms/request`,
        target: "",
        met: null
      }
    ]
  })

/**
 * The event and heartbeat runs on a fresh CP started with `--fast-path false`: every route
 * through the HttpApi, as before the agent fast path (src/cp/http/fastPath.ts), for comparison.
 */
const runWithoutFastPath = (scenario: Scenario): Promise<ReadonlyArray<BenchRow>> =>
  onFreshCp(scenario, ["--fast-path", "false"], async (cp, agents, label) => {
    const base = { baseUrl: cp.baseUrl, connections: CONNECTIONS }
    const closed = await measured(cp, () => runEvents(agents, { ...base, stop: { amount: scenario.events } }))
    await runHeartbeats(agents, { ...base, stop: { amount: agents.length } })
    const beats = await measured(cp, () => runHeartbeats(agents, { ...base, stop: { duration: RUN_SECONDS } }))
    return [
      variantEventRow(label, scenario, "agent fast path off (fastPath: false: through the HttpApi)", closed),
      {
        benchmark: `heartbeats via HTTP, ${label}, agent fast path off (fastPath: false), ${CONNECTIONS} connections, ${RUN_SECONDS} s`,
        result: `${si(rate(beats.r))} heartbeats/s; ${latency(beats.r)}; ${failures(beats.r)}; CP CPU ${beats.cpuPerOk.toFixed(2)} ms/heartbeat`,
        target: "",
        met: null
      }
    ]
  })

/** The machine's floor: a do-nothing node:http server under the same load (bench/http/floor.ts). */
export const floorRow = (floor: { readonly r: LoadResult; readonly cpuPerOk: number }): BenchRow => ({
  benchmark: `plain node:http answering 200 and nothing else (this machine's HTTP ceiling with autocannon on the same 2 cores), ${CONNECTIONS} connections, ${HEALTHZ_SECONDS} s`,
  result: `${si(rate(floor.r))} requests/s; ${latency(floor.r)}; server CPU ${floor.cpuPerOk.toFixed(3)} ms/request`,
  target: "",
  met: null
})

/** Distinct events of the ceiling run (longer than the CP's: the ceiling server is faster). */
const CEILING_EVENTS = 30_000

/**
 * The machine's ceiling for this very workload (bench/http/ceiling.ts): raw node:http + raw
 * better-sqlite3 group commit on the CP's schema, under the CP event rows' autocannon load; and
 * what one core could reach at its measured server CPU per event even with a free load generator.
 */
const ceilingRows = (label: string, load: number, c: CeilingResult): ReadonlyArray<BenchRow> => [
  {
    benchmark: `physical ceiling of this workload: raw node:http + JSON.parse + raw better-sqlite3 group commit per event-loop turn (CP schema and pragmas; 22-column host-record upsert + agent_event insert; 204 after commit; no validation, no auth, no Effect), ${label}, ${CONNECTIONS} connections, ${CEILING_EVENTS.toLocaleString("en-US")} events, same autocannon load (machine load ${load.toFixed(1)} at start)`,
    result: `${si(rate(c.r))} events/s; ${latency(c.r)}; ${failures(c.r)}; server CPU ${c.cpuPerOk.toFixed(3)} ms/event; ${c.rows} agent_event rows`,
    target: TARGET,
    met: rate(c.r) >= TARGET_RATE && c.r.p99 < TARGET_P99_MS && c.rows === c.r.ok
  },
  {
    benchmark: "the same ceiling server's bound with a free load generator: one core (Node's thread runs SQLite synchronously) ÷ its server CPU per event",
    result: `${si(1000 / c.cpuPerOk)} events/s at most`,
    target: "≥ 10k events/s",
    met: 1000 / c.cpuPerOk >= TARGET_RATE
  }
]

/** The HTTP suite. */
export const suite: BenchSuite = {
  name: "http",
  run: async (): Promise<ReadonlyArray<BenchRow>> => {
    const rows: Array<BenchRow> = []
    for (const scenario of SCENARIOS) rows.push(...(await runScenario(scenario)))
    const first = SCENARIOS[0]
    if (first !== undefined) rows.push(...(await runUntraced(first)), ...(await runWithoutFastPath(first)))
    rows.push(floorRow(await measureHttpFloor(CONNECTIONS, HEALTHZ_SECONDS)))
    if (first !== undefined) {
      const agents = makeAgents(first)
      const load = loadavg()[0] ?? Number.NaN
      rows.push(...ceilingRows(`${agents.length.toLocaleString("en-US")} agents`, load, await measureCeiling(agents, CONNECTIONS, CEILING_EVENTS)))
    }
    const agents = Math.max(...SCENARIOS.map((s) => s.channels * s.hostsPerChannel))
    for (const step of await measureBreakdown(agents)) {
      rows.push({ benchmark: `event path, one step alone (idle loop, this process): ${step.step}`, result: `${step.micros.toFixed(0)} µs CPU per call`, target: "", met: null })
    }
    return rows
  }
}
