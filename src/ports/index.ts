/**
 * The ports: the abstract services behind which every side effect of effect-fleet lives.
 *
 * Invariant: this folder declares interfaces, tags, error types and their schemas only; adapters
 * (adapters/memory, adapters/sqlite, adapters/nix) implement them.
 */
export * from "./activator.js"
export * from "./agentAuth.js"
export * from "./clock.js"
export * from "./controlPlaneClient.js"
export * from "./errors.js"
export * from "./eventLog.js"
export * from "./manifestSource.js"
export * from "./outboundQueue.js"
export * from "./probeRunner.js"
export * from "./storage.js"
