/**
 * The agent fast path: `POST /v1/agent/events` and `POST /v1/agent/heartbeat` answered straight
 * from Node's `request` event, without the platform's per-request request object, router, HttpApi
 * middleware chain and response encoding (together ~10× the cost of a plain Node handler on the
 * bench machine). The body is read raw; then ONE Effect per request, run through the layer's
 * Runtime, does what the HttpApi path does, in the same order: readiness, protocol header, body
 * (size limit, content type, JSON), authentication through the AgentAuth port, the route's
 * Schema decode (compiled once), and the transport-independent AgentEndpoint.
 *
 * Invariants: every answer is the HttpApi path's for the same request — same status, same typed
 * JSON body (encoded by the same error schemas), `Retry-After` on 503, 204 on events only once
 * the endpoint says the event is persisted — and every refusal is logged and counted as the
 * guard does (it uses the guard's own checks); any other method or path is left to the HttpApi
 * server untouched; a body over the limit is never buffered past the limit.
 */
import { HttpTraceContext } from "@effect/platform"
import { Effect, Either, Option, ParseResult, Runtime, Schema } from "effect"
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from "node:http"
import { AgentEventEnvelope } from "../../domain/agentEvent.js"
import type { HostId } from "../../domain/ids.js"
import { AgentAuth } from "../../ports/agentAuth.js"
import { BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ProtocolMismatch, Unauthorized, Unavailable } from "../../wire/errors.js"
import { PROTOCOL_HEADER } from "../../wire/protocol.js"
import { HeartbeatRequest, HeartbeatResponse } from "../../wire/schemas.js"
import { AgentEndpoint } from "../agentEndpoint.js"
import type { ResolvedHttpOptions } from "./config.js"
import { bodyRefusedUnread, checkProtocol, logRejection, parseJsonBody, pathOf, statusOf, unreadableBody } from "./guard.js"
import { LeanServerRequest } from "./leanRequest.js"
import { HttpMetrics } from "./metrics.js"

/** The routes the fast path answers, by path (method POST). */
export const FAST_PATH_ROUTES: ReadonlyMap<string, "events" | "heartbeat"> = new Map([
  ["/v1/agent/events", "events"],
  ["/v1/agent/heartbeat", "heartbeat"]
])

type Route = "events" | "heartbeat"

/** Every typed error these routes answer with. */
const WireError = Schema.Union(BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, ProtocolMismatch, Unavailable)
type WireError = typeof WireError.Type

/** The body as read: its text, or the refusal decided while (or instead of) reading it. */
type Body = { readonly _tag: "Text"; readonly text: string } | { readonly _tag: "Refused"; readonly error: PayloadTooLarge | BadRequest }

/** An answer to write. */
interface Reply {
  readonly status: number
  readonly headers: OutgoingHttpHeaders
  readonly body: string | undefined
}

const NO_CONTENT: Reply = { status: 204, headers: {}, body: undefined }
const json = (status: number, value: unknown, extra: OutgoingHttpHeaders = {}): Reply => {
  const body = JSON.stringify(value)
  return { status, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...extra }, body }
}

/** A Node request listener for the fast routes: `true` when it took the request, `false` to leave it to the HttpApi server. */
export type FastPathHandler = (request: IncomingMessage, response: ServerResponse) => boolean

