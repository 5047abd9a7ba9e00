/**
 * The agent runtime: `layer(config)` (the reducer, applier and workers over the ports), the
 * ControlPlaneClient adapters (`layerHttpClient`; `layerInProcessServer` + `layerInProcessClient`
 * for agents and a CP in one process over its HTTP stack; `layerDirectClient` over the CP's
 * AgentEndpoint, without HTTP), and the pieces they are made of.
 *
 * Invariant: only the agent reducer calls `step()` on the agent; everything else offers inputs.
 */
export { Agent, type AgentService, layer } from "./agent.js"
export { applyAgentEffect, type ApplierDeps } from "./applier.js"
export { type FleetApiClient, type FleetClientOptions, fleetClientOver, makeFleetApi, makeFleetClient, toCpError } from "./client/fleetClient.js"
export { CpCredentials, type HttpClientConfig, layerHttpClient } from "./client/http.js"
export { layerDirectClient, makeDirectClient } from "./client/direct.js"
export { IN_PROCESS_URL, type InProcessClientConfig, InProcessCp, layerInProcessClient, layerInProcessServer } from "./client/inProcess.js"
export { type AgentConfig, resolveAgentConfig, type ResolvedAgentConfig, SWITCH_METHOD } from "./config.js"
export { type ActivationIntent, AgentInput } from "./input.js"
export { makePolicySource, type PolicySource } from "./policySource.js"
export { AGENT_QUEUE_CAPACITY, type AgentReducer, type AgentReducerDeps, type AgentState, makeAgentReducer } from "./reducer.js"
export { bootHandshake, type HandshakeDeps, type HandshakeOutcome } from "./recovery.js"
export { cpBackoff, isUnavailable, MAX_BACKOFF, retryUnavailable } from "./retry.js"
export { channelPolicies, DispatchRefused, FleetRefused, verifyDispatch, verifyFleet, type VerifiedFleet } from "./trust.js"
export { DrainOutcome, type Drainer, makeDrainer } from "./workers/drainer.js"
