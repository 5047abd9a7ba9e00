/**
 * The wire: the HttpApi definition, its errors, schemas and protocol constants, shared by the CP
 * server and the agent client.
 *
 * Invariant: this folder only declares; it performs no I/O.
 */
export * from "./api.js"
export * from "./errors.js"
export * from "./protocol.js"
export * from "./schemas.js"
export * from "./security.js"