/** Builds the fast path over the AgentEndpoint, the AgentAuth port and the HTTP metrics in context. */
export const makeFastPath = (options: ResolvedHttpOptions): Effect.Effect<FastPathHandler, never, AgentEndpoint | AgentAuth | HttpMetrics> =>
  Effect.gen(function* () {
    const endpoint = yield* AgentEndpoint
    const auth = yield* AgentAuth
    const metrics = yield* HttpMetrics
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const decodeEvent = Schema.decodeUnknownEither(AgentEventEnvelope)
    const decodeHeartbeat = Schema.decodeUnknownEither(HeartbeatRequest)
    const encodeHeartbeat = Schema.encodeEither(HeartbeatResponse)
    const encodeError = Schema.encodeEither(WireError)

    /** The decoded payload, or the BadRequest the HttpApi path answers (its decode error's tree message). */
    const decoded = <A>(result: Either.Either<A, ParseResult.ParseError>): Effect.Effect<A, BadRequest> =>
      Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(new BadRequest({ reason: ParseResult.TreeFormatter.formatErrorSync(result.left) }))

    /** The route's work once authenticated: the payload decoded, then the endpoint. */
    const routed = (route: Route, host: HostId, document: unknown): Effect.Effect<Reply, WireError> =>
      route === "events"
        ? Effect.flatMap(decoded(decodeEvent(document)), (payload) => Effect.as(endpoint.postEvent(host, payload), NO_CONTENT))
        : Effect.flatMap(decoded(decodeHeartbeat(document)), (payload) =>
            Effect.flatMap(endpoint.heartbeat(host, payload), (reply) => {
              const encoded = encodeHeartbeat(reply)
              return Either.isRight(encoded) ? Effect.succeed(json(200, encoded.right)) : Effect.die(encoded.left)
            })
          )

    // The HttpApi path's order: readiness, protocol, body, authentication, decode, endpoint. A
    // chain rather than Effect.gen: this runs once per agent request.
    const answer = (route: Route, request: LeanServerRequest, body: Body): Effect.Effect<Reply, WireError> =>
      Effect.zipRight(
        endpoint.readiness,
        Effect.zipRight(
          checkProtocol(request.headers[PROTOCOL_HEADER], options.strictProtocol),
          Effect.suspend(() => {
            if (body._tag === "Refused") return Effect.fail(body.error)
            const document = parseJsonBody(body.text)
            if (Either.isLeft(document)) return Effect.fail(document.left)
            return Effect.flatMap(auth.authenticate(request), (host) => routed(route, host, document.right))
          })
        )
      )

    const refusal = (error: WireError): Reply => {
      const encoded = encodeError(error)
      const retry: OutgoingHttpHeaders = error instanceof Unavailable ? { "retry-after": String(error.retryAfterSeconds) } : {}
      return Either.isRight(encoded) ? json(statusOf(error), encoded.right, retry) : { status: 500, headers: {}, body: undefined }
    }

    /** The whole request as one Effect that cannot fail: refusals are answers, defects are 500s. */
    const program = (route: Route, path: string, request: LeanServerRequest, body: Body): Effect.Effect<Reply> => {
      const answered = answer(route, request, body).pipe(
        Effect.catchAll((error) => Effect.as(logRejection(metrics, "POST", path, error), refusal(error))),
        Effect.catchAllCause((cause) => Effect.as(Effect.logError("agent fast path failed", { path, cause }), { status: 500, headers: {}, body: undefined }))
      )
      return options.traceRequests ? traced(request, path, answered) : answered
    }

    const respond = (response: ServerResponse, reply: Reply, close: boolean): void => {
      if (response.writableEnded || response.destroyed) return
      response.writeHead(reply.status, close ? { ...reply.headers, connection: "close" } : reply.headers)
      response.end(reply.body)
    }

    const run = (route: Route, path: string, nodeRequest: IncomingMessage, response: ServerResponse, body: Body, close: boolean): void => {
      const request = new LeanServerRequest(nodeRequest, body._tag === "Text" ? body.text : "")
      runFork(program(route, path, request, body)).addObserver((exit) => {
        if (exit._tag === "Success") respond(response, exit.value, close)
        else respond(response, { status: 503, headers: { "retry-after": String(options.busyRetryAfterSeconds) }, body: undefined }, close)
      })
    }

    return (nodeRequest, response) => {
      if (nodeRequest.method !== "POST") return false
      const path = pathOf(nodeRequest.url ?? "")
      const route = FAST_PATH_ROUTES.get(path)
      if (route === undefined) return false
      const unread = bodyRefusedUnread(nodeRequest.headers["content-length"], nodeRequest.headers["content-type"], options.maxBodyBytes)
      if (unread !== null) {
        run(route, path, nodeRequest, response, { _tag: "Refused", error: unread }, false)
        return true
      }
      readBody(nodeRequest, options.maxBodyBytes, (body, close) => run(route, path, nodeRequest, response, body, close))
      return true
    }
  })

/**
 * Reads a body up to `maxBytes`; past it, stops buffering and reports 413 (the connection is then
 * closed after the answer, so the rest is never read).
 */
const readBody = (request: IncomingMessage, maxBytes: number, done: (body: Body, close: boolean) => void): void => {
  const chunks: Array<Buffer> = []
  let size = 0
  let settled = false
  const settle = (body: Body, close: boolean) => {
    if (settled) return
    settled = true
    done(body, close)
  }
  request.on("data", (chunk: Buffer) => {
    if (settled) return
    size += chunk.length
    if (size > maxBytes) settle({ _tag: "Refused", error: new PayloadTooLarge({ limitBytes: maxBytes }) }, true)
    else chunks.push(chunk)
  })
  request.on("end", () => settle({ _tag: "Text", text: chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8") }, false))
  request.on("error", (e) => settle({ _tag: "Refused", error: unreadableBody(e.message) }, true))
}

/** The `http.server POST` span the platform's tracer middleware would open (parent from trace headers), with the answer's status. */
const traced = (request: LeanServerRequest, path: string, answered: Effect.Effect<Reply>): Effect.Effect<Reply> =>
  Effect.withSpan(
    Effect.tap(answered, (reply) => Effect.annotateCurrentSpan("http.response.status_code", reply.status)),
    "http.server POST",
    {
      kind: "server",
      captureStackTrace: false,
      parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(request.headers)),
      attributes: { "http.request.method": "POST", "url.path": path, "client.address": request.source.socket.remoteAddress ?? "" }
    }
  )

/**
 * Puts `handler` in front of every `request` event of `server` (before the platform's listener,
 * which then sees only what the handler left); returns the server.
 */
export const withFastPath = <S extends Server>(server: S, handler: FastPathHandler): S => {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: Array<unknown>) => boolean
  const routed = (event: string | symbol, ...args: Array<unknown>): boolean =>
    event === "request" && handler(args[0] as IncomingMessage, args[1] as ServerResponse) ? true : emit(event, ...args)
  server.emit = routed as S["emit"]
  return server
}
