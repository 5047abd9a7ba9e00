/**
 * Test helper: a real signed sample fleet (src/sim/sampleFleet.ts) as artifacts in
 * memory, in a scoped temporary directory, or behind a memory ManifestSource; plus tampering and
 * the instant it was signed (set the TestClock there before verifying).
 *
 * Invariant: nothing is stored between runs; every signature is made by the test run that checks
 * it, with a key generated on the spot. Everything but the key is deterministic.
 *
 * ```ts
 * const signed = signedFleet()                       // 3 channels × 20 hosts, signed at SIGNED_AT
 * const { root } = yield* writeSignedFleet()        // needs FileSystem + Scope
 * yield* TestClock.setTime(SIGNED_AT)
 * ```
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either, type Scope } from "effect"
import {
  type SampleFleetOptions,
  signSampleFleet,
  type SignedSampleFleet,
  writeSampleFleet
} from "../../src/sim/sampleFleet.js"
import { ts } from "../../src/domain/time.js"
import type { SigningKey } from "../../src/trust/keygen.js"
import { makeMemoryManifestSource, type MemoryManifestSource } from "../../adapters/memory/manifestSource.js"

export {
  CANARY_POLICY,
  SAMPLE_CI_COMMIT,
  sampleFleet,
  STAGED_POLICY,
  trustFor,
  type SampleFleet,
  type SampleFleetOptions,
  type SignedSampleFleet
} from "../../src/sim/sampleFleet.js"

/** When the helper's fleets are signed. */
export const SIGNED_AT = ts("2026-05-17T12:00:00Z")

/** Options of the helper: the sample fleet's, plus a key to reuse. */
export type SignedFleetOptions = SampleFleetOptions & { readonly key?: SigningKey }

/** The sample fleet signed at {@link SIGNED_AT} (fails the test if signing fails). */
export const signedFleet = (options: SignedFleetOptions = {}): SignedSampleFleet =>
  Either.getOrThrow(signSampleFleet(SIGNED_AT, options))

/** Writes a signed sample fleet into a temporary directory removed when the scope closes (I/O errors fail the test). */
export const writeSignedFleet = (
  options: SignedFleetOptions = {}
): Effect.Effect<{ readonly root: string; readonly signed: SignedSampleFleet }, never, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "effect-fleet-release-" })
    const signed = yield* writeSampleFleet(root, SIGNED_AT, options)
    return { root, signed }
  }).pipe(Effect.orDie)

/** A memory ManifestSource holding every file of a signed fleet. */
export const memorySource = (signed: SignedSampleFleet): Effect.Effect<MemoryManifestSource> => makeMemoryManifestSource(signed.files)

/**
 * The artifact with one closure changed (`nixos-system` → `nixos-systex` at its first
 * occurrence): still valid JSON of the same shape, so verification fails on the signature alone.
 */
export const tamper = (bytes: Uint8Array): Uint8Array => {
  const text = new TextDecoder().decode(bytes)
  const changed = text.replace("nixos-system", "nixos-systex")
  if (changed === text) throw new Error("tamper: the artifact has no closure to change")
  return new TextEncoder().encode(changed)
}
