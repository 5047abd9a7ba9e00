/**
 * The CP's HTTP layer: handlers of the FleetApi (src/wire), the request guard, authentication
 * middlewares, metrics, and the server layers.
 *
 * Invariant: HTTP handlers only offer inputs to the reducer or read; they never mutate storage.
 */
export { ask, QueueFull, ReplyTimeout } from "./ask.js"
export { type CpHttpOptions, resolveHttpOptions, type ResolvedHttpOptions } from "./config.js"
export { checkBody, checkProtocol, makeGuard } from "./guard.js"
export { HttpMetrics, type HttpMetricsService, renderPrometheus } from "./metrics.js"
export { layer, layerHttps, layerServe, type ListenOptions, OPENAPI_PATH } from "./server.js"
