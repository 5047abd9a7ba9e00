/**
 * The pure state machines: the host reducer shared by agent and CP, the CP's rollout reducer,
 * and snapshot rehydration.
 *
 * Invariant: nothing in this folder performs I/O, reads a clock or throws.
 */
export * from "./advance.js"
export * from "./catchUp.js"
export * from "./host.js"
export * from "./probes.js"
export * from "./rehydrate.js"
export * from "./rollout.js"
