/**
 * The HTTP ControlPlaneClient: the FleetApi client over Node's http/https, authenticated by a
 * bearer token or a client certificate (mTLS), optionally trusting a private CA.
 *
 * Invariants: the protocol header and the credentials are on every request; TLS material is read
 * by the caller (this module takes PEM text, never paths) and the https agent lives in the
 * layer's scope (closing it destroys the sockets).
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Data, Layer, Redacted } from "effect"
import { ControlPlaneClient } from "../../ports/controlPlaneClient.js"
import { type FleetClientOptions, makeFleetClient } from "./fleetClient.js"

/** How the agent proves its identity to the CP. */
export type CpCredentials = Data.TaggedEnum<{
  /** `Authorization: Bearer <token>` (the CP maps the token to a hostname). */
  BearerToken: { readonly token: Redacted.Redacted }
  /** A client certificate whose CN names the host (PEM text). */
  ClientCertificate: { readonly certPem: string; readonly keyPem: Redacted.Redacted }
  /** No credentials (a CP behind an authenticating proxy, tests). */
  Anonymous: {}
}>
/** Constructors of {@link CpCredentials}. */
export const CpCredentials = Data.taggedEnum<CpCredentials>()

/** Settings of the HTTP client. */
export interface HttpClientConfig extends Omit<FleetClientOptions, "authorize"> {
  readonly credentials: CpCredentials
  /** PEM of the CA that signed the CP's server certificate, when it is not a public one. */
  readonly caPem?: string
}

/** Node https agent options for the credentials and CA. */
const tlsOptions = (config: HttpClientConfig) => ({
  ...(config.caPem === undefined ? {} : { ca: config.caPem }),
  ...(config.credentials._tag === "ClientCertificate"
    ? { cert: config.credentials.certPem, key: Redacted.value(config.credentials.keyPem) }
    : {}),
  keepAlive: true
})

/** Adds the bearer token to every request, when the credentials are one. */
export const authorizeWith =
  (credentials: CpCredentials) =>
  (client: HttpClient.HttpClient): HttpClient.HttpClient =>
    credentials._tag === "BearerToken"
      ? HttpClient.mapRequest(client, HttpClientRequest.bearerToken(Redacted.value(credentials.token)))
      : client

/** The ControlPlaneClient over HTTP(S). */
export const layerHttpClient = (config: HttpClientConfig): Layer.Layer<ControlPlaneClient> =>
  Layer.effect(ControlPlaneClient, makeFleetClient({ ...config, authorize: authorizeWith(config.credentials) })).pipe(
    Layer.provide(NodeHttpClient.layerWithoutAgent),
    Layer.provide(NodeHttpClient.makeAgentLayer(tlsOptions(config)))
  )
