/**
 * Bearer-token helpers shared by the token adapter and the operator-token check.
 *
 * Invariant: tokens are compared by their sha256 digest (a map keyed by digest, or a
 * constant-time comparison of digests), so lookup time does not depend on how much of a guess
 * matches a real token.
 */
import type { HttpServerRequest } from "@effect/platform"
import { createHash, timingSafeEqual } from "node:crypto"

const PREFIX = /^Bearer\s+/i

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export const bearerToken = (request: HttpServerRequest.HttpServerRequest): string | null => {
  const header = request.headers["authorization"]
  if (header === undefined || !PREFIX.test(header)) return null
  const token = header.replace(PREFIX, "").trim()
  return token === "" ? null : token
}

/** The sha256 digest (hex) a token is stored and looked up by. */
export const tokenDigest = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex")

/** Whether two tokens are equal, in time independent of where they differ. */
export const tokensEqual = (a: string, b: string): boolean =>
  timingSafeEqual(Buffer.from(tokenDigest(a), "hex"), Buffer.from(tokenDigest(b), "hex"))
