/**
 * The CP's HTTP layer: handlers of the FleetApi (src/wire), the request guard, authentication
 * middlewares, metrics, and the server layers.
 *
 * Invariant: HTTP handlers only offer inputs to the reducer or read; they never mutate storage.
 */
export { ask, type Asker, makeAsker, QueueFull, ReplyTimeout } from "./ask.js"
export { type CpHttpOptions, resolveHttpOptions, type ResolvedHttpOptions } from "./config.js"
export { checkBody, checkProtocol, makeGuard } from "./guard.js"
export { LeanServerRequest } from "./leanRequest.js"
export { HttpMetrics, type HttpMetricsService, renderPrometheus } from "./metrics.js"
export { FAST_PATH_ROUTES, type FastPathHandler, makeFastPath, withFastPath } from "./fastPath.js"
export { layer, layerHttps, layerNodeServer, layerServe, type ListenOptions, OPENAPI_PATH } from "./server.js"
