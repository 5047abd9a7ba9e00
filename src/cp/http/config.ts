/**
 * Settings of the CP's HTTP layer, with the reference's defaults.
 *
 * Invariant: every limit has a default, so `{}` is a valid configuration; nothing here is read
 * from the environment implicitly.
 */
import { Duration, type Redacted } from "effect"

/** Settings of the HTTP layer. */
export interface CpHttpOptions {
  /** Largest accepted request body (default 1 MiB; an agent event is a few KiB at most). */
  readonly maxBodyBytes?: number
  /** Refuse (400) `/v1/*` requests without the protocol header (default false: missing is allowed). */
  readonly strictProtocol?: boolean
  /** How long a route waits for the reducer's reply (default 5 s, the reference's). */
  readonly replyTimeout?: Duration.DurationInput
  /** Retry-After sent when the reducer queue is full or its reply timed out (default 1 s). */
  readonly busyRetryAfterSeconds?: number
  /** Retry-After sent before the CP is ready (default 30 s, the reference's). */
  readonly notReadyRetryAfterSeconds?: number
  /** An extra bearer token that authenticates operator routes (agents' credentials work too). */
  readonly operatorToken?: Redacted.Redacted
  /** The version string `/healthz` reports. */
  readonly version?: string
  /**
   * One `http.server` span per request (default true, the platform's default). Off saves ~0.1 ms
   * of CPU per request on the bench machine (URL parse, header redaction, span attributes); turn
   * it off when no tracer exporter is installed. Service-method spans are unaffected.
   */
  readonly traceRequests?: boolean
  /**
   * The longest dispatch long-poll a request may ask for, in seconds (default 60, the
   * reference's). Longer polls mean fewer idle requests per host (the simulator uses 300).
   */
  readonly maxDispatchWaitSeconds?: number
  /**
   * Answer `POST /v1/agent/events` and `POST /v1/agent/heartbeat` on the agent fast path
   * (src/cp/http/fastPath.ts: same answers, a fraction of the CPU) where the CP creates the Node
   * server itself (`layer`, `layerHttps`, `layerNodeServer`); default true. `layerServe` on a
   * caller's HttpServer always uses the HttpApi.
   */
  readonly fastPath?: boolean
}

/** The settings with every default filled in. */
export interface ResolvedHttpOptions {
  readonly maxBodyBytes: number
  readonly strictProtocol: boolean
  readonly replyTimeout: Duration.Duration
  readonly busyRetryAfterSeconds: number
  readonly notReadyRetryAfterSeconds: number
  readonly operatorToken: Redacted.Redacted | null
  readonly version: string
  readonly traceRequests: boolean
  readonly maxDispatchWaitSeconds: number
  readonly fastPath: boolean
}

/** Fills in the defaults. */
export const resolveHttpOptions = (options: CpHttpOptions = {}): ResolvedHttpOptions => ({
  maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
  strictProtocol: options.strictProtocol ?? false,
  replyTimeout: Duration.decode(options.replyTimeout ?? "5 seconds"),
  busyRetryAfterSeconds: options.busyRetryAfterSeconds ?? 1,
  notReadyRetryAfterSeconds: options.notReadyRetryAfterSeconds ?? 30,
  operatorToken: options.operatorToken ?? null,
  version: options.version ?? "0.1.0",
  traceRequests: options.traceRequests ?? true,
  maxDispatchWaitSeconds: options.maxDispatchWaitSeconds ?? 60,
  fastPath: options.fastPath ?? true
})
