/**
 * The ManifestSource port (CP side): where the control plane reads the signed release from —
 * `trust.json`, fleet.resolved with its signature, and each rollout manifest with its signature
 * (the layout of src/trust/layout.ts). Adapters: a directory, an HTTP forge, memory.
 *
 * Invariants: a source only transports bytes; it never parses or verifies them (the manifest poll
 * does, so a source cannot weaken verification). Every failure is a {@link ManifestSourceError}
 * naming what was read and why; a source never dies on missing or unreadable artifacts.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { RolloutId } from "../domain/ids.js"
import type { SignedPair } from "../trust/layout.js"

/**
 * Why a read failed:
 * - `NotFound`: the artifact (or its `.sig`) does not exist, or the rollout id is not a safe
 *   file name / URL segment (so it cannot exist);
 * - `Io`: the file exists but could not be read;
 * - `Http`: the request failed, timed out, or answered a non-2xx status.
 */
export const ManifestSourceFailure = Schema.Literal("NotFound", "Io", "Http")
/** Why a read failed. */
export type ManifestSourceFailure = typeof ManifestSourceFailure.Type

/** A read from the manifest source failed; it is logged and reported, so it is a Schema.TaggedError. */
export class ManifestSourceError extends Schema.TaggedError<ManifestSourceError>()("ManifestSourceError", {
  reason: ManifestSourceFailure,
  /** The path or URL that was read. */
  location: Schema.String,
  /** A human-readable explanation (the OS error, the HTTP status, the timeout). */
  detail: Schema.String
}) {
  /** `"<reason> reading <location>: <detail>"`. */
  override get message(): string {
    return `${this.reason} reading ${this.location}: ${this.detail}`
  }
}

/** The ManifestSource service: raw bytes of the signed release, fetched anew on every call. */
export interface ManifestSourceService {
  /** The bytes of `trust.json` (decoded and checked by the caller). */
  readonly trustJson: Effect.Effect<Uint8Array, ManifestSourceError>
  /** fleet.resolved as stored, and its raw signature. */
  readonly fleetResolved: Effect.Effect<SignedPair, ManifestSourceError>
  /** A rollout manifest (`releases/rollouts/<rolloutId>.json`) as stored, and its raw signature. */
  readonly rolloutManifest: (rolloutId: RolloutId) => Effect.Effect<SignedPair, ManifestSourceError>
}

/** Where the CP reads signed releases from. Adapters: directory, HTTP, memory. */
export class ManifestSource extends Context.Tag("effect-fleet/ManifestSource")<ManifestSource, ManifestSourceService>() {}
