/**
 * AgentAuth by bearer token: a token → hostname map, held in memory, built from a literal map, a
 * JSON tokens file or a Config value.
 *
 * Invariants: tokens are kept only as sha256 digests; a request without a token, or with one not
 * in the map, is refused with `Unauthorized`; the map is fixed at layer build time (rotate by
 * rebuilding the layer).
 */
import { FileSystem } from "@effect/platform"
import { Config, Effect, Layer, Redacted, Schema } from "effect"
import { ConfigError } from "effect"
import { bearerToken, tokenDigest } from "../../src/cp/auth/bearer.js"
import { HostId } from "../../src/domain/ids.js"
import { AgentAuth, type AgentAuthService } from "../../src/ports/agentAuth.js"
import { Unauthorized } from "../../src/wire/errors.js"

/** The tokens file / Config format: a JSON object mapping each token to the hostname it proves. */
export const BearerTokens = Schema.parseJson(Schema.Record({ key: Schema.NonEmptyString, value: HostId })).annotations({
  identifier: "BearerTokens"
})

/** Builds the service from token → hostname pairs. */
export const makeBearerTokenAuth = (tokens: Iterable<readonly [string, HostId]> | Readonly<Record<string, HostId>>): AgentAuthService => {
  const pairs = Symbol.iterator in tokens ? Array.from(tokens as Iterable<readonly [string, HostId]>) : Object.entries(tokens)
  const byDigest = new Map(pairs.map(([token, host]) => [tokenDigest(token), host]))
  return {
    authenticate: Effect.fn("AgentAuth.authenticate")(function* (request) {
      const token = bearerToken(request)
      if (token === null) return yield* new Unauthorized({ reason: "missing bearer token" })
      const host = byDigest.get(tokenDigest(token))
      return host === undefined ? yield* new Unauthorized({ reason: "unknown bearer token" }) : host
    })
  }
}

/** AgentAuth from a literal token → hostname map (tests, examples). */
export const layerBearerTokens = (
  tokens: Iterable<readonly [string, HostId]> | Readonly<Record<string, HostId>>
): Layer.Layer<AgentAuth> => Layer.succeed(AgentAuth, makeBearerTokenAuth(tokens))

/** Decodes the JSON text of a tokens file or Config value; a malformed one is a `ConfigError`. */
const decodeTokens = (source: string, text: string): Effect.Effect<AgentAuthService, ConfigError.ConfigError> =>
  Schema.decodeUnknown(BearerTokens)(text).pipe(
    Effect.mapBoth({
      onFailure: (e) => ConfigError.InvalidData([], `${source}: not a JSON object of token → hostname: ${e.message}`),
      onSuccess: makeBearerTokenAuth
    })
  )

/** AgentAuth from a JSON tokens file (`{"<token>": "<hostname>", ...}`), read once at build time. */
export const layerBearerTokensFile = (path: string): Layer.Layer<AgentAuth, ConfigError.ConfigError, FileSystem.FileSystem> =>
  Layer.effect(
    AgentAuth,
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const text = yield* fs
        .readFileString(path)
        .pipe(Effect.mapError((e) => ConfigError.InvalidData([], `tokens file ${path}: ${e.message}`)))
      return yield* decodeTokens(`tokens file ${path}`, text)
    })
  )

/** AgentAuth from a Config value holding the tokens JSON (default `EFFECT_FLEET_AGENT_TOKENS`). */
export const layerBearerTokensConfig = (
  config: Config.Config<Redacted.Redacted> = Config.redacted("EFFECT_FLEET_AGENT_TOKENS")
): Layer.Layer<AgentAuth, ConfigError.ConfigError> =>
  Layer.effect(
    AgentAuth,
    Effect.flatMap(config, (value) => decodeTokens("config", Redacted.value(value)))
  )
