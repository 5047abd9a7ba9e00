/**
 * The on-disk (and on-forge) layout of a signed release, and helpers that write and read it
 * through @effect/platform's FileSystem:
 *
 * ```
 * <root>/trust.json                                    trust roots (not signed; shipped with hosts)
 * <root>/releases/fleet.resolved.json                  canonical JSON
 * <root>/releases/fleet.resolved.json.sig              raw 64-byte signature
 * <root>/releases/revocations.json (+ .sig)            optional
 * <root>/releases/rollouts/<channel>@<ref>.json (+ .sig)
 * ```
 *
 * Invariant: every artifact file holds exactly the bytes that were signed, and its signature sits
 * beside it as `<file>.sig` holding the raw signature (not base64, not DER). Paths are relative to
 * the release root and use `/`.
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Schema } from "effect"
import { TrustConfig } from "../domain/trust.js"
import type { SignedArtifact, SignedRelease } from "./sign.js"

/** Where fleet.resolved lives, relative to the release root. */
export const FLEET_RESOLVED_PATH = "releases/fleet.resolved.json"
/** Where the revocations list lives, relative to the release root. */
export const REVOCATIONS_PATH = "releases/revocations.json"
/** Where trust.json lives, relative to the release root. */
export const TRUST_PATH = "trust.json"
/** The folder of rollout manifests, relative to the release root. */
export const ROLLOUTS_DIR = "releases/rollouts"

/** The path of a rollout manifest, relative to the release root. */
export const rolloutManifestPath = (rolloutId: string): string => `${ROLLOUTS_DIR}/${rolloutId}.json`

/** The signature sidecar of an artifact path. */
export const signaturePath = (artifactPath: string): string => `${artifactPath}.sig`

/** One file of a release: relative path and exact content. */
export interface ReleaseFile {
  /** Relative to the release root, `/`-separated. */
  readonly path: string
  /** The exact bytes to write. */
  readonly content: Uint8Array
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

const artifactFiles = (path: string, artifact: SignedArtifact): ReadonlyArray<ReleaseFile> => [
  { path, content: utf8(artifact.bytes) },
  { path: signaturePath(path), content: artifact.signature }
]

/** trust.json text (pretty-printed; it is configuration, not a signed artifact). */
export const trustJsonText = (trust: TrustConfig): string => `${JSON.stringify(Schema.encodeSync(TrustConfig)(trust), null, 2)}\n`

/** Every file of a signed release (and trust.json when given), in a stable order. */
export const releaseFiles = (release: SignedRelease, trust?: TrustConfig): ReadonlyArray<ReleaseFile> => [
  ...(trust === undefined ? [] : [{ path: TRUST_PATH, content: utf8(trustJsonText(trust)) }]),
  ...artifactFiles(FLEET_RESOLVED_PATH, release.fleet),
  ...(release.revocations === null ? [] : artifactFiles(REVOCATIONS_PATH, release.revocations)),
  ...release.manifests.flatMap((m) => artifactFiles(rolloutManifestPath(m.rolloutId), m))
]

const join = (root: string, relative: string): string => `${root.replace(/\/+$/, "")}/${relative}`

/** Writes a signed release (and trust.json when given) under `root`, creating folders as needed. */
export const writeRelease = (
  root: string,
  release: SignedRelease,
  trust?: TrustConfig
): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(join(root, ROLLOUTS_DIR), { recursive: true })
    for (const file of releaseFiles(release, trust)) yield* fs.writeFile(join(root, file.path), file.content)
  })

/** The bytes of an artifact and of its `.sig` sidecar. */
export interface SignedPair {
  /** The artifact bytes as stored. */
  readonly bytes: Uint8Array
  /** The raw signature. */
  readonly signature: Uint8Array
}

/** Reads an artifact and its `.sig` sidecar (relative path under `root`); does not verify. */
export const readSignedPair = (
  root: string,
  artifactPath: string
): Effect.Effect<SignedPair, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(join(root, artifactPath))
    const signature = yield* fs.readFile(join(root, signaturePath(artifactPath)))
    return { bytes, signature }
  })
