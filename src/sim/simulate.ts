/**
 * `simulate(options)`: signs the sample fleet, starts the CP (a process it can stop, restart and
 * wipe, see cpProcess.ts) and one agent per host on simulated hosts (or, in the scale mode, one
 * scripted host per host: scriptedHost.ts), and drives a virtual Clock
 * (provided here, see virtualClock.ts) until every channel's rollout has finished or the
 * simulated-time limit is hit, injecting the seeded faults (faults.ts; hostDriver.ts applies the
 * per-host ones, network.ts the network ones); returns the final snapshot, the event logs and the
 * expected-outcome verdict. Invariants are checked at every step (invariants.ts) and at the end
 * on every storage epoch (the log checks, replay.ts, dispatchGates.ts, delivery.ts). `onFrame`
 * sees a snapshot every simulated `frameSeconds`.
 *
 * Invariant: deterministic from the seed up to signatures (the signing key is fresh per run;
 * Effect's Random is seeded too, for the agents' backoff jitter); the driver only moves the
 * clock, lets fibers run, injects faults and reads storage.
 */
import { Chunk, Context, Duration, Effect, Either, Layer, Logger, LogLevel, Option, Random, Ref } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { layerSqlite } from "../../adapters/sqlite/index.js"
import { CpReducer } from "../cp/index.js"
import type { HostId } from "../domain/index.js"
import { ts } from "../domain/time.js"
import type { ManifestSet } from "../planner/types.js"
import { ControlPlaneClient, type ControlPlaneClientService, type StoredEventLogEntry } from "../ports/index.js"
import { type EpochData, makeCpProcess } from "./cpProcess.js"
import { type AgentView, checkAcks, checkAgents } from "./delivery.js"
import { checkDispatches } from "./dispatchGates.js"
import { type Fault, type HostFaults, isNetworkFault, type NetworkFault, NO_FAULTS, planCpOutages, planFaults } from "./faults.js"
import { type HostInjected, makeHostDriver } from "./hostDriver.js"
import { checkLog, checkStep, type Violation } from "./invariants.js"
import { type HostNetwork, makeHostNetwork, makeNetworkRecorder, withNetworkFaults } from "./network.js"
import { type Outcome, verifyOutcome } from "./outcome.js"
import { checkReplay } from "./replay.js"
import { between } from "./rng.js"
import { type SampleFleetOptions, signSampleFleet, type SignedSampleFleet } from "./sampleFleet.js"
import { FINISHED, quiesce, type Snapshot, takeSnapshot } from "./snapshot.js"
import { makeVirtualClock } from "./virtualClock.js"
import { runScriptedHost } from "./scriptedHost.js"
import { makeHost, PRIOR_CLOSURE, SIM_AGENT_TIMING, SIM_PROBES, type SimHost, type SimTransport, startAgent } from "./world.js"

/** When the simulator signs its fleet; the clock starts one minute later. */
export const SIM_SIGNED_AT = ts("2026-05-17T12:00:00Z")

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Seeds activation-time jitter (default 1). */
  readonly seed?: number
  /** Channels (default 3). */
  readonly channels?: number
  /** Hosts per channel (default 20). */
  readonly hostsPerChannel?: number
  /** Fleet waves per channel (default 3). */
  readonly waves?: number
  /** The fleet-wide disruption budget (default 5). */
  readonly maxInFlight?: number
  /**
   * CP storage: in memory, or SQLite in `filename` (default memory). A CP wipe moves to a fresh
   * database: a new memory one, or the SQLite file `<filename>.wipe-<n>`.
   */
  readonly storage?: { readonly _tag: "memory" } | { readonly _tag: "sqlite"; readonly filename: string }
  /** The failing canary's probe fails (default true). */
  readonly failingCanary?: boolean
  /**
   * The failing canary's channel policy on a health failure (default `rollback-and-halt`: the
   * canary is rolled back and its closure quarantined); `halt` leaves it Failed on its target.
   */
  readonly onCanaryFailure?: SampleFleetOptions["onCanaryFailure"]
  /** Simulated seconds per clock step (default 5). */
  readonly stepSeconds?: number
  /** Simulated seconds between frames (default 60). */
  readonly frameSeconds?: number
  /** Give up after this many simulated hours (default 12). */
  readonly maxHours?: number
  /** Faults to inject (default none); see faults.ts. */
  readonly faults?: ReadonlyArray<Fault>
  /**
   * Check the step invariants after every clock step and the end-of-run ones (default true).
   * False checks nothing and records no dispatch observations (for benchmarks).
   */
  readonly checkInvariants?: boolean
  /** Check them only every this many simulated seconds instead (default: every step). */
  readonly checkEverySeconds?: number
  /**
   * How the agents reach the CP (default "direct": the CP's AgentEndpoint, the answers HTTP would
   * give at a fraction of the cost); "http" sends every call through the CP's full HTTP stack
   * in-process (see `SimTransport`). Network faults apply to either.
   */
  readonly transport?: SimTransport
  /**
   * What runs on the simulated hosts (default "real": a real agent per host). "scripted" is the
   * scale mode: one light fiber per host reporting the least a healthy agent reports
   * (scriptedHost.ts) — no failing canary and no per-host faults (both are ignored); CP and
   * network faults still apply. Its figures are the CP's, never a real agent fleet's.
   */
  readonly agents?: "real" | "scripted"
  /** Called with every frame's snapshot (e.g. to redraw a terminal view). */
  readonly onFrame?: (frame: Frame) => Effect.Effect<void>
}

