/**
 * The authentication middlewares' implementations: agent routes take the hostname the AgentAuth
 * port proves; operator routes accept any agent credential or the configured operator token.
 *
 * Invariant: neither reads the body or changes state; a failure is `Unauthorized` (401).
 */
import { HttpServerRequest } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
import { AgentAuth } from "../../ports/agentAuth.js"
import { AgentAuthentication, OperatorAuthentication, Principal } from "../../wire/security.js"
import { bearerToken, tokensEqual } from "../auth/bearer.js"

/** AgentAuthentication through the AgentAuth port. */
export const layerAgentAuthentication: Layer.Layer<AgentAuthentication, never, AgentAuth> = Layer.effect(
  AgentAuthentication,
  Effect.map(AgentAuth, (auth) => Effect.flatMap(HttpServerRequest.HttpServerRequest, auth.authenticate))
)

/**
 * OperatorAuthentication: the operator token (when configured and presented as a bearer token)
 * or else any credential the AgentAuth port accepts. Decision: the reference has no role split
 * (any agent certificate reads the operator routes); we keep that and add the token so humans
 * without a client certificate can read them too.
 */
export const layerOperatorAuthentication = (operatorToken: Redacted.Redacted | null): Layer.Layer<OperatorAuthentication, never, AgentAuth> =>
  Layer.effect(
    OperatorAuthentication,
    Effect.map(AgentAuth, (auth) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const token = bearerToken(request)
        if (operatorToken !== null && token !== null && tokensEqual(token, Redacted.value(operatorToken))) return Principal.Operator()
        const hostname = yield* auth.authenticate(request)
        return Principal.Agent({ hostname })
      })
    )
  )
