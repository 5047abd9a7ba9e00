/**
 * `simulate(options)`: signs the sample fleet, starts the CP and one agent per host on simulated
 * hosts, and drives a virtual Clock (provided here, see virtualClock.ts) until every channel's rollout has
 * finished or the simulated-time limit is hit; returns the final snapshot, the event log and the
 * expected-outcome verdict. `onFrame` sees a snapshot every simulated `frameSeconds`.
 *
 * Invariant: deterministic from the seed up to signatures (the signing key is fresh per run);
 * the driver only moves the clock, lets fibers run and reads storage.
 */
import { Effect, Either, Logger, LogLevel } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { layerSqlite } from "../../adapters/sqlite/index.js"
import { signSampleFleet, type SignedSampleFleet } from "./sampleFleet.js"
import type { HostId } from "../domain/index.js"
import { ts } from "../domain/time.js"
import { EventLog, probeFail, probePass, type StoredEventLogEntry } from "../ports/index.js"
import { type Outcome, verifyOutcome } from "./outcome.js"
import { type Fault, type HostFaults, NO_FAULTS, planFaults, TRANSIENT_FAILURE_SECONDS } from "./faults.js"
import { checkLog, checkStep, type Violation } from "./invariants.js"
import { between } from "./rng.js"
import { FINISHED, quiesce, type Snapshot, takeSnapshot } from "./snapshot.js"
import { makeVirtualClock } from "./virtualClock.js"
import { makeHost, SIM_PROBE, type SimHost, simCpLayer, startAgent } from "./world.js"

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
  /** CP storage: in memory, or SQLite in `filename` (default memory). */
  readonly storage?: { readonly _tag: "memory" } | { readonly _tag: "sqlite"; readonly filename: string }
  /** The failing canary's probe fails (default true). */
  readonly failingCanary?: boolean
  /** Simulated seconds per clock step (default 5). */
  readonly stepSeconds?: number
  /** Simulated seconds between frames (default 60). */
  readonly frameSeconds?: number
  /** Give up after this many simulated hours (default 12). */
  readonly maxHours?: number
  /** Faults to inject (default none); see faults.ts. */
  readonly faults?: ReadonlyArray<Fault>
  /** Check the step invariants after every clock step (default true). */
  readonly checkInvariants?: boolean
  /** Check them only every this many simulated seconds instead (default: every step). */
  readonly checkEverySeconds?: number
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

/** What a simulation returns. */
export interface SimulationResult {
  readonly seed: number
  readonly fleet: SignedSampleFleet
  readonly final: Snapshot
  /** The CP's complete event log. */
  readonly log: ReadonlyArray<StoredEventLogEntry>
  /** Simulated seconds from start until every rollout finished (or the limit). */
  readonly simulatedSeconds: number
  /** Per channel: simulated seconds from start until its rollout finished (null: never). */
  readonly finishedAfter: ReadonlyMap<string, number | null>
  readonly outcome: Outcome
  /** Broken invariants, with the seed and simulated second (empty when all held). */
  readonly violations: ReadonlyArray<Violation>
  /** How many agent crashes / offline windows / transient probe failures were injected. */
  readonly injected: { readonly crashes: number; readonly offline: number; readonly transientProbes: number }
}

const allFinished = (snapshot: Snapshot, channels: number) =>
  snapshot.rollouts.length >= channels &&
  snapshot.rollouts.every((r) => FINISHED.has(r.state)) &&
  snapshot.records.every((r) => r.state !== "Activating" && r.state !== "Soaking")

