/**
 * The simulated world: one real control plane (core, manifest poll, HTTP API served in-process,
 * bearer-token auth) on memory or SQLite storage, and one real agent per host on a simulated
 * host, talking to the CP through the in-process client. Everything runs on Effect's Clock.
 *
 * Invariant: the world only builds layers and scripts the simulated hosts; every rollout
 * decision is the CP's or an agent's.
 */
import { Context, Effect, Exit, Layer, Redacted, Schema, Scope } from "effect"
import { layerBearerTokens, layerMemoryManifestSource, makeMemoryOutboundQueue } from "../../adapters/memory/index.js"
import { makeSimulatedHost, SimulatedActivation, type SimulatedHostParts } from "../../adapters/memory/simulatedHost.js"
import type { SignedSampleFleet } from "./sampleFleet.js"
import { Agent, type AgentService, CpCredentials, layer as agentLayer, layerInProcessClient, layerInProcessServer } from "../agent/index.js"
import { layer as coreLayer, ManifestPoll } from "../cp/index.js"
import { layerServe } from "../cp/http/index.js"
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
const PROBES = { [SIM_PROBE]: Schema.decodeUnknownSync(ProbeDeclaration)({ kind: "http", url: "http://127.0.0.1/health" }) }

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

/** The complete CP for `signed` over `storage`, serving the in-process HTTP API. */
export const simCpLayer = (signed: SignedSampleFleet, storage: Layer.Layer<Storage | EventLog, StorageError>) => {
  const core = coreLayer({ planInterval: "15 seconds" }).pipe(Layer.provideMerge(storage))
  const poll = ManifestPoll.layer({ interval: "10 minutes" }).pipe(Layer.provide(layerMemoryManifestSource(signed.files)), Layer.provideMerge(core))
  const tokens = Object.fromEntries(signed.hosts.map((h) => [simTokenOf(h), h]))
  // Agents ask for 300 s long-polls (SIM_AGENT_TIMING); the reference cap of 60 s would wake each idle agent every minute.
  return layerServe({ maxDispatchWaitSeconds: SIM_AGENT_TIMING.dispatchWaitSeconds }).pipe(Layer.provideMerge(layerInProcessServer), Layer.provide(layerBearerTokens(tokens)), Layer.provideMerge(poll))
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
 * Starts (or restarts) the agent of a simulated host, in its own scope; needs the CP's in-process
 * server. `wrapClient` wraps the agent's CP client (the simulator's network faults).
 */
export const startAgent = (
  signed: SignedSampleFleet,
  host: HostId,
  parts: { readonly sim: SimulatedHostParts; readonly queue: OutboundQueueService },
  wrapClient: (client: ControlPlaneClientService) => ControlPlaneClientService = (client) => client
) =>
  Effect.gen(function* () {
    const inProcess = layerInProcessClient({ credentials: CpCredentials.BearerToken({ token: Redacted.make(simTokenOf(host)) }) })
    const client = Layer.effect(ControlPlaneClient, Effect.map(ControlPlaneClient, wrapClient)).pipe(Layer.provide(inProcess))
    const layer = agentLayer({ hostname: host, trust: signed.trust, probes: PROBES, ...SIM_AGENT_TIMING }).pipe(
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

