/**
 * The Activator on real nix (spec §6): realise the closure, set the system profile, stage it for
 * the next boot when a critical component changed, else switch to it and confirm through the
 * current-system link; roll back with `nix-env --rollback` and the previous generation's own
 * `switch-to-configuration`.
 *
 * Invariants: `fireSwitch` returns only once the outcome is known; it changes the profile only
 * after the closure is realised, and reports success only when the current-system link points at
 * the target; every failure is an ActivationFailure with the failing command's stderr tail;
 * `currentClosure` never fails (unreadable link = None).
 *
 * Contract with `switch-to-configuration`: like NixOS's own, `switch` must leave the configured
 * current-system link pointing at its closure before it exits (`direct`) or soon after
 * (`systemd-run`, polled); `boot` only installs the bootloader entry. Toy closures in tests keep
 * this contract by repointing the link themselves (test/fixtures/nix/toy-system.nix).
 */
import type { CommandExecutor } from "@effect/platform"
import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Clock, Duration, Effect, Layer, Option } from "effect"
import type { ClosureHash } from "../../src/domain/ids.js"
import {
  type ActivationFailure,
  ActivationOutcome,
  Activator,
  type ActivatorService,
  failureReport,
  RealiseFailed,
  SwitchFailed,
  VerifyMismatch
} from "../../src/ports/activator.js"
import {
  checkSwitchLock,
  fireDetached,
  realise,
  rollbackProfile,
  runSwitchScript,
  setProfile,
  unitExitStatus
} from "./commands.js"
import { type NixActivatorConfig, type ResolvedNixConfig, resolveNixConfig } from "./config.js"
import { changedComponent, closureIn, readCurrentSystem, readProfileTarget, storePathOf } from "./links.js"

/** Stand-in for the observed closure of a VerifyMismatch when the current-system link is unreadable. */
const UNREADABLE = "(unreadable)" as ClosureHash

type Platform = CommandExecutor.CommandExecutor | FileSystem.FileSystem

/** What a switch must end in, and how to tell it went elsewhere. */
interface SwitchGoal {
  readonly storePath: string
  /** Reported as `VerifyMismatch.expected`. */
  readonly expected: ClosureHash
  /** What was running before: any other closure seen while polling is a mismatch. None: only the timeout ends the poll. */
  readonly previous: Option.Option<string>
  readonly unit: string
  /** Phase of a direct switch that fails. */
  readonly directPhase: string
  /** Phase of a detached switch whose poll timed out. */
  readonly timeoutPhase: string
}

/** Logs a failed activation or rollback with what the agent will report, and fails on unchanged. */
const logFailure =
  (what: string) =>
  <A, R>(self: Effect.Effect<A, ActivationFailure, R>): Effect.Effect<A, ActivationFailure, R> =>
    Effect.tapError(self, (failure) => Effect.logWarning(`nix ${what} failed: ${failure._tag}`, failureReport(failure)))