/** A frame handed to `onFrame`. */
export interface Frame {
  readonly fleet: SignedSampleFleet
  readonly snapshot: Snapshot
  /** Simulated seconds since the start. */
  readonly elapsedSeconds: number
}

/** What was injected in a run. */
export interface Injected extends Readonly<HostInjected> {
  readonly cpRestarts: number
  readonly cpWipes: number
  /** Requests hit by each network fault. */
  readonly network: Readonly<Record<NetworkFault, number>>
}

/** What a simulation returns. */
export interface SimulationResult {
  readonly seed: number
  readonly fleet: SignedSampleFleet
  readonly final: Snapshot
  /** The event log (agent_event and plan_action entries) of the final storage epoch. */
  readonly log: ReadonlyArray<StoredEventLogEntry>
  /** Every storage epoch (one more per CP wipe), the last one being the final storage. */
  readonly epochs: ReadonlyArray<EpochData>
  /** The agents running at the end: their own records and how many events they still had queued. */
  readonly agents: ReadonlyArray<AgentView>
  /** The verified manifest set the CP planned with (null if it never verified one). */
  readonly manifests: ManifestSet | null
  /** Simulated seconds from start until every rollout finished (or the limit). */
  readonly simulatedSeconds: number
  /** Per channel: simulated seconds from start until its rollout finished (null: never). */
  readonly finishedAfter: ReadonlyMap<string, number | null>
  readonly outcome: Outcome
  /** Broken invariants, with the seed and simulated second (empty when all held). */
  readonly violations: ReadonlyArray<Violation>
  /** How many faults of each kind were injected. */
  readonly injected: Injected
  /** How many sleeps the CP, agents and driver started on the virtual clock (the run's timer wake-ups, give or take interrupted ones). */
  readonly clockSleeps: number
}

/**
 * Every rollout finished and no host mid-way: none Activating or Soaking, and none Failed under
 * rollback-and-halt (its rollback is still to come, then RollbackComplete).
 */
const allFinished = (snapshot: Snapshot, channels: number) =>
  snapshot.rollouts.length >= channels &&
  snapshot.rollouts.every((r) => FINISHED.has(r.state)) &&
  snapshot.records.every(
    (r) => r.state !== "Activating" && r.state !== "Soaking" && !(r.state === "Failed" && r.policyApplied === "rollback-and-halt")
  )

/** The end-of-run invariants over every storage epoch and what the agents saw. */
const checkEnd = (
  signed: SignedSampleFleet,
  epochs: ReadonlyArray<EpochData>,
  context: {
    readonly manifests: ManifestSet | null
    readonly acks: Parameters<typeof checkAcks>[1]
    readonly agents: ReadonlyArray<AgentView>
    readonly seed: number
    readonly start: number
    readonly atSecond: number
  }
): ReadonlyArray<Violation> => {
  const { atSecond, seed, start } = context
  const out: Array<Violation> = []
  for (const epoch of epochs) {
    out.push(...checkLog(epoch, epoch.log, seed, atSecond, { wiped: epoch.index > 0 }))
    out.push(...checkReplay(signed, epoch.records, epoch.log, seed, start, atSecond))
    if (context.manifests !== null) out.push(...checkDispatches(signed, context.manifests, epoch, seed, start))
  }
  out.push(...checkAcks(epochs, context.acks, seed, start))
  const last = epochs[epochs.length - 1]
  if (last !== undefined) out.push(...checkAgents(last.records, context.agents, seed, atSecond))
  return out
}

