/**
 * The Activator port (agent side): switches the host to a closure, rolls it back, reads the
 * running closure and tells whether a switch must wait for a reboot (spec §6).
 *
 * Invariants: `fireSwitch` returns only once the outcome is known (settled, staged for boot, or
 * failed); every failure is an {@link ActivationFailure} carrying what the agent needs to build
 * its `ActivationFailed` event; reading the current closure never fails (unreadable = None).
 */
import { Context, Data } from "effect"
import type { Effect, Option } from "effect"
import type { ClosureHash } from "../domain/ids.js"

/** A forward activation that did not fail. */
export type ActivationOutcome = Data.TaggedEnum<{
  /** The switch ran and `/run/current-system` now points at the target. */
  FiredAndPolled: { readonly observed: ClosureHash }
  /** The target was staged for the next boot: a component (kernel, systemd, dbus) differs. */
  DeferredPendingReboot: { readonly component: string }
}>
/** Constructors and matchers of {@link ActivationOutcome}. */
export const ActivationOutcome = Data.taggedEnum<ActivationOutcome>()

/** The signature check refused the closure (exit code -2). */
export class SignatureMismatch extends Data.TaggedError("SignatureMismatch")<{ readonly stderrTail: string }> {}

/** Realising the closure failed, or the switch lock was held (exit code -1). */
export class RealiseFailed extends Data.TaggedError("RealiseFailed")<{
  readonly reason: string
  /** The last few KiB of the failing command's stderr, when a command failed. */
  readonly stderrTail?: string | undefined
}> {}

/** A step of the switch or rollback failed; `phase` names it (e.g. `systemd-run-fire`). */
export class SwitchFailed extends Data.TaggedError("SwitchFailed")<{
  readonly phase: string
  /** The unit's or command's exit code, when known. */
  readonly exitCode: number | null
  /** The last few KiB of the failing command's stderr, when a command failed and it was captured. */
  readonly stderrTail?: string | undefined
}> {}

/** The running closure became something that is neither the target nor the previous one (exit code -3). */
export class VerifyMismatch extends Data.TaggedError("VerifyMismatch")<{
  readonly expected: ClosureHash
  readonly observed: ClosureHash
}> {}

/** Any activation or rollback failure. */
export type ActivationFailure = SignatureMismatch | RealiseFailed | SwitchFailed | VerifyMismatch

/** `headline`, then the captured stderr tail on the following lines when there is one. */
const withTail = (headline: string, tail: string | undefined): string =>
  tail === undefined || tail === "" ? headline : `${headline}\n${tail}`

/**
 * The `exitCode` and `stderrTail` of the `ActivationFailed` event an agent reports for a failure
 * (spec §5.4). A captured stderr tail follows the spec's one-line text on the next lines.
 */
export const failureReport = (failure: ActivationFailure): { readonly exitCode: number; readonly stderrTail: string } => {
  switch (failure._tag) {
    case "SignatureMismatch":
      return { exitCode: -2, stderrTail: failure.stderrTail }
    case "RealiseFailed":
      return { exitCode: -1, stderrTail: withTail(failure.reason, failure.stderrTail) }
    case "SwitchFailed":
      return { exitCode: failure.exitCode ?? -1, stderrTail: withTail(`switch failed at phase ${failure.phase}`, failure.stderrTail) }
    case "VerifyMismatch":
      return { exitCode: -3, stderrTail: `expected ${failure.expected}, observed ${failure.observed}` }
  }
}

/** The Activator service. */
export interface ActivatorService {
  /** The closure the host runs now (basename of `/run/current-system`); None when unreadable. */
  readonly currentClosure: Effect.Effect<Option.Option<ClosureHash>>
  /** The first component (dbus, systemd, kernel) whose change would need a reboot, if any. */
  readonly detectDeferral: (target: ClosureHash) => Effect.Effect<Option.Option<string>, ActivationFailure>
  /** The forward pipeline: realise, set the profile, stage for boot when deferred, else switch and verify. */
  readonly fireSwitch: (target: ClosureHash) => Effect.Effect<ActivationOutcome, ActivationFailure>
  /** Rolls the profile back one generation and switches to it; returns the closure now running. */
  readonly fireRollback: Effect.Effect<ClosureHash, ActivationFailure>
}

/** Switches the host's system closure. Adapters: a simulated host (memory); real nix (`effect-fleet/nix`). */
export class Activator extends Context.Tag("effect-fleet/Activator")<Activator, ActivatorService>() {}
