/**
 * effect-fleet: a fleet-rollout engine for Nix closures, as an embeddable Effect library.
 *
 * The package root exports the domain model, the pure core (reducers, planner), the ports, and
 * two namespaces: `Trust` (canonical JSON, signing, verification) and `ControlPlane` (the CP
 * runtime: `ControlPlane.layer`, `ControlPlane.CpReducer`, ...). Adapters live under the
 * `effect-fleet/memory`, `effect-fleet/sqlite` and `effect-fleet/nix` subpaths.
 * Invariant: importing the root performs no I/O.
 */
export * from "./domain/index.js"
export * from "./machine/index.js"
export * from "./planner/index.js"
export * from "./ports/index.js"
export * as Agent from "./agent/index.js"
export * as ControlPlane from "./cp/index.js"
export * as Trust from "./trust/index.js"
export * as Wire from "./wire/index.js"
