/**
 * The fleet simulator: one real CP and real agents on simulated hosts, on a virtual clock, from a
 * seed (`simulate`), the expected-outcome check (`verifyOutcome`) and plain-text views
 * (`renderFrame`, `renderSummary`) used by `examples/demo.ts`, and the signed sample fleet they run.
 *
 * Invariant: the simulator decides nothing; it moves time, scripts hosts and observes.
 */
export { type Outcome, verifyOutcome } from "./outcome.js"
export { formatDuration, renderFrame, renderSummary } from "./render.js"
export { between, unit } from "./rng.js"
export { type Frame, SIM_SIGNED_AT, simulate, type SimulateOptions, type SimulationResult } from "./simulate.js"
export { countStates, type Deferral, FINISHED, quiesce, type Snapshot, takeSnapshot } from "./snapshot.js"
export { makeVirtualClock, type VirtualClock } from "./virtualClock.js"
export { type HostScript, makeHost, PRIOR_CLOSURE, SIM_AGENT_TIMING, SIM_PROBE, simCpLayer, type SimHost, simTokenOf, startAgent } from "./world.js"
export { ALL_FAULTS, FAULT_RATE, type Fault, type HostFaults, NO_FAULTS, planFaults, TRANSIENT_FAILURE_SECONDS } from "./faults.js"
export { checkLog, checkStep, type Violation } from "./invariants.js"
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
