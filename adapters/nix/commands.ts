/**
 * The commands of the activation pipeline (spec §6), each mapped to the ActivationFailure the
 * agent reports: the switch-lock check, `nix-store --realise`, `nix-env --set` / `--rollback`,
 * and `switch-to-configuration` run directly or fired through `systemd-run`.
 *
 * Invariant: every failure carries the failing command's stderr tail (the last 4 KiB; 500 bytes
 * for a signature mismatch, as the reference); a command that cannot start, times out or dies
 * counts as failed, with exit code null.
 */
import type { CommandExecutor } from "@effect/platform"
import { FileSystem } from "@effect/platform"
import { Duration, Effect } from "effect"
import { RealiseFailed, SignatureMismatch, SwitchFailed } from "../../src/ports/activator.js"
import type { ResolvedNixConfig } from "./config.js"
import { type ProcessOutput, runProcess, showArgv } from "./process.js"

/** What the caller learns about a failed command. */
export interface CommandFailure {
  /** The exit code; null when the command could not start, timed out or died by a signal. */
  readonly exitCode: number | null
  readonly stderrTail: string
  /** One line: the command and what went wrong. */
  readonly detail: string
}

/** Runs `argv`; a non-zero exit, a timeout or a failure to start becomes `onFail(failure)`. */
export const runOk = <E>(
  argv: readonly [string, ...Array<string>],
  timeout: Duration.Duration,
  onFail: (failure: CommandFailure) => E
): Effect.Effect<ProcessOutput, E, CommandExecutor.CommandExecutor> =>
  runProcess(argv, { timeout }).pipe(
    Effect.catchAll((failed) => Effect.fail(onFail({ exitCode: null, stderrTail: failed.stderrTail, detail: failed.detail }))),
    Effect.flatMap((out) =>
      out.exitCode === 0
        ? Effect.succeed(out)
        : Effect.fail(onFail({ exitCode: out.exitCode, stderrTail: out.stderrTail, detail: `${showArgv(argv)} exited with ${out.exitCode}` }))
    )
  )

/** Builds the SwitchFailed of `phase` from a failed command. */
export const switchFailed =
  (phase: string) =>
  ({ exitCode, stderrTail }: CommandFailure): SwitchFailed =>
    new SwitchFailed({ phase, exitCode, stderrTail })

/** stderr fragments (lowercase) that mean the closure's signature was refused (spec §6.1 step 2). */
export const SIGNATURE_PATTERNS: ReadonlyArray<string> = [
  "lacks a valid signature",
  "no signature is trusted",
  "is not signed by any of the keys",
  "no signatures matched",
  "signature mismatch",
  "untrusted signature"
]

/** How much stderr a SignatureMismatch keeps, as the reference. */
const SIGNATURE_TAIL_BYTES = 500

/** The last `bytes` bytes of `text` as UTF-8 (a character cut in two is dropped). */
export const lastBytes = (text: string, bytes: number): string => {
  const encoded = Buffer.from(text, "utf8")
  return encoded.length <= bytes ? text : encoded.subarray(encoded.length - bytes).toString("utf8").replace(/^\uFFFD+/, "")
}

/**
 * Spec §6.1 step 1: when the switch lock file exists, a shared non-blocking `flock` on it must
 * succeed, else another switch is running → RealiseFailed. No lock file, or no `flock` binary,
 * passes (fail-open, as the reference). Reporting a held lock as RealiseFailed (exit -1) follows
 * the reference too (spec §9.9); retrying later is the agent's decision, not the adapter's.
 */
export const checkSwitchLock = (config: ResolvedNixConfig) =>
  Effect.gen(function* () {
    const lock = config.switchLock
    if (lock === null) return
    const fs = yield* FileSystem.FileSystem
    if (!(yield* fs.exists(lock).pipe(Effect.orElseSucceed(() => false)))) return
    const result = yield* runProcess([config.commands.flock, "--nonblock", "--shared", lock, "true"], {
      timeout: config.timeouts.command
    }).pipe(Effect.either)
    if (result._tag === "Left") {
      if (result.left.reason === "spawn") return yield* Effect.logWarning(`switch lock not checked: ${result.left.detail}`)
      return yield* new RealiseFailed({ reason: `switch lock check failed: ${result.left.detail}`, stderrTail: result.left.stderrTail })
    }
    if (result.right.exitCode !== 0) {
      return yield* new RealiseFailed({ reason: `switch lock held: ${lock}`, stderrTail: result.right.stderrTail })
    }
  })

