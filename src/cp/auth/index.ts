/**
 * AgentAuth by mutual TLS and the shared credential helpers.
 *
 * Invariant: nothing here trusts a request's claims; identities come from verified certificates
 * or token digests only.
 */
export * from "./bearer.js"
export * from "./commonName.js"
export * from "./httpsServer.js"
export * from "./mtls.js"
