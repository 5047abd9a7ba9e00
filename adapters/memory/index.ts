/**
 * `effect-fleet/memory`: every port in memory, for tests, examples and the simulator.
 *
 * - `layerMemory`: Storage + EventLog over one in-memory database (one transaction covers both).
 * - `layerMemoryOutboundQueue`: the agent's OutboundQueue (not durable across processes).
 * - `layerMemoryManifestSource(files)`: the CP's ManifestSource over release files in memory.
 * - `layerSimulatedHost(options)`: Activator + ProbeRunner + SimulatedHost, a scriptable host
 *   whose switches take time on Effect's Clock (TestClock drives them).
 *
 * Invariant: each layer build starts empty and shares nothing with other builds.
 */
export { makeMemoryDb, type MemoryDb } from "./db.js"
export { layerMemoryManifestSource, makeMemoryManifestSource, type MemoryManifestSource } from "./manifestSource.js"
export { layerMemoryOutboundQueue, makeMemoryOutboundQueue } from "./outboundQueue.js"
export {
  layerSimulatedHost,
  makeSimulatedHost,
  SimulatedActivation,
  SimulatedHost,
  type SimulatedHostOptions,
  type SimulatedHostParts,
  type SimulatedHostService,
  type SimulatedHostState
} from "./simulatedHost.js"
export { BearerTokens, layerBearerTokens, layerBearerTokensConfig, layerBearerTokensFile, makeBearerTokenAuth } from "./agentAuth.js"
export { layerMemory } from "./storage.js"
