/**
 * AgentAuth by mutual TLS: the hostname is the CN of the client certificate the TLS layer
 * verified against the CP's client CA, unless the host's identity was revoked after that
 * certificate was issued.
 *
 * Invariants: only a certificate the TLS handshake *authorized* counts (the server requests a
 * certificate but lets the handshake through without one, so `/healthz` stays reachable; this
 * adapter then answers 401); a revocation lookup that fails refuses the request (fail closed).
 */
import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { TLSSocket } from "node:tls"
import type { HostId } from "../../domain/ids.js"
import { AgentAuth, type AgentAuthService } from "../../ports/agentAuth.js"
import { Storage } from "../../ports/storage.js"
import { Unauthorized } from "../../wire/errors.js"
import { DEFAULT_IDENTITY_SUFFIX, hostnameFromCommonName } from "./commonName.js"

/** Options of the mTLS adapter. */
export interface MtlsOptions {
  /** The identity suffix stripped from `agent-<id>.<suffix>` CNs (default `fleet.lab.internal`). */
  readonly identitySuffix?: string
}

/** What the TLS layer proved about a request's peer. */
export interface PeerCertificate {
  readonly commonName: string
  /** The certificate's notBefore (epoch ms). */
  readonly notBefore: number
}

/**
 * The verified peer certificate of a request: `Unauthorized` when the connection is not TLS, has
 * no certificate, or the certificate did not verify against the client CA.
 */
export const peerCertificate = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<PeerCertificate, Unauthorized> =>
  Effect.suspend(() => {
    const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
    if (!(socket instanceof TLSSocket)) return Effect.fail(new Unauthorized({ reason: "client certificate required (not a TLS connection)" }))
    if (!socket.authorized) {
      return Effect.fail(new Unauthorized({ reason: `client certificate not verified: ${String(socket.authorizationError ?? "none presented")}` }))
    }
    const cert = socket.getPeerCertificate()
    const cn = cert.subject?.CN
    const commonName = Array.isArray(cn) ? cn[0] : cn
    if (commonName === undefined || commonName === "") return Effect.fail(new Unauthorized({ reason: "client certificate has no CN" }))
    return Effect.succeed({ commonName, notBefore: Date.parse(cert.valid_from) })
  })

/** Builds the service; `loadRevocationNotBefore` returns the host's revocation cut-off, if any. */
export const makeMtlsAuth = (
  options: MtlsOptions,
  loadRevocationNotBefore: (host: HostId) => Effect.Effect<Option.Option<number>, unknown>
): AgentAuthService => ({
  authenticate: Effect.fn("AgentAuth.authenticate")(function* (request) {
    const peer = yield* peerCertificate(request)
    const host = hostnameFromCommonName(peer.commonName, options.identitySuffix ?? DEFAULT_IDENTITY_SUFFIX)
    if (host === null) return yield* new Unauthorized({ reason: "client certificate CN names no host" })
    const revoked = yield* loadRevocationNotBefore(host).pipe(
      Effect.tapError((e) => Effect.logError("revocation lookup failed; refusing the request", { host, error: String(e) })),
      Effect.mapError(() => new Unauthorized({ reason: "revocation status unavailable" }))
    )
    if (Option.isSome(revoked) && !(peer.notBefore >= revoked.value)) {
      return yield* new Unauthorized({ reason: "client certificate issued before the host's revocation" })
    }
    return host
  })
})

/** AgentAuth from the verified client certificate, with revocations read from Storage. */
export const layerMtls = (options: MtlsOptions = {}): Layer.Layer<AgentAuth, never, Storage> =>
  Layer.effect(
    AgentAuth,
    Effect.map(Storage, (storage) =>
      makeMtlsAuth(options, (host) => Effect.map(storage.loadRevocation(host), Option.map((r) => r.notBefore as number)))
    )
  )
