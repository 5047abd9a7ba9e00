/**
 * Reading signed releases on the control plane: the ManifestSource adapters (a release directory
 * and an HTTP forge; the memory adapter lives in adapters/memory) and `readVerifiedRelease`, which
 * turns what a source returns into a verified manifest set.
 *
 * Invariant: adapters only transport bytes; `readVerifiedRelease` verifies everything they return.
 */
export { type DirectorySourceOptions, layerDirectory, makeDirectory } from "./directory.js"
export { artifactUrl, DEFAULT_HTTP_TIMEOUT, type HttpSourceOptions, layerHttp, makeHttp } from "./http.js"
export { fromReader, isSafeRolloutId, type ReadRelative } from "./reader.js"
export {
  type ChannelDrop,
  decodeTrustConfig,
  type FleetRejection,
  InvalidTrustConfig,
  type PolledRelease,
  readVerifiedRelease,
  type VerifiedRelease
} from "./verifiedRelease.js"
