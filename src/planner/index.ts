/**
 * The planner: `planNext` (open rollouts, gate and queue dispatches), the six gates, the fleet
 * state it reads and the explanation of a host's gate verdicts.
 *
 * Invariant: nothing in this folder performs I/O, reads a clock or throws.
 */
export * from "./actions.js"
export * from "./budgets.js"
export * from "./context.js"
export * from "./evaluate.js"
export * from "./explain.js"
export * from "./fleetState.js"
export * from "./gateBlock.js"
export * from "./gates/channelEdges.js"
export * from "./gates/complianceWave.js"
export * from "./gates/disruptionBudget.js"
export * from "./gates/hostEdges.js"
export * from "./gates/quarantine.js"
export * from "./gates/wavePromotion.js"
export * from "./manifestIndex.js"
export * from "./planNext.js"
export * from "./soak.js"
export * from "./types.js"
