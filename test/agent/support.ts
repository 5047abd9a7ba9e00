/**
 * Harness for agent tests: a real CP (its core on memory storage, its HTTP stack served
 * in-process, bearer-token auth) fed a genuinely signed sample fleet, and agents on simulated
 * hosts talking to it through the in-process client, all on the TestClock.
 *
 * Invariant: the harness only builds layers, moves the clock, scripts the simulated hosts and
 * the client's availability, and reads state; every decision is the agent's or the CP's.
 */
import { expect } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Redacted, Ref, Schema, Scope, TestClock } from "effect"
import { layerBearerTokens } from "../../adapters/memory/agentAuth.js"
import { makeMemoryManifestSource } from "../../adapters/memory/manifestSource.js"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import { makeSimulatedHost, type SimulatedHostParts } from "../../adapters/memory/simulatedHost.js"
import { Agent, type AgentService, CpCredentials, layer as agentLayer, layerInProcessClient, layerInProcessServer } from "../../src/agent/index.js"
import { CpReducer, EventLogWriter, ReducerInput } from "../../src/cp/index.js"
import { layerServe } from "../../src/cp/http/index.js"
import { readVerifiedRelease } from "../../src/cp/manifestSource/verifiedRelease.js"
import type { ClosureHash, HostId, HostRolloutState, ProbeName, RolloutId } from "../../src/domain/index.js"
import { makeRolloutId } from "../../src/domain/index.js"
import {
  Activator,
  ControlPlaneClient,
  type ControlPlaneClientService,
  CpUnavailable,
  EventLog,
  OutboundQueue,
  type OutboundQueueService,
  ProbeDeclaration,
  ProbeRunner,
  Storage
} from "../../src/ports/index.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../../src/trust/sidecar.js"
import { cpLayer } from "../cp/support.js"
import { SIGNED_AT, signedFleet, type SignedSampleFleet } from "../support/signedFleet.js"

/** Where every agent test starts: one minute after the sample fleet was signed. */
export const START = SIGNED_AT + 60_000

/** The closure every simulated host runs before the rollout. */
export const OLD = "/nix/store/00000000000000000000000000000000-nixos-system-old" as ClosureHash

/** The bearer token of a host. */
export const tokenOf = (host: string) => `token-${host}`

/** The one probe agents run in these tests: enforce, every 30 s. */
export const PROBE = "web" as ProbeName
/** The agents' health-checks declarations: {@link PROBE} only. */
export const PROBES = { [PROBE]: Schema.decodeUnknownSync(ProbeDeclaration)({ kind: "http", url: "http://127.0.0.1/health" }) }

/** A signed fleet of `channels` channels with one host each (the last channel rolls back on failure). */
export const smallFleet = (channels: number) => signedFleet({ channels, hostsPerChannel: 1, waves: 1 })

/** The CP (core + HTTP in-process) with a bearer token for every host of `fleet`. */
export const cpFor = (fleet: SignedSampleFleet, queueCapacity?: number) =>
  layerServe({}).pipe(
    Layer.provideMerge(layerInProcessServer),
    Layer.provide(layerBearerTokens(Object.fromEntries(fleet.hosts.map((h) => [tokenOf(h), h])))),
    Layer.provideMerge(cpLayer(queueCapacity))
  )

/** Verifies the signed fleet as the manifest poll does and hands it to the CP reducer. */
export const publish = (fleet: SignedSampleFleet) =>
  Effect.gen(function* () {
    const source = yield* makeMemoryManifestSource(fleet.files)
    const { release } = yield* Effect.orDie(readVerifiedRelease(source, DEFAULT_FRESHNESS_WINDOW_SECS))
    const reducer = yield* CpReducer
    yield* reducer.offer(ReducerInput.ManifestSetUpdated({ manifests: release.manifests }))
    yield* reducer.barrier
  })

/** The rollout of the fleet's channel for `host`. */
export const rolloutOf = (fleet: SignedSampleFleet, host: HostId): RolloutId =>
  makeRolloutId(fleet.fleet.hosts[host]!.channel, fleet.ciCommit as never)

/** The target closure of `host` in the fleet. */
export const targetOf = (fleet: SignedSampleFleet, host: HostId): ClosureHash => fleet.fleet.hosts[host]!.closureHash!

