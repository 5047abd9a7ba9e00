/**
 * The evidence probe (spec §7): checks a signed compliance evidence file and turns its controls
 * into one sub-result per (control, framework, article), each with its effective mode.
 *
 * Accepted evidence file (JSON; unknown fields are ignored):
 * ```json
 * { "schemaVersion": 1,
 *   "controls": [
 *     { "id": "ssh-no-root-login", "status": "pass",
 *       "frameworks": [{ "framework": "nis2", "article": "21.2.j" }] } ] }
 * ```
 * `status` is `pass` or `fail`; `frameworks` may be missing or empty (the control then counts
 * under framework `custom`); `article` may be missing or null. Beside it, `<file>.sig` holds the
 * base64 Ed25519 signature of the file's RFC 8785 canonical form, verified with the host's SSH
 * key: the last 32 bytes of the base64 blob in the `.pub` file (`ssh-ed25519 AAAA… comment`).
 *
 * Invariant: every problem (file missing, bad JSON, bad signature, wrong schema version, bad
 * declaration) is a `fail` outcome with a reason, never an error; a disabled control is dropped.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either, Schema } from "effect"
import type { ProbeMode, ProbeSubResult } from "../../src/domain/probe.js"
import { ProbeStatus } from "../../src/domain/probe.js"
import type { EvidenceProbeDeclaration, ProbeOutcome } from "../../src/ports/probeRunner.js"
import { probeFail } from "../../src/ports/probeRunner.js"
import { decodeBase64Strict, prepareKey, verifyEd25519Strict } from "../../src/trust/crypto.js"
import { canonicalizeDocument } from "../../src/trust/jcs.js"

/** The evidence file, as this runner reads it. */
export const EvidenceFile = Schema.Struct({
  schemaVersion: Schema.Number,
  controls: Schema.Array(
    Schema.Struct({
      id: Schema.String,
      status: ProbeStatus,
      frameworks: Schema.optionalWith(
        Schema.Array(Schema.Struct({ framework: Schema.String, article: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }) })),
        { default: () => [] }
      )
    })
  )
}).annotations({ identifier: "EvidenceFile" })
/** The evidence file. */
export type EvidenceFile = typeof EvidenceFile.Type

/** How the runner checks evidence files. */
export interface EvidenceOptions {
  /** The SSH host public key file; null skips the signature check (development and tests only). */
  readonly hostKey: string | null
  /** The only `schemaVersion` accepted. */
  readonly schemaVersion: number
}

type Declaration = typeof EvidenceProbeDeclaration.Type

/** The framework sub-results of a control with none. */
const CUSTOM = [{ framework: "custom", article: null }] as const

/** Reads a file; a failure becomes a probe failure reason. */
const read = (path: string, what: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFile(path)).pipe(
    Effect.mapError((e) => `cannot read ${what} ${path}: ${e.message}`)
  )

/** The Ed25519 public key of an OpenSSH `.pub` line: the last 32 bytes of its base64 blob. */
const hostPublicKey = (line: string): Either.Either<string, string> => {
  const blob = decodeBase64Strict(line.trim().split(/\s+/)[1] ?? "")
  if (blob === undefined || blob.length < 32) return Either.left("host key is not an OpenSSH public key line")
  return Either.right(Buffer.from(blob.subarray(blob.length - 32)).toString("base64"))
}

/** Spec §7 evidence step 2-4: the signature over the canonical file must verify. */
const verifySignature = (canonical: string, signatureText: string, keyLine: string): Either.Either<void, string> =>
  Either.gen(function* () {
    const raw = yield* hostPublicKey(keyLine)
    const key = yield* Either.mapLeft(prepareKey({ algorithm: "ed25519", public: raw }), (e) => `bad host key: ${e.reason}`)
    const signature = decodeBase64Strict(signatureText.trim())
    if (signature === undefined || !verifyEd25519Strict(key, Buffer.from(canonical, "utf8"), signature)) {
      return yield* Either.left("evidence signature does not verify")
    }
  })

/**
 * The sub-results of a verified evidence file for one declaration (spec §7 evidence steps 6-7):
 * with `framework`, the controls that map to it, moded by `controlOverrides` else the probe's
 * mode; with `controls`, the listed controls only, moded by their entry. Decision: a control the
 * declaration lists but the file lacks fails (missing evidence is not compliance), under
 * framework `custom`.
 */
export const subResults = (declaration: Declaration, file: EvidenceFile): ReadonlyArray<ProbeSubResult> => {
  const out: Array<ProbeSubResult> = []
  const push = (controlId: string, status: ProbeSubResult["status"], ref: { framework: string; article: string | null }, mode: ProbeMode, reason: string | null) => {
    if (mode !== "disabled") out.push({ controlId, status, framework: ref.framework, article: ref.article, effectiveMode: mode, overrideReason: reason })
  }
  if (declaration.controls !== undefined) {
    const listed = declaration.controls
    for (const [id, entry] of Object.entries(listed)) {
      const control = file.controls.find((c) => c.id === id)
      const refs = control === undefined || control.frameworks.length === 0 ? CUSTOM : control.frameworks
      for (const ref of refs) push(id, control?.status ?? "fail", ref, entry.mode, entry.reason ?? null)
    }
    return out
  }
  for (const control of file.controls) {
    const override = declaration.controlOverrides[control.id]
    for (const ref of control.frameworks.filter((f) => f.framework === declaration.framework)) {
      push(control.id, control.status, ref, override?.mode ?? declaration.mode, override?.reason ?? null)
    }
  }
  return out
}

/** Spec §7 evidence step 8: no sub-results fail; otherwise every enforce sub-result must pass. */
export const evidenceOutcome = (results: ReadonlyArray<ProbeSubResult>): ProbeOutcome => {
  if (results.length === 0) return { ...probeFail("no controls to check in the evidence file"), subResults: [] }
  const failing = results.filter((r) => r.effectiveMode === "enforce" && r.status === "fail")
  if (failing.length === 0) return { status: "pass", failureReason: null, subResults: results }
  const names = failing.map((r) => `${r.controlId} (${r.framework}${r.article === null ? "" : ` ${r.article}`})`)
  return { status: "fail", failureReason: `failing enforce controls: ${names.join(", ")}`, subResults: results }
}

/** Runs one evidence probe; never fails. */
export const runEvidence = (declaration: Declaration, options: EvidenceOptions): Effect.Effect<ProbeOutcome, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    if ((declaration.framework === undefined) === (declaration.controls === undefined)) {
      return yield* Effect.fail("an evidence probe needs exactly one of framework or controls")
    }
    const path = declaration.evidencePath
    const bytes = yield* read(path, "evidence file")
    const document = yield* Either.mapLeft(canonicalizeDocument(bytes), (e) => `evidence file ${path} is not canonical JSON: ${e.detail}`)
    if (options.hostKey !== null) {
      const signature = new TextDecoder().decode(yield* read(`${path}.sig`, "evidence signature"))
      const keyLine = new TextDecoder().decode(yield* read(options.hostKey, "host key"))
      yield* verifySignature(document.canonical, signature, keyLine)
    }
    const file = yield* Schema.decodeUnknownEither(EvidenceFile)(document.value).pipe(
      Either.mapLeft((e) => `evidence file ${path} has an unexpected shape: ${e.message}`)
    )
    if (file.schemaVersion !== options.schemaVersion) {
      return yield* Effect.fail(`evidence schemaVersion ${file.schemaVersion} is not ${options.schemaVersion}`)
    }
    return evidenceOutcome(subResults(declaration, file))
  }).pipe(Effect.catchAll((reason) => Effect.succeed(probeFail(reason))))