/**
 * Spec §6.1 step 2: `nix-store --realise <store path>` (with the configured `--option`s). A
 * refused signature → SignatureMismatch; any other failure, or a first stdout line that is not
 * the store path → RealiseFailed.
 */
export const realise = (config: ResolvedNixConfig, storePath: string) =>
  Effect.gen(function* () {
    const argv = [config.commands.nixStore, ...config.realiseOptions, "--realise", storePath] as const
    const out = yield* runOk(argv, config.timeouts.realise, (f): CommandFailure => f).pipe(
      Effect.mapError((f): SignatureMismatch | RealiseFailed => {
        const lower = f.stderrTail.toLowerCase()
        return SIGNATURE_PATTERNS.some((pattern) => lower.includes(pattern))
          ? new SignatureMismatch({ stderrTail: lastBytes(f.stderrTail, SIGNATURE_TAIL_BYTES) })
          : new RealiseFailed({ reason: f.detail, stderrTail: f.stderrTail })
      })
    )
    const first = out.stdout.split("\n", 1)[0]?.trim() ?? ""
    if (first !== storePath) {
      return yield* new RealiseFailed({
        reason: `${showArgv(argv)} printed ${first === "" ? "nothing" : JSON.stringify(first)}, expected ${storePath}`,
        stderrTail: out.stderrTail
      })
    }
  })

/** Spec §6.1 step 3: `nix-env --profile <profile> --set <store path>`; failure → SwitchFailed `nix-env-set`. */
export const setProfile = (config: ResolvedNixConfig, storePath: string) =>
  runOk(
    [config.commands.nixEnv, "--profile", config.profile, "--set", storePath],
    config.timeouts.command,
    switchFailed("nix-env-set")
  )

/** Spec §6.2 step 1: `nix-env --profile <profile> --rollback`; failure → SwitchFailed `nix-env-rollback`. */
export const rollbackProfile = (config: ResolvedNixConfig) =>
  runOk([config.commands.nixEnv, "--profile", config.profile, "--rollback"], config.timeouts.command, switchFailed("nix-env-rollback"))

/** `<store path>/bin/switch-to-configuration <action>`, run as a child within the switch timeout. */
export const runSwitchScript = (config: ResolvedNixConfig, storePath: string, action: "switch" | "boot", phase: string) =>
  runOk([`${storePath}/bin/switch-to-configuration`, action], config.timeouts.switch, switchFailed(phase))

/**
 * Spec §6.1 step 6 / §6.2 step 3: `systemctl reset-failed <unit>` (result ignored), then
 * `systemd-run --unit=<unit> --collect -- <store path>/bin/switch-to-configuration switch`;
 * failure to fire → SwitchFailed `systemd-run-fire`.
 */
export const fireDetached = (config: ResolvedNixConfig, storePath: string, unit: string) =>
  runProcess([config.commands.systemctl, "reset-failed", unit], { timeout: config.timeouts.command }).pipe(
    Effect.ignore,
    Effect.zipRight(
      runOk(
        [config.commands.systemdRun, `--unit=${unit}`, "--collect", "--", `${storePath}/bin/switch-to-configuration`, "switch"],
        config.timeouts.command,
        switchFailed("systemd-run-fire")
      )
    )
  )

/** The unit's `ExecMainStatus` (`systemctl show --property=ExecMainStatus --value`); null when unknown. */
export const unitExitStatus = (config: ResolvedNixConfig, unit: string) =>
  runProcess([config.commands.systemctl, "show", "--property=ExecMainStatus", "--value", unit], {
    timeout: config.timeouts.command
  }).pipe(
    Effect.map((out) => {
      const text = out.stdout.trim()
      return out.exitCode === 0 && /^-?\d+$/.test(text) ? Number(text) : null
    }),
    Effect.orElseSucceed(() => null)
  )
