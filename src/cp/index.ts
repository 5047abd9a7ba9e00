/**
 * The control-plane runtime: the reducer (single mutator), applier, event-log writer, dispatch
 * notifier, heartbeat recovery, and the `layer` that composes them.
 *
 * Invariant: only the reducer fiber calls `step()` / `planNext()`; everything else offers inputs.
 */
export * from "./agentEndpoint.js"
export * from "./applier.js"
export * from "./auditEntries.js"
export * from "./controlPlane.js"
export * from "./eventLogWriter.js"
export * from "./input.js"
export * from "./journal.js"
export * from "./manifestPoll.js"
export * from "./manifests.js"
export * from "./manifestSource/index.js"
export * from "./notifier.js"
export { CpReducer, type CpReducerService, type ReducerConfig, type ReducerState, REDUCER_QUEUE_CAPACITY } from "./reducer.js"
export * from "./recovery.js"
export * from "./auth/index.js"
export * as Http from "./http/index.js"
export * from "./runtime.js"
