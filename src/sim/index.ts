/**
 * The fleet simulator: one real CP and real agents on simulated hosts, on a virtual clock, from a
 * seed (`simulate`), the expected-outcome check (`verifyOutcome`) and plain-text views
 * (`renderFrame`, `renderSummary`) used by `examples/demo.ts`, and the signed sample fleet they run.
 *
 * Agents reach the CP over either transport ("direct" or "http"); in the scale mode scripted hosts
 * (`runScriptedHost`) stand in for real agents.
 *
 * Also: the CP as a process that can restart or lose its database (`makeCpProcess`), the seeded
 * network faults (`withNetworkFaults`), and every invariant check, usable on their own.
 *
 * Invariant: the simulator decides nothing; it moves time, scripts hosts, injects faults and
 * observes.
 */
export { type Outcome, verifyOutcome } from "./outcome.js"
export { formatDuration, renderFrame, renderSummary } from "./render.js"
export { between, unit } from "./rng.js"
export { type Frame, type Injected, SIM_SIGNED_AT, simulate, type SimulateOptions, type SimulationResult } from "./simulate.js"
export { countStates, type Deferral, FINISHED, quiesce, type Snapshot, takeSnapshot } from "./snapshot.js"
export { makeVirtualClock, type VirtualClock } from "./virtualClock.js"
export {
  type HostScript,
  makeHost,
  PRIOR_CLOSURE,
  SIM_AGENT_TIMING,
  SIM_PROBE,
  SIM_PROBES,
  simCoreLayer,
  simCpLayer,
  type SimHost,
  simTokenOf,
  type SimTransport,
  startAgent
} from "./world.js"
export {
  ALL_FAULTS,
  type CpOutage,
  FAULT_RATE,
  type Fault,
  type HostFaults,
  isNetworkFault,
  NETWORK_FAULTS,
  type NetworkFault,
  NO_FAULTS,
  planCpOutages,
  planFaults,
  REBOOT_SECONDS,
  TRANSIENT_FAILURE_SECONDS
} from "./faults.js"
export { answersEarlierStorage, checkLog, checkStep, type LogCheckOptions, type StepCheckOptions, type Violation } from "./invariants.js"
export { type CpProcess, type EpochData, makeCpProcess, type SimCpServices } from "./cpProcess.js"
export { type DispatchObservation, observeDispatches } from "./observer.js"
export {
  type AckedEvent,
  type HostNetwork,
  makeHostNetwork,
  makeNetworkRecorder,
  NET_RATE,
  networkFaultFor,
  type NetworkOptions,
  type NetworkRecorder,
  type RequestKind,
  withNetworkFaults
} from "./network.js"
export { type HostDriver, type HostInjected, makeHostDriver } from "./hostDriver.js"
export { runScriptedHost, type ScriptedHostOptions } from "./scriptedHost.js"
export { type ChangeCounter, countChanges, makeChangeCounter } from "./changes.js"
export { checkReplay, REPLAYED_FIELDS } from "./replay.js"
export { checkDispatches, plannerBlock, simpleGateBlocks } from "./dispatchGates.js"
export { type AgentView, checkAcks, checkAgents } from "./delivery.js"
export {
  CANARY_POLICY,
  SAMPLE_CI_COMMIT,
  sampleClosure,
  sampleFleet,
  type SampleFleet,
  type SampleFleetOptions,
  signSampleFleet,
  type SignedSampleFleet,
  STAGED_POLICY,
  trustFor,
  writeSampleFleet
} from "./sampleFleet.js"