/** Runs one simulation (see the module comment). Provides its own virtual Clock and Random. */
export const simulate = (options: SimulateOptions = {}) => {
  const seed = options.seed ?? 1
  const signed = Either.getOrThrow(
    signSampleFleet(SIM_SIGNED_AT, {
      channels: options.channels ?? 3,
      hostsPerChannel: options.hostsPerChannel ?? 20,
      waves: options.waves ?? 3,
      maxInFlight: options.maxInFlight ?? 5,
      ...(options.onCanaryFailure === undefined ? {} : { onCanaryFailure: options.onCanaryFailure })
    })
  )
  const sqlite = options.storage?._tag === "sqlite" ? options.storage.filename : null
  const storageOf = (epoch: number) =>
    sqlite === null ? layerMemory : layerSqlite({ filename: epoch === 0 ? sqlite : `${sqlite}.wipe-${epoch}` })
  const stepSeconds = options.stepSeconds ?? 5
  const frameSeconds = options.frameSeconds ?? 60
  const maxSeconds = (options.maxHours ?? 12) * 3600
  const scripted = options.agents === "scripted"
  const failing = !scripted && (options.failingCanary ?? true)

  const start = SIM_SIGNED_AT + 60_000
  const virtual = makeVirtualClock(start)
  const faults = options.faults ?? []
  const networkFaults = faults.filter(isNetworkFault)
  const outages = planCpOutages(seed, faults)
  const maxInFlight = options.maxInFlight ?? 5
  const run = Effect.gen(function* () {
    const checking = options.checkInvariants ?? true
    const cp = yield* makeCpProcess(signed, storageOf, { observe: checking, transport: options.transport ?? "direct" })
    yield* cp.start
    const recorder = yield* makeNetworkRecorder
    const hosts = new Map<HostId, SimHost>()
    const plans = new Map<HostId, HostFaults>()
    const wrap = (host: HostId, network: HostNetwork) => (client: ControlPlaneClientService) =>
      // Unchecked runs without network faults need no wrapper (it would only record acknowledgements).
      !checking && networkFaults.length === 0
        ? client
        : withNetworkFaults(client, { seed, host, faults: networkFaults, state: network, recorder, epoch: cp.epoch })
    const launch = (host: HostId, parts: Pick<SimHost, "sim" | "queue">, network: HostNetwork) =>
      startAgent(signed, host, parts, cp.clientFor(host), wrap(host, network))
    const networks = new Map<HostId, HostNetwork>()
    for (const h of scripted ? [] : signed.hosts) {
      const host = h as HostId
      const channel = signed.fleet.hosts[host]?.channel
      const waves = channel === undefined ? [] : (signed.fleet.waves[channel] ?? [])
      const inLastWave = waves.length > 1 && (waves[waves.length - 1]?.hosts.includes(host) ?? false)
      const plan = host === signed.failingCanary.host ? NO_FAULTS : planFaults(seed, host, faults, inLastWave)
      plans.set(host, plan)
      const parts = yield* makeHost(signed, host, {
        activationSeconds: plan.agentCrash ? between(seed, `${host}/activation`, 30, 45) : between(seed, `${host}/activation`, 5, 40),
        probeFails: failing && host === signed.failingCanary.host,
        deferred: plan.deferredRebootAfter !== null
      })
      const network = yield* makeHostNetwork
      networks.set(host, network)
      hosts.set(host, yield* launch(host, parts, network))
    }
    for (const h of scripted ? signed.hosts : []) {
      const host = h as HostId
      const client = Context.get(yield* Layer.build(cp.clientFor(host)), ControlPlaneClient)
      const script = {
        signed,
        host,
        prior: PRIOR_CLOSURE,
        activationSeconds: between(seed, `${host}/activation`, 5, 40),
        probes: SIM_PROBES,
        dispatchWaitSeconds: SIM_AGENT_TIMING.dispatchWaitSeconds,
        convergeRetrySeconds: Duration.toSeconds(SIM_AGENT_TIMING.advanceInterval)
      }
      yield* Effect.forkScoped(runScriptedHost(wrap(host, yield* makeHostNetwork)(client), script))
    }
    const driver = makeHostDriver(signed, plans, hosts, (h) => launch(h.host, h, networks.get(h.host)!))
    const cpInjected = { cpRestarts: 0, cpWipes: 0 }
    let nextOutage = 0
    let cpUpAt: number | null = null
    const violations: Array<Violation> = []
    const finishedAfter = new Map<string, number | null>(signed.channels.map((c) => [c, null]))
    let elapsed = 0
    let lastSeq = 0
    let snapshot = Option.getOrThrow(yield* cp.withCp(takeSnapshot(0)))
    // The storage change count and reboots at the last check that found nothing: while both stay
    // the same the snapshot, hence the verdict, would be the same (see changes.ts).
    let cleanAt: { readonly changes: number; readonly rebooted: number } | null = null
    for (; elapsed <= maxSeconds; elapsed += stepSeconds) {
      yield* virtual.advanceTo(start + elapsed * 1000)
      const outage = outages[nextOutage]
      if (outage !== undefined && cpUpAt === null && elapsed >= outage.at) {
        nextOutage++
        yield* outage.wipe ? cp.wipe : cp.stop
        if (outage.wipe) cpInjected.cpWipes++
        else cpInjected.cpRestarts++
        cpUpAt = elapsed + outage.downFor
      } else if (cpUpAt !== null && elapsed >= cpUpAt) {
        cpUpAt = null
        yield* cp.start
        lastSeq = 0
      }
      yield* driver.step(elapsed)
      const unchanged = cleanAt !== null && cleanAt.changes === cp.changes() && cleanAt.rebooted === driver.rebooted.size
      if (checking && !unchanged && elapsed % (options.checkEverySeconds ?? stepSeconds) === 0) {
        const changes = cp.changes()
        const seen = yield* cp.withCp(takeSnapshot(lastSeq))
        const found = Option.isSome(seen) ? checkStep(signed, maxInFlight, seen.value, seed, elapsed, { rebooted: driver.rebooted }) : []
        violations.push(...found)
        cleanAt = Option.isSome(seen) && found.length === 0 ? { changes, rebooted: driver.rebooted.size } : null
      }
      if (elapsed % frameSeconds === 0) {
        const frame = yield* cp.withCp(Effect.zipRight(quiesce, takeSnapshot(lastSeq)))
        if (Option.isNone(frame)) continue
        snapshot = frame.value
        lastSeq = snapshot.logSeq
        for (const r of snapshot.rollouts) if (FINISHED.has(r.state) && finishedAfter.get(r.channel) === null) finishedAfter.set(r.channel, elapsed)
        if (options.onFrame !== undefined) yield* options.onFrame({ fleet: signed, snapshot, elapsedSeconds: elapsed })
        if (!driver.anyDown() && allFinished(snapshot, signed.channels.length) && (yield* driver.settled)) break
      }
    }
    yield* cp.start
    const final = Option.getOrThrow(yield* cp.withCp(Effect.zipRight(quiesce, takeSnapshot(0))))
    const manifests = Option.flatMap(yield* cp.withCp(Effect.flatMap(CpReducer, (r) => r.state)), (s) => Option.fromNullable(s.manifests))
    const agents: Array<AgentView> = []
    for (const h of driver.running()) {
      agents.push({ host: h.host, records: (yield* h.agent.state).records, queued: yield* Effect.orElseSucceed(h.queue.size, () => 1) })
    }
    yield* driver.killAll
    yield* cp.stop
    const epochs = yield* cp.epochs
    const log = epochs[epochs.length - 1]?.log ?? []
    const manifestSet = Option.getOrNull(Option.map(manifests, (m) => m.set))
    if (checking) {
      violations.push(
        ...checkEnd(signed, epochs, {
          manifests: manifestSet,
          acks: Chunk.toReadonlyArray(yield* Ref.get(recorder.acks)),
          agents,
          seed,
          start,
          atSecond: elapsed
        })
      )
    }
    const result: SimulationResult = {
      seed,
      fleet: signed,
      final,
      log,
      epochs,
      agents,
      manifests: manifestSet,
      simulatedSeconds: elapsed,
      finishedAfter,
      outcome: verifyOutcome(signed, final, failing, violations),
      violations,
      injected: { ...driver.injected, ...cpInjected, network: yield* Ref.get(recorder.injected) },
      clockSleeps: virtual.sleeps()
    }
    return result
  })

  return Effect.scoped(run).pipe(
    Effect.withClock(virtual.clock),
    Effect.withRandom(Random.make(seed)),
    Logger.withMinimumLogLevel(LogLevel.None)
  )
}
