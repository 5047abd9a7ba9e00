/**
 * End-to-end harness: a complete control plane (signed release → ManifestPoll → reducer →
 * HTTP API) on in-memory storage and a loopback server, driven by simulated agents that talk to
 * it only through the typed HTTP client, on the TestClock.
 *
 * Invariant: the agents here follow the agent protocol (poll dispatch, ack, activate, report,
 * converge after the soak deadline) but decide nothing for the CP; every CP decision is observed
 * through storage or the API.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Clock, Effect, Layer, TestClock } from "effect"
import { layerBearerTokens, layerMemory, layerMemoryManifestSource } from "../../adapters/memory/index.js"
import { CpReducer, layer as coreLayer, ManifestPoll } from "../../src/cp/index.js"
import { layerServe } from "../../src/cp/http/server.js"
import type { ClosureHash, HostId, HostState, RolloutId, Timestamp } from "../../src/domain/index.js"
import { Storage } from "../../src/ports/index.js"
import { FleetApi } from "../../src/wire/api.js"
import { withProtocolHeader } from "../../src/wire/protocol.js"
import type { SignedSampleFleet } from "../../src/sim/sampleFleet.js"
import { SIGNED_AT } from "../support/signedFleet.js"

/** Each host's bearer token. */
export const tokenOf = (host: string) => `token-${host}`

/** A complete CP over fresh in-memory storage, serving `signed` through the loopback server. */
export const cpLayer = (signed: SignedSampleFleet) => {
  const core = coreLayer({ planInterval: "15 seconds" }).pipe(Layer.provideMerge(layerMemory))
  const poll = ManifestPoll.layer({ interval: "30 seconds" }).pipe(Layer.provide(layerMemoryManifestSource(signed.files)), Layer.provideMerge(core))
  const tokens = Object.fromEntries(signed.hosts.map((h) => [tokenOf(h), h]))
  return layerServe().pipe(Layer.provideMerge(NodeHttpServer.layerTest), Layer.provide(layerBearerTokens(tokens)), Layer.provideMerge(poll))
}

/** Runs `body` against a fresh CP for `signed`, the TestClock first set one minute after signing. */
export const withCp = (signed: SignedSampleFleet) => <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.zipRight(TestClock.setTime(SIGNED_AT + 60_000), Effect.provide(body, cpLayer(signed)))

/** The typed client as a host's agent uses it. */
export const clientFor = (host: string) =>
  HttpApiClient.make(FleetApi, {
    transformClient: (client) => HttpClient.mapRequest(withProtocolHeader(client), HttpClientRequest.bearerToken(tokenOf(host)))
  })

/** The closure a host ran before the rollout (what it reports until it switches). */
export const priorOf = (host: string) => `/nix/store/${"0".repeat(32)}-prior-${host}` as ClosureHash

/** What the simulated fleet did, for the assertions. */
export interface DriveLog {
  /** Hosts that received a dispatch, in order. */
  readonly dispatched: Array<HostId>
  /** The most hosts seen Activating or Soaking at once (sampled after each activation phase). */
  maxInFlight: number
}

/** Per-host agent state kept by the driver: next seq and, once activated, the soak deadline. */
interface AgentView {
  seq: number
  rolloutId: RolloutId | null
  target: ClosureHash | null
  soakDueAt: Timestamp | null
  running: ClosureHash
  done: boolean
}

/** Options of {@link drive}. */
export interface DriveOptions {
  /** Hosts that fail their probes after activating (rollback-and-halt is in their event). */
  readonly failing?: ReadonlySet<string>
  /** Stop after this many one-minute rounds. */
  readonly rounds: number
  /** Stop early once this holds. */
  readonly until?: Effect.Effect<boolean, unknown, Storage>
}

/**
 * Runs the simulated agents for up to `rounds` one-minute rounds: each round every host polls for
 * a dispatch and activates it (DispatchAck, ActivationStarted, ActivationCompleted), the fleet's
 * in-flight count is sampled, hosts past their soak deadline report Converged (or, if failing,
 * Failed then RollbackComplete), and the clock moves on a minute (plan ticks and polls run).
 */
export const drive = (hosts: ReadonlyArray<HostId>, options: DriveOptions) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const reducer = yield* CpReducer
    const clients = new Map<HostId, Effect.Effect.Success<ReturnType<typeof clientFor>>>()
    for (const h of hosts) clients.set(h, yield* clientFor(h))
    const agents = new Map<HostId, AgentView>(hosts.map((h) => [h, { seq: 0, rolloutId: null, target: null, soakDueAt: null, running: priorOf(h), done: false }]))
    const log: DriveLog = { dispatched: [], maxInFlight: 0 }
    const post = (host: HostId, agent: AgentView, event: Record<string, unknown>) =>
      Effect.gen(function* () {
        agent.seq += 1
        const client = clients.get(host)!
        yield* client.agent.events({ payload: { hostname: host, rolloutId: agent.rolloutId!, event: { ...event, seq: agent.seq } as never } })
      })
    const now = () => Effect.map(Clock.currentTimeMillis, (ms) => ms as Timestamp)

    for (let round = 0; round < options.rounds; round++) {
      for (const host of hosts) {
        const agent = agents.get(host)!
        if (agent.target !== null) continue
        const dispatch = yield* clients.get(host)!.agent.dispatch({ urlParams: { wait: 0 } })
        if (dispatch === undefined || dispatch === null) continue
        log.dispatched.push(host)
        const at = yield* now()
        Object.assign(agent, { rolloutId: dispatch.rolloutId, target: dispatch.targetClosure, soakDueAt: dispatch.soakDueAt, seq: 0 })
        yield* post(host, agent, { _tag: "DispatchAck", currentClosureAtDispatch: agent.running, receivedAt: at })
        yield* post(host, agent, { _tag: "ActivationStarted", startedAt: at, switchMethod: "switch-to-configuration" })
        agent.running = dispatch.targetClosure
        yield* post(host, agent, { _tag: "ActivationCompleted", observedCurrentClosure: agent.running, exitCode: 0, completedAt: at })
      }
      const records = yield* storage.allHostRecords
      log.maxInFlight = Math.max(log.maxInFlight, records.filter((r) => r.state === "Activating" || r.state === "Soaking").length)
      const at = yield* now()
      for (const host of hosts) {
        const agent = agents.get(host)!
        if (agent.target === null || agent.done || agent.soakDueAt === null) continue
        if (options.failing?.has(host) === true) {
          yield* post(host, agent, { _tag: "Failed", failedAt: at, sustainedDurationSecs: 120, failingProbes: ["http"], policyApplied: "rollback-and-halt" })
          agent.running = priorOf(host)
          yield* post(host, agent, { _tag: "RollbackComplete", revertedToClosure: agent.running, exitCode: 0, completedAt: at })
          agent.done = true
        } else if (at >= agent.soakDueAt) {
          yield* post(host, agent, { _tag: "Converged", convergedAt: at, currentClosure: agent.target })
          agent.done = true
        }
      }
      yield* reducer.barrier
      if (options.until !== undefined && (yield* options.until)) break
      yield* TestClock.adjust("1 minute")
      yield* reducer.barrier
    }
    return { log, running: new Map([...agents].map(([h, a]) => [h, a.running])) }
  })

/** Every host record's state, by "rollout/host". */
export const hostStates = Effect.gen(function* () {
  const storage = yield* Storage
  return new Map((yield* storage.allHostRecords).map((r) => [`${r.rolloutId}/${r.hostname}`, r.state] as const)) as ReadonlyMap<string, HostState>
})
