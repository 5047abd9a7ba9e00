/**
 * The authentication middlewares of the HTTP API, declared here so the server and the client share
 * them (the client only needs their failure schema).
 *
 * Invariant: an agent route runs only with an {@link AuthenticatedHost} (the hostname proven by
 * the client certificate or bearer token); an operator route only with an
 * {@link AuthenticatedPrincipal}. Failing to authenticate answers 401 {@link Unauthorized}.
 */
import { HttpApiMiddleware } from "@effect/platform"
import { Context, Data } from "effect"
import type { HostId } from "../domain/ids.js"
import { Unauthorized } from "./errors.js"

/** The hostname the request's credentials prove (an agent). */
export class AuthenticatedHost extends Context.Tag("effect-fleet/http/AuthenticatedHost")<AuthenticatedHost, HostId>() {}

/** Who made an operator request: an agent (any valid host credential) or the operator token. */
export type Principal = Data.TaggedEnum<{
  Agent: { readonly hostname: HostId }
  Operator: {}
}>
/** Constructors of {@link Principal}. */
export const Principal = Data.taggedEnum<Principal>()

/** The principal of an operator request. */
export class AuthenticatedPrincipal extends Context.Tag("effect-fleet/http/AuthenticatedPrincipal")<AuthenticatedPrincipal, Principal>() {}

/** Authenticates agent routes; provides {@link AuthenticatedHost}. */
export class AgentAuthentication extends HttpApiMiddleware.Tag<AgentAuthentication>()("effect-fleet/http/AgentAuthentication", {
  failure: Unauthorized,
  provides: AuthenticatedHost
}) {}

/** Authenticates operator routes; provides {@link AuthenticatedPrincipal}. */
export class OperatorAuthentication extends HttpApiMiddleware.Tag<OperatorAuthentication>()(
  "effect-fleet/http/OperatorAuthentication",
  { failure: Unauthorized, provides: AuthenticatedPrincipal }
) {}
