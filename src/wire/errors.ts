/**
 * The typed errors of the HTTP API: each is a `Schema.TaggedError` whose HTTP status is an
 * `HttpApiSchema` annotation, so the server encodes it and the client decodes it by status.
 *
 * Invariant: every error a route can answer with is one of these (or a domain TransitionError
 * inside {@link Conflict}); their JSON bodies are `{"_tag": ..., ...fields}` and a request
 * answered with any of them changed nothing on the CP.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { TransitionError } from "../domain/errors.js"

/** 400: malformed JSON, a body or parameter that does not match its schema, a bad header. */
export class BadRequest extends Schema.TaggedError<BadRequest>()(
  "BadRequest",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 400, description: "The request is malformed or does not match its schema." })
) {}

/** 401: no credentials, or credentials the CP does not accept. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 401, description: "Missing or invalid credentials." })
) {}

/** 403: an authenticated agent acting for another host. */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 403, description: "The principal may not act for this host." })
) {}

/** 404: an unknown rollout, host record or route. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { reason: Schema.String },
  HttpApiSchema.annotations({ status: 404, description: "No such rollout or host record." })
) {}

/** 409: the host state machine refused the event (illegal for the state, invariant violation). */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { error: TransitionError },
  HttpApiSchema.annotations({ status: 409, description: "The event is not legal for the host's recorded state." })
) {}

/** 413: the request body is larger than the CP accepts. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { limitBytes: Schema.Number },
  HttpApiSchema.annotations({ status: 413, description: "The request body exceeds the size limit." })
) {}

/** 426: the client speaks another protocol version (`x-nixfleet-protocol`). */
export class ProtocolMismatch extends Schema.TaggedError<ProtocolMismatch>()(
  "ProtocolMismatch",
  { expected: Schema.Number, got: Schema.Number },
  HttpApiSchema.annotations({ status: 426, description: "Unsupported x-nixfleet-protocol version." })
) {}

/**
 * 503: the CP cannot take the request now (not ready, reducer queue full, reply timeout, storage
 * failure). The response also carries a `Retry-After: <retryAfterSeconds>` header.
 */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { reason: Schema.String, retryAfterSeconds: Schema.Number.pipe(Schema.int(), Schema.nonNegative()) },
  HttpApiSchema.annotations({ status: 503, description: "Try again after Retry-After seconds." })
) {}
