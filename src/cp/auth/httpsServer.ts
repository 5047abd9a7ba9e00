/**
 * The CP's HTTPS listener for mTLS: a Node https server that requests a client certificate and
 * verifies it against the client CA, served through `NodeHttpServer`.
 *
 * Invariant: `rejectUnauthorized` is off so that clients without a certificate still reach
 * unauthenticated routes (`/healthz`); authentication is then decided per route by the mTLS
 * AgentAuth adapter, which only trusts `socket.authorized`.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Data, Effect, Layer } from "effect"
import { readFile } from "node:fs/promises"
import * as https from "node:https"

/** Paths of the PEM files and where to listen. */
export interface HttpsServerOptions {
  readonly certPath: string
  readonly keyPath: string
  /** The CA that issues agent client certificates. */
  readonly clientCaPath: string
  readonly port: number
  readonly host?: string
}

/** The PEM contents of the server's TLS material. */
export interface TlsMaterial {
  readonly cert: string
  readonly key: string
  readonly ca: string
}

/** A PEM file could not be read. */
export class TlsConfigError extends Data.TaggedError("TlsConfigError")<{ readonly path: string; readonly detail: string }> {
  /** `"<path>: <detail>"`. */
  override get message(): string {
    return `${this.path}: ${this.detail}`
  }
}

/** Node https options for mTLS: request a client certificate, verify it against `ca`, admit the handshake either way. */
export const mtlsServerOptions = (tls: TlsMaterial): https.ServerOptions => ({
  cert: tls.cert,
  key: tls.key,
  ca: tls.ca,
  requestCert: true,
  rejectUnauthorized: false
})

const readPem = (path: string) =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: (e) => new TlsConfigError({ path, detail: String(e) }) })

/** Reads the PEM files. */
export const readTlsMaterial = (options: Pick<HttpsServerOptions, "certPath" | "keyPath" | "clientCaPath">): Effect.Effect<TlsMaterial, TlsConfigError> =>
  Effect.all({ cert: readPem(options.certPath), key: readPem(options.keyPath), ca: readPem(options.clientCaPath) })

/** An HttpServer (plus NodeContext and the platform services) listening with mTLS, from PEM contents. */
export const layerHttpsServerFromMaterial = (tls: TlsMaterial, listen: { readonly port: number; readonly host?: string }) =>
  NodeHttpServer.layer(() => https.createServer(mtlsServerOptions(tls)), listen.host === undefined ? { port: listen.port } : { port: listen.port, host: listen.host })

/** An HttpServer listening with mTLS, from cert / key / client-CA paths. */
export const layerHttpsServer = (options: HttpsServerOptions) =>
  Layer.unwrapEffect(
    Effect.map(readTlsMaterial(options), (tls) =>
      layerHttpsServerFromMaterial(tls, options.host === undefined ? { port: options.port } : { port: options.port, host: options.host })
    )
  )
