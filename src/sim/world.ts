/**
 * The simulated world: one real control plane (core, manifest poll, the agent routes' endpoint
 * and, for the "http" transport, its HTTP API served in-process with bearer-token auth) on memory
 * or SQLite storage, and one real agent per host on a simulated host, talking to the CP through
 * the client of the run's transport (see {@link SimTransport}). Everything runs on Effect's Clock.
 *
 * Invariant: the world only builds layers and scripts the simulated hosts; every rollout
 * decision is the CP's or an agent's.
 */
import { Context, Effect, Exit, Layer, Schema, Scope } from "effect"
import { layerBearerTokens, layerMemoryManifestSource, makeMemoryOutboundQueue } from "../../adapters/memory/index.js"
import { makeSimulatedHost, SimulatedActivation, type SimulatedHostParts } from "../../adapters/memory/simulatedHost.js"
import type { SignedSampleFleet } from "./sampleFleet.js"
import { Agent, type AgentService, layer as agentLayer, layerInProcessServer } from "../agent/index.js"
import { AgentEndpoint, layer as coreLayer, ManifestPoll } from "../cp/index.js"
import { HttpMetrics, layerServe, resolveHttpOptions } from "../cp/http/index.js"
import type { ClosureHash, HostId, ProbeName } from "../domain/index.js"
import {
  Activator,
  ControlPlaneClient,
  type ControlPlaneClientService,
  type EventLog,
  OutboundQueue,
  type OutboundQueueService,
  ProbeDeclaration,
  probeFail,
  ProbeRunner,
  type Storage,
  type StorageError
} from "../ports/index.js"

/** The closure every simulated host runs before the rollout. */
export const PRIOR_CLOSURE = "/nix/store/00000000000000000000000000000000-nixos-system-prior" as ClosureHash

/** The one probe every simulated agent runs. */
export const SIM_PROBE = "web" as ProbeName
/** Every simulated host's declared probes: {@link SIM_PROBE}, an enforce HTTP probe every 30 s. */
export const SIM_PROBES = { [SIM_PROBE]: Schema.decodeUnknownSync(ProbeDeclaration)({ kind: "http", url: "http://127.0.0.1/health" }) }

/**
 * The agents' timing in the simulator: coarser than the defaults (fewer wake-ups per simulated
 * hour) but well inside the protocol's limits (the 120 s sustained-failure rule needs probes).
 */
export const SIM_AGENT_TIMING = {
  heartbeatInterval: "5 minutes",
  advanceInterval: "20 seconds",
  drainInterval: "30 seconds",
  dispatchWaitSeconds: 300
} as const

/** A host's bearer token in the simulated world. */
export const simTokenOf = (host: string) => `sim-token-${host}`

/**
 * How the simulated agents reach the CP:
 * - `"direct"`: each call goes to the CP's AgentEndpoint as the agent's host (`makeDirectClient`):
 *   the answers HTTP would give (test/agent/clientConformance.test.ts) at a fraction of the cost;
 * - `"http"`: each call goes through the CP's full HTTP stack in-process (request encoding,
 *   guard, bearer-token authentication, routing, body decoding: `layerInProcessClient`).
 */
export type SimTransport = "http" | "direct"

/** The CP's HTTP settings in the simulator (the endpoint of the "direct" transport uses the same). */
// Agents ask for 300 s long-polls (SIM_AGENT_TIMING); the reference cap of 60 s would wake each idle agent every minute.
const SIM_HTTP_OPTIONS = { maxDispatchWaitSeconds: SIM_AGENT_TIMING.dispatchWaitSeconds } as const

/** The CP for `signed` over `storage` without HTTP: core, manifest poll and the agent routes' endpoint. */
export const simCoreLayer = (signed: SignedSampleFleet, storage: Layer.Layer<Storage | EventLog, StorageError>) => {
  const core = coreLayer({ planInterval: "15 seconds" }).pipe(Layer.provideMerge(storage))
  const poll = ManifestPoll.layer({ interval: "10 minutes" }).pipe(Layer.provide(layerMemoryManifestSource(signed.files)), Layer.provideMerge(core))
  return AgentEndpoint.layer(resolveHttpOptions(SIM_HTTP_OPTIONS)).pipe(Layer.provide(HttpMetrics.layer), Layer.provideMerge(poll))
}

/** The complete CP for `signed` over `storage`: {@link simCoreLayer} and the HTTP API served in-process. */
export const simCpLayer = (signed: SignedSampleFleet, storage: Layer.Layer<Storage | EventLog, StorageError>) => {
  const tokens = Object.fromEntries(signed.hosts.map((h) => [simTokenOf(h), h]))
  return layerServe(SIM_HTTP_OPTIONS).pipe(
    Layer.provideMerge(layerInProcessServer),
    Layer.provide(layerBearerTokens(tokens)),
    Layer.provideMerge(simCoreLayer(signed, storage))
  )
}

/** How one simulated host behaves. */
export interface HostScript {
  /** How long its switches take, in seconds. */
  readonly activationSeconds: number
  /** Its enforce probe fails on the new closure (sustained failure). */
  readonly probeFails: boolean
  /** Its switch to the new closure is deferred until a reboot. */
  readonly deferred: boolean
}

/** One simulated host and its agent (replaced when the agent restarts). */
export interface SimHost {
  readonly host: HostId
  readonly sim: SimulatedHostParts
  readonly queue: OutboundQueueService
  readonly agent: AgentService
  readonly kill: Effect.Effect<void>
}

/** Builds a simulated host for `host`, scripted by `script`. */
export const makeHost = (signed: SignedSampleFleet, host: HostId, script: HostScript) =>
  Effect.gen(function* () {
    const sim = yield* makeSimulatedHost({
      initialClosure: PRIOR_CLOSURE,
      activationTime: `${script.activationSeconds} seconds`,
      rollbackTime: "5 seconds"
    })
    const target = signed.fleet.hosts[host]?.closureHash
    if (target !== undefined && target !== null) {
      if (script.probeFails) yield* sim.control.setProbe(SIM_PROBE, probeFail("simulated: connection refused"), target)
      if (script.deferred) yield* sim.control.script(target, SimulatedActivation.Defer({ component: "kernel" }))
    }
    const queue = yield* makeMemoryOutboundQueue
    return { sim, queue }
  })

/**
 * Starts (or restarts) the agent of a simulated host, in its own scope, over `client` (its
 * connection to the CP, see `CpProcess.clientFor`). `wrapClient` wraps the agent's CP client (the
 * simulator's network faults).
 */
export const startAgent = (
  signed: SignedSampleFleet,
  host: HostId,
  parts: { readonly sim: SimulatedHostParts; readonly queue: OutboundQueueService },
  connection: Layer.Layer<ControlPlaneClient>,
  wrapClient: (client: ControlPlaneClientService) => ControlPlaneClientService = (client) => client
) =>
  Effect.gen(function* () {
    const client = Layer.effect(ControlPlaneClient, Effect.map(ControlPlaneClient, wrapClient)).pipe(Layer.provide(connection))
    const layer = agentLayer({ hostname: host, trust: signed.trust, probes: SIM_PROBES, ...SIM_AGENT_TIMING }).pipe(
      Layer.provide(client),
      Layer.provide(Layer.succeed(OutboundQueue, parts.queue)),
      Layer.provide(Layer.succeed(Activator, parts.sim.activator)),
      Layer.provide(Layer.succeed(ProbeRunner, parts.sim.probeRunner))
    )
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layer, scope)
    const simHost: SimHost = { host, ...parts, agent: Context.get(context, Agent), kill: Scope.close(scope, Exit.void) }
    return simHost
  })