/** Runs one simulation (see the module comment). Provides its own virtual Clock. */
export const simulate = (options: SimulateOptions = {}) => {
  const seed = options.seed ?? 1
  const signed = Either.getOrThrow(
    signSampleFleet(SIM_SIGNED_AT, {
      channels: options.channels ?? 3,
      hostsPerChannel: options.hostsPerChannel ?? 20,
      waves: options.waves ?? 3,
      maxInFlight: options.maxInFlight ?? 5
    })
  )
  const storage = options.storage?._tag === "sqlite" ? layerSqlite({ filename: options.storage.filename }) : layerMemory
  const stepSeconds = options.stepSeconds ?? 5
  const frameSeconds = options.frameSeconds ?? 60
  const maxSeconds = (options.maxHours ?? 12) * 3600
  const failing = options.failingCanary ?? true

  const start = SIM_SIGNED_AT + 60_000
  const virtual = makeVirtualClock(start)
  const faults = options.faults ?? []
  const maxInFlight = options.maxInFlight ?? 5
  const run = Effect.gen(function* () {
    const hosts = new Map<HostId, SimHost>()
    const plans = new Map<HostId, HostFaults>()
    for (const h of signed.hosts) {
      const host = h as HostId
      const channel = signed.fleet.hosts[host]?.channel
      const waves = channel === undefined ? [] : (signed.fleet.waves[channel] ?? [])
      const inLastWave = waves.length > 1 && (waves[waves.length - 1]?.hosts.includes(host) ?? false)
      const plan = host === signed.failingCanary.host ? NO_FAULTS : planFaults(seed, host, faults, inLastWave)
      plans.set(host, plan)
      const parts = yield* makeHost(signed, host, {
        activationSeconds: plan.agentCrash ? between(seed, `${host}/activation`, 30, 45) : between(seed, `${host}/activation`, 5, 40),
        probeFails: failing && host === signed.failingCanary.host,
        deferred: false
      })
      hosts.set(host, yield* startAgent(signed, host, parts))
    }
    const injected = { crashes: 0, offline: 0, transientProbes: 0 }
    const crashed = new Set<HostId>()
    const restartAt = new Map<HostId, number>()
    // Transient probe failures: until when the probe fails (-1: over).
    const probeFailingUntil = new Map<HostId, number>()
    const violations: Array<Violation> = []
    const finishedAfter = new Map<string, number | null>(signed.channels.map((c) => [c, null]))
    let elapsed = 0
    let lastSeq = 0
    let snapshot = yield* takeSnapshot(0)
    for (; elapsed <= maxSeconds; elapsed += stepSeconds) {
      yield* virtual.advanceTo(start + elapsed * 1000)
      for (const [host, plan] of plans) {
        const running = hosts.get(host)!
        const down = restartAt.has(host)
        if (down && restartAt.get(host)! <= elapsed) {
          restartAt.delete(host)
          hosts.set(host, yield* startAgent(signed, host, running))
          continue
        }
        if (down) continue
        if (plan.offline !== null && elapsed >= plan.offline.from && elapsed < plan.offline.until) {
          yield* running.kill
          restartAt.set(host, plan.offline.until)
          injected.offline++
          continue
        }
        if (plan.agentCrash && !crashed.has(host)) {
          const activating = [...(yield* running.agent.state).records.values()].some((r) => r.state === "Activating")
          if (activating) {
            crashed.add(host)
            yield* running.kill
            restartAt.set(host, elapsed + 30)
            injected.crashes++
            continue
          }
        }
        if (plan.transientProbe) {
          const target = signed.fleet.hosts[host]?.closureHash
          const until = probeFailingUntil.get(host)
          if (target === undefined || target === null) continue
          if (until === undefined) {
            const soaking = [...(yield* running.agent.state).records.values()].some((r) => r.state === "Soaking")
            if (soaking) {
              probeFailingUntil.set(host, elapsed + TRANSIENT_FAILURE_SECONDS)
              injected.transientProbes++
              yield* running.sim.control.setProbe(SIM_PROBE, probeFail("simulated: transient"), target)
            }
          } else if (until <= elapsed && until >= 0) {
            probeFailingUntil.set(host, -1)
            yield* running.sim.control.setProbe(SIM_PROBE, probePass, target)
          }
        }
      }
      if ((options.checkInvariants ?? true) && elapsed % (options.checkEverySeconds ?? stepSeconds) === 0) violations.push(...checkStep(signed, maxInFlight, yield* takeSnapshot(lastSeq), seed, elapsed))
      if (elapsed % frameSeconds === 0) {
        yield* quiesce
        snapshot = yield* takeSnapshot(lastSeq)
        lastSeq = snapshot.logSeq
        for (const r of snapshot.rollouts) if (FINISHED.has(r.state) && finishedAfter.get(r.channel) === null) finishedAfter.set(r.channel, elapsed)
        if (options.onFrame !== undefined) yield* options.onFrame({ fleet: signed, snapshot, elapsedSeconds: elapsed })
        if (restartAt.size === 0 && allFinished(snapshot, signed.channels.length)) break
      }
    }
    yield* quiesce
    const final = yield* takeSnapshot(0)
    const log = yield* Effect.flatMap(EventLog, (l) => l.byKind("agent_event")).pipe(
      Effect.zip(Effect.flatMap(EventLog, (l) => l.byKind("plan_action"))),
      Effect.map(([a, b]) => [...a, ...b].sort((x, y) => x.seq - y.seq))
    )
    for (const [host, h] of hosts) if (!restartAt.has(host)) yield* h.kill
    violations.push(...checkLog(final, log, seed, elapsed))
    const result: SimulationResult = {
      seed,
      fleet: signed,
      final,
      log,
      simulatedSeconds: elapsed,
      finishedAfter,
      outcome: verifyOutcome(signed, final, failing, violations),
      violations,
      injected
    }
    return result
  })

  return Effect.scoped(Effect.provide(run, simCpLayer(signed, storage))).pipe(
    Effect.withClock(virtual.clock),
    Logger.withMinimumLogLevel(LogLevel.None)
  )
}