/** Builds the Activator over real nix; needs a CommandExecutor and a FileSystem (NodeContext). */
export const makeNixActivator = (input: NixActivatorConfig = {}): Effect.Effect<ActivatorService, never, Platform> =>
  Effect.gen(function* () {
    const config: ResolvedNixConfig = resolveNixConfig(input)
    const platform = yield* Effect.context<Platform>()

    const mismatch = (goal: SwitchGoal, seen: Option.Option<string>) =>
      new VerifyMismatch({
        expected: goal.expected,
        observed: Option.match(seen, { onNone: () => UNREADABLE, onSome: (p) => closureIn(config.closureForm, p) })
      })

    /** Spec §6.1 step 7: poll the link until it shows the target, another closure, or time runs out. */
    const poll = (goal: SwitchGoal) =>
      Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(config.timeouts.verify)
        while (true) {
          const seen = yield* readCurrentSystem(config)
          if (Option.contains(seen, goal.storePath)) return
          if (Option.isSome(seen) && Option.isSome(goal.previous) && seen.value !== goal.previous.value) {
            return yield* mismatch(goal, seen)
          }
          if ((yield* Clock.currentTimeMillis) >= deadline) {
            const exitCode = yield* unitExitStatus(config, goal.unit)
            return yield* new SwitchFailed({ phase: goal.timeoutPhase, exitCode })
          }
          yield* Effect.sleep(config.timeouts.pollInterval)
        }
      })

    /** Runs `switch-to-configuration switch` as configured and confirms the link now shows the target. */
    const switchTo = (goal: SwitchGoal): Effect.Effect<void, ActivationFailure, Platform> =>
      config.launcher === "direct"
        ? Effect.gen(function* () {
            yield* runSwitchScript(config, goal.storePath, "switch", goal.directPhase)
            const seen = yield* readCurrentSystem(config)
            if (!Option.contains(seen, goal.storePath)) return yield* mismatch(goal, seen)
          })
        : Effect.zipRight(fireDetached(config, goal.storePath, goal.unit), poll(goal))

    /** Spec §6.1 step 8: re-set the profile if it drifted off the target; never fails. */
    const selfCorrectProfile = (storePath: string) =>
      Effect.gen(function* () {
        if (Option.contains(yield* readProfileTarget(config), storePath)) return
        yield* Effect.logWarning(`profile ${config.profile} no longer points at ${storePath}; setting it again`)
        yield* setProfile(config, storePath).pipe(
          Effect.catchAll((e) => Effect.logWarning(`re-setting the profile failed (exit ${e.exitCode})`))
        )
      })

    /** The running system's store path, or RealiseFailed (spec §6.1 step 4). */
    const runningOrFail = Effect.flatMap(readCurrentSystem(config), (seen) =>
      Option.match(seen, {
        onNone: () => Effect.fail(new RealiseFailed({ reason: `cannot read ${config.currentSystem}` })),
        onSome: Effect.succeed
      })
    )

    /** The target's store path; a target that names no store path is RealiseFailed before anything runs. */
    const storePathOrFail = (target: ClosureHash) =>
      Option.match(storePathOf(config.storeDir, target), {
        onNone: () => Effect.fail(new RealiseFailed({ reason: `${JSON.stringify(target)} is not a closure in ${config.storeDir}` })),
        onSome: Effect.succeed
      })

    const fireSwitch = Effect.fn("Activator.fireSwitch")(function* (target: ClosureHash) {
      const storePath = yield* storePathOrFail(target)
      yield* Effect.annotateCurrentSpan("target", storePath)
      yield* checkSwitchLock(config)
      yield* realise(config, storePath)
      yield* setProfile(config, storePath)
      const running = yield* runningOrFail
      const component = yield* changedComponent(config.criticalComponents, running, storePath)
      if (Option.isSome(component)) {
        yield* runSwitchScript(config, storePath, "boot", "defer-bootloader-update")
        return ActivationOutcome.DeferredPendingReboot({ component: component.value })
      }
      yield* switchTo({
        storePath,
        expected: target,
        previous: Option.some(running),
        unit: config.units.switch,
        directPhase: "switch-to-configuration",
        timeoutPhase: "switch-poll-timeout"
      })
      yield* selfCorrectProfile(storePath)
      return ActivationOutcome.FiredAndPolled({ observed: target })
    })

    /**
     * Spec §6.2. Decision: the reference polls with no previous closure, which would call the
     * still-running failed closure a mismatch on the first read; here the closure running before
     * the rollback is the "previous" one, so only a third closure is a mismatch.
     */
    const fireRollback = Effect.gen(function* () {
      const before = yield* readCurrentSystem(config)
      yield* rollbackProfile(config)
      const storePath = yield* Effect.flatMap(readProfileTarget(config), (target) =>
        Option.match(target, {
          onNone: () => Effect.fail(new SwitchFailed({ phase: "discover-target", exitCode: null })),
          onSome: Effect.succeed
        })
      )
      const closure = closureIn(config.closureForm, storePath)
      yield* switchTo({
        storePath,
        expected: closure,
        previous: Option.filter(before, (p) => p !== storePath),
        unit: config.units.rollback,
        directPhase: "rollback-switch",
        timeoutPhase: "rollback-poll-timeout"
      })
      return closure
    }).pipe(Effect.withSpan("Activator.fireRollback"))

    return {
      currentClosure: readCurrentSystem(config).pipe(
        Effect.map(Option.map((p) => closureIn(config.closureForm, p))),
        Effect.provide(platform)
      ),
      detectDeferral: Effect.fn("Activator.detectDeferral")(function* (target: ClosureHash) {
        const storePath = yield* storePathOrFail(target)
        const running = yield* runningOrFail
        return yield* changedComponent(config.criticalComponents, running, storePath)
      }, Effect.provide(platform)),
      fireSwitch: (target) => fireSwitch(target).pipe(logFailure("switch"), Effect.provide(platform)),
      fireRollback: fireRollback.pipe(logFailure("rollback"), Effect.provide(platform))
    }
  })

/**
 * The Activator on real nix, on Node's CommandExecutor and FileSystem. On NixOS the defaults fit;
 * tests pass a profile, current-system link and switch lock under a temp dir.
 */
export const layerNix = (config: NixActivatorConfig = {}): Layer.Layer<Activator> =>
  Layer.effect(Activator, makeNixActivator(config)).pipe(Layer.provide(NodeContext.layer))
