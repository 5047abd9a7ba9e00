/**
 * A lean `HttpServerRequest` over a Node `IncomingMessage` whose body the agent fast path
 * (fastPath.ts) has already read: what the AgentAuth port is handed there, so any adapter (bearer
 * tokens read `headers`, mTLS reads the TLS socket through `NodeHttpServerRequest.toIncomingMessage`,
 * i.e. `source`) authenticates exactly as on the HttpApi path, without the platform building its
 * own request object and fiber per request.
 *
 * Invariants: immutable (every member is derived from the Node request and the body text on
 * access; `modify` returns a new value); the body is the text already read, never read again;
 * what a fast-path request cannot offer fails (multipart with a `MultipartError`, upgrade with a
 * `RequestError`).
 */
import { Cookies, type Headers, HttpIncomingMessage, HttpServerError, type HttpMethod, HttpServerRequest, Multipart, UrlParams } from "@effect/platform"
import { Effect, Inspectable, Option, Stream } from "effect"
import type { IncomingMessage } from "node:http"

const notMultipart = () => new Multipart.MultipartError({ reason: "Parse", cause: "multipart bodies are not read on the agent fast path" })

/** Overrides `modify` may set. */
interface Overrides {
  readonly url?: string | undefined
  readonly headers?: Headers.Headers | undefined
  readonly remoteAddress?: string | undefined
}

/** The request of the fast path: the Node request plus its body text ("" when the body was refused unread). */
export class LeanServerRequest extends Inspectable.Class implements HttpServerRequest.HttpServerRequest {
  readonly [HttpServerRequest.TypeId]: HttpServerRequest.TypeId = HttpServerRequest.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId

  constructor(
    readonly source: IncomingMessage,
    readonly bodyText: string,
    readonly overrides: Overrides = {}
  ) {
    super()
  }

  get url(): string {
    return this.overrides.url ?? this.source.url ?? "/"
  }
  get originalUrl(): string {
    return this.source.url ?? "/"
  }
  get method(): HttpMethod.HttpMethod {
    return (this.source.method ?? "GET").toUpperCase() as HttpMethod.HttpMethod
  }
  get headers(): Headers.Headers {
    // The same view of Node's headers the platform's own request gives.
    return this.overrides.headers ?? (this.source.headers as Headers.Headers)
  }
  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.overrides.remoteAddress ?? this.source.socket.remoteAddress)
  }
  get cookies(): Readonly<Record<string, string>> {
    return Cookies.parseHeader(this.headers["cookie"] ?? "")
  }

  private failure(description: string): HttpServerError.RequestError {
    return new HttpServerError.RequestError({ request: this, reason: "Decode", description })
  }

  get text(): Effect.Effect<string, HttpServerError.RequestError> {
    return Effect.succeed(this.bodyText)
  }
  get json(): Effect.Effect<unknown, HttpServerError.RequestError> {
    return Effect.try({ try: () => (this.bodyText === "" ? null : (JSON.parse(this.bodyText) as unknown)), catch: (e) => this.failure(String(e)) })
  }
  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpServerError.RequestError> {
    return Effect.try({ try: () => UrlParams.fromInput(new URLSearchParams(this.bodyText)), catch: (e) => this.failure(String(e)) })
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpServerError.RequestError> {
    return Effect.sync(() => {
      const bytes = new TextEncoder().encode(this.bodyText)
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    })
  }
  get stream(): Stream.Stream<Uint8Array, HttpServerError.RequestError> {
    return Stream.sync(() => new TextEncoder().encode(this.bodyText))
  }
  get multipart(): Effect.Effect<never, Multipart.MultipartError> {
    return Effect.fail(notMultipart())
  }
  get multipartStream(): Stream.Stream<never, Multipart.MultipartError> {
    return Stream.fail(notMultipart())
  }
  get upgrade(): Effect.Effect<never, HttpServerError.RequestError> {
    return Effect.fail(this.failure("not an upgradeable request"))
  }

  /** A copy with another URL, headers or remote address. */
  modify(options: Overrides): HttpServerRequest.HttpServerRequest {
    return new LeanServerRequest(this.source, this.bodyText, { ...this.overrides, ...options })
  }

  /** The method and URL (bodies and headers are not shown: they may carry credentials). */
  toJSON(): unknown {
    return { _id: "@effect/platform/HttpServerRequest", method: this.method, url: this.originalUrl }
  }
}
