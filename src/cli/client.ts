/**
 * The CLI's connection to a control plane: an HttpApiClient of the shared FleetApi definition,
 * with the protocol header and the bearer token on every request.
 *
 * Invariant: the CLI only reads through the operator routes; it never offers reducer inputs.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { FleetApi } from "../wire/api.js"
import { withProtocolHeader } from "../wire/protocol.js"

/** Where the CP is and how to authenticate. */
export interface CpConnection {
  readonly url: string
  readonly token: Option.Option<string>
}

/** A typed client of the CP's API for this connection. */
export const cpClient = (connection: CpConnection) =>
  HttpApiClient.make(FleetApi, {
    baseUrl: connection.url,
    transformClient: (client) => {
      const versioned = withProtocolHeader(client)
      return Option.match(connection.token, {
        onNone: () => versioned,
        onSome: (token) => HttpClient.mapRequest(versioned, HttpClientRequest.bearerToken(token))
      })
    }
  }).pipe(Effect.withSpan("cli.cpClient"))
