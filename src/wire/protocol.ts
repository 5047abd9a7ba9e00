/**
 * The wire protocol version: the CP checks `x-nixfleet-protocol` on every `/v1/*` request and the
 * agent client always sends it.
 *
 * Invariant: {@link PROTOCOL_VERSION} changes only with an incompatible change of the API in
 * `api.ts`; a CP answers 426 to any other integer.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"

/** The protocol header name (lower case, as Node exposes it). */
export const PROTOCOL_HEADER = "x-nixfleet-protocol"

/** The protocol version this library speaks. */
export const PROTOCOL_VERSION = 1

/** The header value this library sends. */
export const PROTOCOL_HEADER_VALUE = String(PROTOCOL_VERSION)

/** The path prefix on which the protocol header is checked. */
export const VERSIONED_PREFIX = "/v1/"

/** Adds the protocol header to every request of a client (pass to `HttpApiClient.make`'s `transformClient`). */
export const withProtocolHeader = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.mapRequest(client, HttpClientRequest.setHeader(PROTOCOL_HEADER, PROTOCOL_HEADER_VALUE))
