/**
 * The CP's request guard: the API-wide middleware every request passes before and after routing.
 * In order: readiness (on `/v1/*`), the protocol header (on `/v1/*`), the body (size limit, JSON
 * well-formedness); afterwards it turns framework failures into our typed errors, logs every
 * rejection and adds `Retry-After` to 503s.
 *
 * Invariant: a request the guard refuses never reaches a handler, so it changes nothing; every
 * refused request — here or in a handler — is logged once with its typed error.
 */
import { HttpApp, HttpMethod, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import { BadRequest, NotFound, PayloadTooLarge, ProtocolMismatch, Unavailable } from "../../wire/errors.js"
import { PROTOCOL_HEADER, PROTOCOL_VERSION, VERSIONED_PREFIX } from "../../wire/protocol.js"
import type { ResolvedHttpOptions } from "./config.js"
import type { HttpMetricsService } from "./metrics.js"

/** HTTP status of each typed error tag (and of the framework's decode error). */
const STATUS: Readonly<Record<string, number>> = {
  BadRequest: 400,
  HttpApiDecodeError: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  ProtocolMismatch: 426,
  Unavailable: 503
}

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" ? u._tag : undefined

/** The path of a request URL (without the query string). */
export const pathOf = (url: string): string => {
  const q = url.indexOf("?")
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Checks the protocol header: a missing one passes unless `strict`; a non-integer is a
 * BadRequest; another integer is a ProtocolMismatch.
 */
export const checkProtocol = (value: string | undefined, strict: boolean): Effect.Effect<void, BadRequest | ProtocolMismatch> => {
  if (value === undefined) {
    return strict ? Effect.fail(new BadRequest({ reason: `missing ${PROTOCOL_HEADER} header (strict mode)` })) : Effect.void
  }
  const trimmed = value.trim()
  if (!/^-?\d+$/.test(trimmed)) return Effect.fail(new BadRequest({ reason: `${PROTOCOL_HEADER} must be an integer, got "${value}"` }))
  const got = Number(trimmed)
  return got === PROTOCOL_VERSION ? Effect.void : Effect.fail(new ProtocolMismatch({ expected: PROTOCOL_VERSION, got }))
}

const isJsonContentType = (contentType: string | undefined): boolean =>
  contentType === undefined || contentType.toLowerCase().includes("application/json")

/**
 * The refusals of a request body that can be decided before reading it, in the guard's order: a
 * declared `content-length` over the limit (413), then a content type other than JSON (400).
 * Shared by the guard and the agent fast path (fastPath.ts), so both answer alike.
 */
export const bodyRefusedUnread = (
  declared: string | undefined,
  contentType: string | undefined,
  maxBodyBytes: number
): PayloadTooLarge | BadRequest | null => {
  // Built only when needed: constructing a typed error (schema check + stack capture) on every
  // request cost ~2% of the events route's CPU (bench/suites/http.ts profile).
  if (declared !== undefined && Number(declared) > maxBodyBytes) return new PayloadTooLarge({ limitBytes: maxBodyBytes })
  return isJsonContentType(contentType) ? null : new BadRequest({ reason: `content-type must be application/json, got "${contentType}"` })
}

/** The JSON document of a body's text: BadRequest when it is empty or not JSON (shared with the fast path). */
export const parseJsonBody = (text: string): Either.Either<unknown, BadRequest> => {
  if (text.trim() === "") return Either.left(new BadRequest({ reason: "empty body; a JSON document is required" }))
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (e) {
    return Either.left(new BadRequest({ reason: `malformed JSON: ${e instanceof Error ? e.message : String(e)}` }))
  }
}

/** The BadRequest of a body that could not be read (shared with the fast path). */
export const unreadableBody = (message: string): BadRequest => new BadRequest({ reason: `could not read the body: ${message}` })

/**
 * Reads the body once, under the size limit, and checks it is JSON (the read is cached by the
 * request, so the route's decoder parses the same text). A declared `content-length` over the
 * limit is refused before reading (413 reaches the client); a chunked body is cut off once it
 * passes the limit, and Node then resets the connection, so such a client may see the reset
 * rather than the 413 — either way nothing was processed.
 */
export const checkBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBodyBytes: number
): Effect.Effect<void, BadRequest | PayloadTooLarge> =>
  Effect.gen(function* () {
    const unread = bodyRefusedUnread(request.headers["content-length"], request.headers["content-type"], maxBodyBytes)
    if (unread !== null) return yield* unread
    const text = yield* request.text.pipe(
      HttpServerRequest.withMaxBodySize(Option.some(maxBodyBytes)),
      Effect.mapError((e) => (String(e.cause).includes("maxBytes exceeded") ? new PayloadTooLarge({ limitBytes: maxBodyBytes }) : unreadableBody(e.message)))
    )
    yield* parseJsonBody(text)
  })

/** Maps framework failures to typed errors: schema failures to BadRequest, unknown routes to NotFound. */
const toTypedError = (method: string, path: string) => (error: unknown): unknown => {
  switch (tagOf(error)) {
    case "HttpApiDecodeError":
      return new BadRequest({ reason: (error as { readonly message: string }).message })
    case "RouteNotFound":
      return new NotFound({ reason: `no route ${method} ${path}` })
    default:
      return error
  }
}

/** The HTTP status of a typed error (500 for anything else). */
export const statusOf = (error: unknown): number => {
  const tag = tagOf(error)
  return tag === undefined ? 500 : (STATUS[tag] ?? 500)
}

/** Logs a refused request once, with its typed error, and counts it by status (the guard and the fast path). */
export const logRejection = (metrics: HttpMetricsService, method: string, path: string, error: unknown): Effect.Effect<void> => {
  const status = statusOf(error)
  return Effect.zipRight(Effect.logWarning("request rejected", { method, path, status, error }), metrics.rejection(status))
}

/** What the guard reads. */
export interface GuardDeps {
  readonly options: ResolvedHttpOptions
  readonly metrics: HttpMetricsService
  /** Unavailable until the CP is ready (has verified manifests): the agent endpoint's `readiness`. */
  readonly readiness: Effect.Effect<void, Unavailable>
}

/** The guard as an HttpApp middleware (install with `HttpApiBuilder.middleware`). */
export const makeGuard =
  (deps: GuardDeps) =>
  (app: HttpApp.Default): HttpApp.Default<unknown> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = pathOf(request.url)
      const guarded = Effect.gen(function* () {
        if (path.startsWith(VERSIONED_PREFIX)) {
          yield* deps.readiness
          yield* checkProtocol(request.headers[PROTOCOL_HEADER], deps.options.strictProtocol)
        }
        if (HttpMethod.hasBody(request.method)) yield* checkBody(request, deps.options.maxBodyBytes)
        return yield* (app as HttpApp.Default<unknown>)
      })
      return yield* guarded.pipe(
        Effect.mapError(toTypedError(request.method, path)),
        Effect.tapError((error) => {
          const retry =
            error instanceof Unavailable
              ? HttpApp.appendPreResponseHandler((_, response) =>
                  Effect.succeed(HttpServerResponse.setHeader(response, "retry-after", String(error.retryAfterSeconds)))
                )
              : Effect.void
          return Effect.zipRight(logRejection(deps.metrics, request.method, path, error), retry)
        })
      )
    })
