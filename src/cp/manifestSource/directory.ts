/**
 * The directory ManifestSource: reads a signed release laid out as src/trust/layout.ts describes
 * (`<root>/trust.json`, `<root>/releases/...`) through @effect/platform's FileSystem (provide
 * `NodeFileSystem.layer` from @effect/platform-node on Node).
 *
 * Invariant: every read goes to the file system anew (a re-signed release is picked up on the next
 * poll) and only ever touches files under `root` (or the explicit `trustFile`).
 */
import { FileSystem } from "@effect/platform"
import { Effect, Layer } from "effect"
import { ManifestSource, type ManifestSourceService } from "../../ports/manifestSource.js"
import { TRUST_PATH } from "../../trust/layout.js"
import { fromReader, joinPath, readLocalFile } from "./reader.js"

/** Where the directory source reads from. */
export interface DirectorySourceOptions {
  /** The release root (the folder holding `releases/`). */
  readonly root: string
  /** trust.json, when it is not `<root>/trust.json` (e.g. the CP's own config folder). */
  readonly trustFile?: string
}

/** The directory source as a service value. */
export const makeDirectory = (options: DirectorySourceOptions): Effect.Effect<ManifestSourceService, never, FileSystem.FileSystem> =>
  Effect.map(FileSystem.FileSystem, (fs) =>
    fromReader(
      (relative) => readLocalFile(fs, joinPath(options.root, relative)),
      readLocalFile(fs, options.trustFile ?? joinPath(options.root, TRUST_PATH))
    )
  )

/** {@link ManifestSource} reading a release directory. */
export const layerDirectory = (options: DirectorySourceOptions): Layer.Layer<ManifestSource, never, FileSystem.FileSystem> =>
  Layer.effect(ManifestSource, makeDirectory(options))
