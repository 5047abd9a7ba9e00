/**
 * The HTTP ManifestSource: GETs the signed release from a forge or static file server at
 * `<baseUrl>/releases/...` (the layout of src/trust/layout.ts) with @effect/platform's HttpClient,
 * with an optional bearer token, a per-request timeout (default 15 s) and any non-2xx answer an
 * error. trust.json is read from a LOCAL file.
 *
 * Invariants: trust roots never come from the server whose artifacts they verify (whoever controls
 * the forge could otherwise swap both); the token file, when configured, is re-read on every
 * request so a rotated token is used on the next poll; the token is never logged.
 */
import { FileSystem, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { ManifestSource, ManifestSourceError, type ManifestSourceService } from "../../ports/manifestSource.js"
import { fromReader, readLocalFile } from "./reader.js"

/** The reference's timeout for one artifact request. */
export const DEFAULT_HTTP_TIMEOUT: Duration.DurationInput = "15 seconds"

/** Where and how the HTTP source fetches. */
export interface HttpSourceOptions {
  /** The release root URL; `releases/fleet.resolved.json` etc. are resolved under it. */
  readonly baseUrl: string
  /** The local trust.json (see the module comment for why it is not fetched). */
  readonly trustFile: string
  /** A fixed bearer token. */
  readonly bearerToken?: Redacted.Redacted<string>
  /** A file holding the bearer token (trimmed), re-read on every request; wins over `bearerToken`. */
  readonly bearerTokenFile?: string
  /** Per-request timeout, body included (default {@link DEFAULT_HTTP_TIMEOUT}). */
  readonly timeout?: Duration.DurationInput
}

/** Each segment of a layout path percent-encoded, keeping `@` readable (it is legal in a path). */
const encodePath = (relative: string): string =>
  relative
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/%40/g, "@"))
    .join("/")

/** The URL of a layout path under `baseUrl`. */
export const artifactUrl = (baseUrl: string, relative: string): string => `${baseUrl.replace(/\/+$/, "")}/${encodePath(relative)}`

const MAX_DETAIL_CHARS = 200

/** The HTTP source as a service value. */
export const makeHttp = (
  options: HttpSourceOptions
): Effect.Effect<ManifestSourceService, never, HttpClient.HttpClient | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const fs = yield* FileSystem.FileSystem
    const timeout = Duration.decode(options.timeout ?? DEFAULT_HTTP_TIMEOUT)
    const tokenFile = options.bearerTokenFile
    const token: Effect.Effect<Option.Option<string>, ManifestSourceError> =
      tokenFile !== undefined
        ? Effect.map(readLocalFile(fs, tokenFile), (bytes) => Option.some(new TextDecoder().decode(bytes).trim()))
        : Effect.succeed(Option.map(Option.fromNullable(options.bearerToken), Redacted.value))

    const get = (relative: string): Effect.Effect<Uint8Array, ManifestSourceError> => {
      const url = artifactUrl(options.baseUrl, relative)
      const failure = (reason: "NotFound" | "Http", detail: string) => new ManifestSourceError({ reason, location: url, detail })
      return Effect.gen(function* () {
        const bearer = yield* token
        const request = Option.match(bearer, {
          onNone: () => HttpClientRequest.get(url),
          onSome: (t) => HttpClientRequest.bearerToken(HttpClientRequest.get(url), t)
        })
        const response = yield* client.execute(request).pipe(Effect.mapError((e) => failure("Http", e.message)))
        if (response.status < 200 || response.status > 299) {
          const body = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
          const detail = `HTTP ${response.status}${body === "" ? "" : `: ${body.slice(0, MAX_DETAIL_CHARS)}`}`
          // Decision: 404 / 410 are reported as NotFound (the artifact is not published), every
          // other non-2xx as Http.
          return yield* Effect.fail(failure(response.status === 404 || response.status === 410 ? "NotFound" : "Http", detail))
        }
        const body = yield* response.arrayBuffer.pipe(Effect.mapError((e) => failure("Http", e.message)))
        return new Uint8Array(body)
      }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => failure("Http", `timed out after ${Duration.format(timeout)}`) })
      )
    }
    return fromReader(get, readLocalFile(fs, options.trustFile))
  })

/** {@link ManifestSource} fetching a release over HTTP (provide an HttpClient, e.g. `NodeHttpClient.layerUndici`). */
export const layerHttp = (
  options: HttpSourceOptions
): Layer.Layer<ManifestSource, never, HttpClient.HttpClient | FileSystem.FileSystem> => Layer.effect(ManifestSource, makeHttp(options))
