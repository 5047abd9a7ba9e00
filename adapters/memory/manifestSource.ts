/**
 * The in-memory ManifestSource: a mutable map from layout path (src/trust/layout.ts) to bytes, for
 * tests and the simulator; `put` / `remove` change what the next poll reads (re-signing,
 * tampering, unpublishing).
 *
 * Invariant: each `makeMemoryManifestSource` call owns its own map; reads return copies, so a
 * caller mutating the returned bytes cannot change the stored release.
 */
import { Effect, Layer, Ref } from "effect"
import { ManifestSource, ManifestSourceError, type ManifestSourceService } from "../../src/ports/manifestSource.js"
import { fromReader } from "../../src/cp/manifestSource/reader.js"
import type { ReleaseFile } from "../../src/trust/layout.js"

/** The memory source plus the controls that change its content. */
export interface MemoryManifestSource extends ManifestSourceService {
  /** Stores (or replaces) the file at a layout path. */
  readonly put: (path: string, content: Uint8Array) => Effect.Effect<void>
  /** Deletes the file at a layout path (the next read of it is `NotFound`). */
  readonly remove: (path: string) => Effect.Effect<void>
  /** The file at a layout path, if stored. */
  readonly get: (path: string) => Effect.Effect<Uint8Array | undefined>
}

/** A memory source holding `files` (e.g. `releaseFiles(release, trust)` from src/trust/layout.ts). */
export const makeMemoryManifestSource = (files: Iterable<ReleaseFile>): Effect.Effect<MemoryManifestSource> =>
  Effect.map(Ref.make(new Map([...files].map((f) => [f.path, new Uint8Array(f.content)] as const))), (ref) => ({
    ...fromReader((path) =>
      Effect.flatMap(Ref.get(ref), (map) => {
        const content = map.get(path)
        return content === undefined
          ? Effect.fail(new ManifestSourceError({ reason: "NotFound", location: path, detail: "not in the memory source" }))
          : Effect.succeed(new Uint8Array(content))
      })
    ),
    put: (path, content) => Ref.update(ref, (map) => new Map(map).set(path, new Uint8Array(content))),
    remove: (path) =>
      Ref.update(ref, (map) => {
        const next = new Map(map)
        next.delete(path)
        return next
      }),
    get: (path) =>
      Effect.map(Ref.get(ref), (map) => {
        const content = map.get(path)
        return content === undefined ? undefined : new Uint8Array(content)
      })
  }))

/** {@link ManifestSource} over a fixed set of files (use {@link makeMemoryManifestSource} to change them later). */
export const layerMemoryManifestSource = (files: Iterable<ReleaseFile>): Layer.Layer<ManifestSource> =>
  Layer.effect(ManifestSource, makeMemoryManifestSource(files))
