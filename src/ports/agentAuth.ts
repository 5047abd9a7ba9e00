/**
 * The AgentAuth port: who is calling? It turns an HTTP request's credentials (a client
 * certificate, a bearer token) into the hostname they prove.
 *
 * Invariant: `authenticate` only reads the request (headers, TLS peer certificate) and the
 * adapter's own credential store; it never consumes the body and never changes state, so a
 * refused request changed nothing.
 */
import type { HttpServerRequest } from "@effect/platform"
import { Context, type Effect } from "effect"
import type { HostId } from "../domain/ids.js"
import type { Unauthorized } from "../wire/errors.js"

/** The AgentAuth service. */
export interface AgentAuthService {
  /** The hostname the request's credentials prove, or `Unauthorized` (no, unknown or revoked credentials). */
  readonly authenticate: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HostId, Unauthorized>
}

/**
 * Authenticates agents. Adapters: bearer tokens (`effect-fleet/memory`: `layerBearerTokens`,
 * `layerBearerTokensFile`, `layerBearerTokensConfig`) and mTLS (src/cp/auth: `layerMtls`).
 */
export class AgentAuth extends Context.Tag("effect-fleet/AgentAuth")<AgentAuth, AgentAuthService>() {}
