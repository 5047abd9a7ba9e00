/**
 * The part every ManifestSource adapter shares: mapping the port's three reads onto the release
 * layout of src/trust/layout.ts, given one "read this relative path" function; plus the local
 * file read the directory and HTTP adapters both use for trust.json.
 *
 * Invariant: a rollout id is only ever turned into a path after {@link isSafeRolloutId} accepted
 * it, so no id can address a file outside `releases/rollouts/` (a refused id is `NotFound`).
 */
import type { FileSystem } from "@effect/platform"
import { Effect } from "effect"
import type { RolloutId } from "../../domain/ids.js"
import { ManifestSourceError, type ManifestSourceService } from "../../ports/manifestSource.js"
import { FLEET_RESOLVED_PATH, rolloutManifestPath, type SignedPair, signaturePath, TRUST_PATH } from "../../trust/layout.js"

/** Reads one file of the release by its layout path (relative, `/`-separated). */
export type ReadRelative = (relativePath: string) => Effect.Effect<Uint8Array, ManifestSourceError>

/**
 * Whether a rollout id can name a file and a URL path segment: non-empty, not `.` or `..`, and
 * free of `/`, `\`, NUL, `?`, `#` and `%` (channel names may otherwise contain almost anything).
 */
export const isSafeRolloutId = (id: string): boolean => id.length > 0 && id !== "." && id !== ".." && !/[/\\\0?#%]/.test(id)

/** Builds the port from a relative-path reader; `trustJson` defaults to reading `trust.json` with it. */
export const fromReader = (read: ReadRelative, trustJson: Effect.Effect<Uint8Array, ManifestSourceError> = read(TRUST_PATH)): ManifestSourceService => {
  const pair = (path: string): Effect.Effect<SignedPair, ManifestSourceError> =>
    Effect.all({ bytes: read(path), signature: read(signaturePath(path)) })
  return {
    trustJson: trustJson.pipe(Effect.withSpan("ManifestSource.trustJson")),
    fleetResolved: pair(FLEET_RESOLVED_PATH).pipe(Effect.withSpan("ManifestSource.fleetResolved")),
    rolloutManifest: Effect.fn("ManifestSource.rolloutManifest")((rolloutId: RolloutId) =>
      isSafeRolloutId(rolloutId)
        ? pair(rolloutManifestPath(rolloutId))
        : Effect.fail(
            new ManifestSourceError({
              reason: "NotFound",
              location: rolloutManifestPath(rolloutId),
              detail: "the rollout id is not a safe file name"
            })
          )
    )
  }
}

/** Reads a local file; a missing file is `NotFound`, any other failure `Io`. */
export const readLocalFile = (fs: FileSystem.FileSystem, path: string): Effect.Effect<Uint8Array, ManifestSourceError> =>
  fs.readFile(path).pipe(
    Effect.mapError(
      (e) =>
        new ManifestSourceError({
          reason: e._tag === "SystemError" && e.reason === "NotFound" ? "NotFound" : "Io",
          location: path,
          detail: e.message
        })
    )
  )

/** `root` and a relative layout path joined with exactly one `/`. */
export const joinPath = (root: string, relative: string): string => `${root.replace(/\/+$/, "")}/${relative}`