/** A client wrapper whose `postEvent` answers 503 while `down` is set, counting every call. */
export interface FlakyClient {
  readonly down: Ref.Ref<boolean>
  readonly postAttempts: Ref.Ref<number>
  readonly retryAfterSeconds: number | null
}

/** Makes the wrapper's controls. */
export const makeFlaky = (down: boolean, retryAfterSeconds: number | null = null) =>
  Effect.map(Effect.all([Ref.make(down), Ref.make(0)]), ([downRef, postAttempts]): FlakyClient => ({
    down: downRef,
    postAttempts,
    retryAfterSeconds
  }))

const wrap = (flaky: FlakyClient, inner: ControlPlaneClientService): ControlPlaneClientService => ({
  ...inner,
  postEvent: (envelope) =>
    Effect.gen(function* () {
      yield* Ref.update(flaky.postAttempts, (n) => n + 1)
      if (yield* Ref.get(flaky.down)) {
        return yield* new CpUnavailable({ reason: "test: CP down", retryAfterSeconds: flaky.retryAfterSeconds })
      }
      return yield* inner.postEvent(envelope)
    })
})

/** Everything one agent runs on. */
export interface AgentParts {
  readonly host: HostId
  readonly sim: SimulatedHostParts
  readonly queue: OutboundQueueService
  readonly flaky?: FlakyClient
  /** Rewrites the agent's client (after `flaky`), e.g. to alter what its requests carry. */
  readonly wrapClient?: (inner: ControlPlaneClientService) => ControlPlaneClientService
}

/** The agent's layer over its parts and the in-process CP. */
export const agentOn = (fleet: SignedSampleFleet, parts: AgentParts) => {
  const direct = layerInProcessClient({ credentials: CpCredentials.BearerToken({ token: Redacted.make(tokenOf(parts.host)) }) })
  const rewrite = (inner: ControlPlaneClientService) => {
    const flaky = parts.flaky === undefined ? inner : wrap(parts.flaky, inner)
    return parts.wrapClient === undefined ? flaky : parts.wrapClient(flaky)
  }
  const client =
    parts.flaky === undefined && parts.wrapClient === undefined
      ? direct
      : Layer.effect(ControlPlaneClient, Effect.map(ControlPlaneClient, rewrite)).pipe(Layer.provide(direct))
  return agentLayer({ hostname: parts.host, trust: fleet.trust, probes: PROBES }).pipe(
    Layer.provide(client),
    Layer.provide(Layer.succeed(OutboundQueue, parts.queue)),
    Layer.provide(Layer.succeed(Activator, parts.sim.activator)),
    Layer.provide(Layer.succeed(ProbeRunner, parts.sim.probeRunner))
  )
}

/** A running agent and the scope that kills it. */
export interface Running {
  readonly agent: AgentService
  readonly kill: Effect.Effect<void>
}

/** Starts an agent in its own scope (close it to kill the agent). */
export const startAgent = (fleet: SignedSampleFleet, parts: AgentParts) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(agentOn(fleet, parts), scope)
    return { agent: Context.get(context, Agent), kill: Scope.close(scope, Exit.void) } satisfies Running
  })

/** A simulated host at {@link OLD} whose switches take `activationSeconds`. */
export const simulatedHost = (activationSeconds = 10) =>
  makeSimulatedHost({ initialClosure: OLD, activationTime: `${activationSeconds} seconds`, rollbackTime: "5 seconds" })

/** Options of {@link launch}: reuse a host or queue (a restart), script the client's availability or rewrite it. */
export interface LaunchOptions {
  readonly activationSeconds?: number
  readonly sim?: SimulatedHostParts
  readonly queue?: OutboundQueueService
  readonly flaky?: FlakyClient
  readonly wrapClient?: AgentParts["wrapClient"]
}

/** Starts an agent for `host` (on a fresh simulated host and memory queue unless given) and waits for its boot handshake. */
export const launch = (fleet: SignedSampleFleet, host: HostId, options: LaunchOptions = {}) =>
  Effect.gen(function* () {
    const sim = options.sim ?? (yield* simulatedHost(options.activationSeconds ?? 10))
    const queue = options.queue ?? (yield* makeMemoryOutboundQueue)
    const running = yield* startAgent(fleet, {
      host,
      sim,
      queue,
      ...(options.flaky === undefined ? {} : { flaky: options.flaky }),
      ...(options.wrapClient === undefined ? {} : { wrapClient: options.wrapClient })
    })
    const handshake = yield* running.agent.ready
    return { ...running, sim, queue, handshake }
  })

