/**
 * The whole control plane as one layer: the core (reducer, event-log writer, dispatch notifier),
 * the manifest poll and the HTTP API, over the ports the embedding application chooses
 * (Storage + EventLog, ManifestSource, AgentAuth).
 *
 * Invariant: the manifest poll's boot prime runs while the layer is built, before the listener
 * starts, so the CP serves with verified manifests whenever the prime succeeded; every fiber
 * lives in the layer's scope, so releasing it stops the poll and the listener and drains the
 * event-log writer.
 */
import { Layer } from "effect"
import { layer as coreLayer, type ControlPlaneConfig } from "./controlPlane.js"
import { layer as httpLayer, layerHttps, type ListenOptions } from "./http/server.js"
import type { CpHttpOptions } from "./http/config.js"
import type { HttpsServerOptions } from "./auth/httpsServer.js"
import { ManifestPoll, type ManifestPollConfig } from "./manifestPoll.js"

/** Settings of a complete control plane. */
export interface RuntimeOptions {
  readonly core?: ControlPlaneConfig
  readonly poll?: ManifestPollConfig
  readonly http: CpHttpOptions & (({ readonly tls?: undefined } & ListenOptions) | ({ readonly tls: true } & HttpsServerOptions))
}

/** A complete control plane: core + manifest poll + HTTP(S) API. */
export const layerRuntime = (options: RuntimeOptions) => {
  const http = options.http.tls === true ? layerHttps(options.http) : httpLayer(options.http)
  return http.pipe(Layer.provideMerge(ManifestPoll.layer(options.poll)), Layer.provideMerge(coreLayer(options.core)))
}
