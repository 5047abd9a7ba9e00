/**
 * effect-fleet: a fleet-rollout engine for Nix closures, as an embeddable Effect library.
 *
 * The package root exports the domain model and the pure core (reducers, planner, trust);
 * adapters live under the `effect-fleet/memory`, `effect-fleet/sqlite` and `effect-fleet/nix`
 * subpaths. Invariant: importing the root performs no I/O.
 */
export * from "./domain/index.js"
export * from "./machine/index.js"
