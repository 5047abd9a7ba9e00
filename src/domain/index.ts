/**
 * The domain model: every type the reducers, planner, ports and wire share, as Schemas.
 *
 * Invariant: this folder holds data definitions and tiny total helpers only; no I/O.
 */
export * from "./agentEvent.js"
export * from "./effects.js"
export * from "./errors.js"
export * from "./events.js"
export * from "./hostState.js"
export * from "./ids.js"
export * from "./policy.js"
export * from "./probe.js"
export * from "./rollout.js"
export * from "./schema.js"
export * from "./snapshot.js"
export * from "./time.js"
export * from "./fleet.js"
export * from "./manifest.js"
export * from "./trust.js"
