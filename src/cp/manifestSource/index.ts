/**
 * The ManifestSource adapters of the control plane: a release directory and an HTTP forge (the
 * memory adapter lives in adapters/memory).
 *
 * Invariant: adapters only transport bytes; the manifest poll verifies everything they return.
 */
export { type DirectorySourceOptions, layerDirectory, makeDirectory } from "./directory.js"
export { artifactUrl, DEFAULT_HTTP_TIMEOUT, type HttpSourceOptions, layerHttp, makeHttp } from "./http.js"
export { fromReader, isSafeRolloutId, type ReadRelative } from "./reader.js"