/**
 * Checks that the agent's record of `rolloutId` equals the CP's mirror and that the CP logged the
 * agent's events with seqs 1..n, each exactly once; returns the logged kinds in order.
 */
export const expectInStep = (agent: AgentService, rolloutId: RolloutId) =>
  Effect.gen(function* () {
    expect(yield* agentRecord(agent, rolloutId)).toEqual(yield* cpRecord(rolloutId, agent.hostname))
    const log = yield* loggedEvents(agent.hostname, rolloutId)
    expect(contiguous(log.map((e) => e.seq))).toBe(true)
    return log.map((e) => e.kind)
  })

/** One turn of Node's event loop (in-process HTTP runs on promises). */
const eventLoopTurn: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Lets woken fibers and in-flight in-process requests run. */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) {
    yield* Effect.yieldNow()
    yield* eventLoopTurn
  }
})

/**
 * Moves the TestClock forward `stepSeconds` at a time, letting everything run in between, until
 * `check` holds; dies after `maxSeconds` of test time.
 */
export const runUntil = <E, R>(check: Effect.Effect<boolean, E, R>, maxSeconds: number, stepSeconds = 1): Effect.Effect<number, E, R> =>
  Effect.gen(function* () {
    for (let elapsed = 0; elapsed <= maxSeconds; elapsed += stepSeconds) {
      yield* settle
      if (yield* check) return elapsed
      yield* TestClock.adjust(`${stepSeconds} seconds`)
    }
    return yield* Effect.dieMessage(`runUntil: condition still false after ${maxSeconds} s of test time`)
  })

/** Moves the TestClock forward by `seconds`, a second at a time. */
export const runFor = (seconds: number) => runUntil(Effect.succeed(false), seconds).pipe(Effect.catchAllDefect(() => Effect.void))

/** The CP's record of `host` in `rolloutId`, if any. */
export const cpRecord = (rolloutId: RolloutId, host: HostId) =>
  Effect.flatMap(Storage, (s) => s.loadHostRecord(rolloutId, host)).pipe(Effect.map(Option.getOrUndefined))

/** The agent's record of `rolloutId`, if any. */
export const agentRecord = (agent: AgentService, rolloutId: RolloutId) =>
  Effect.map(agent.state, (s): HostRolloutState | undefined => s.records.get(rolloutId))

/** Whether both the agent and the CP have `host`'s record in `state`. */
export const bothIn = (agent: AgentService, rolloutId: RolloutId, state: HostRolloutState["state"]) =>
  Effect.gen(function* () {
    const mine = yield* agentRecord(agent, rolloutId)
    const theirs = yield* cpRecord(rolloutId, agent.hostname)
    return mine?.state === state && theirs?.state === state
  })

/** The agent events the CP logged for `host` in `rolloutId`: (seq, kind) in log order. */
export const loggedEvents = (host: HostId, rolloutId: RolloutId) =>
  Effect.gen(function* () {
    yield* Effect.flatMap(CpReducer, (r) => r.barrier)
    yield* Effect.flatMap(EventLogWriter, (w) => w.flush)
    const entries = yield* Effect.flatMap(EventLog, (log) => log.byHost(host))
    return entries
      .filter((e) => e.kind === "agent_event" && e.rolloutId === rolloutId)
      .map((e) => ({ seq: e.agentSeq ?? -1, kind: (e.payload as { readonly kind: string }).kind }))
  })

/** Seqs 1..n, each exactly once, in order. */
export const contiguous = (seqs: ReadonlyArray<number>): boolean => seqs.every((s, i) => s === i + 1)

/** Sets the TestClock to {@link START}, then runs `body` against a fresh CP for `fleet` (published). */
export const withCp =
  (fleet: SignedSampleFleet, queueCapacity?: number) =>
  <A, E, R>(body: Effect.Effect<A, E, R>) =>
    Effect.zipRight(TestClock.setTime(START), Effect.provide(Effect.zipRight(publish(fleet), body), cpFor(fleet, queueCapacity)))
