/**
 * A simulated NixOS host: an Activator and a ProbeRunner over an in-memory system profile, plus
 * the SimulatedHost control service to script outcomes and reboot. Used by tests and the
 * simulator; activation takes `activationTime` on Effect's Clock, so TestClock drives it.
 *
 * Invariants: the profile is a list of generations and the running closure changes only through
 * a successful switch, a rollback or a reboot (which boots the profile's current generation, as
 * the bootloader would); a failed activation changes nothing; a deferred one sets the profile
 * but leaves the running closure until the next reboot. A switch to the closure already running
 * never defers, whatever is scripted for it: the nix activator defers when a critical component
 * differs from the running system's (adapters/nix), and a closure differs from itself in none.
 */
import { Context, Data, Duration, Effect, Layer, Option, Ref } from "effect"
import type { ClosureHash, ProbeName } from "../../src/domain/ids.js"
import {
  type ActivationFailure,
  ActivationOutcome,
  Activator,
  type ActivatorService,
  SwitchFailed
} from "../../src/ports/activator.js"
import { type ProbeOutcome, probePass, ProbeRunner, type ProbeRunnerService } from "../../src/ports/probeRunner.js"

/** What the simulated host does when asked to switch to a closure (default: Succeed). */
export type SimulatedActivation = Data.TaggedEnum<{
  Succeed: {}
  Fail: { readonly failure: ActivationFailure }
  Defer: { readonly component: string }
}>
/** Constructors of {@link SimulatedActivation}. */
export const SimulatedActivation = Data.taggedEnum<SimulatedActivation>()

/** How a simulated host starts and how long its switches take. */
export interface SimulatedHostOptions {
  /** The closure running at start (null: `/run/current-system` unreadable). */
  readonly initialClosure?: ClosureHash | null
  /** How long a switch takes, on Effect's Clock (default 0). */
  readonly activationTime?: Duration.DurationInput
  /** How long a rollback takes, on Effect's Clock (default 0). */
  readonly rollbackTime?: Duration.DurationInput
}

/** The observable state of a simulated host. */
export interface SimulatedHostState {
  /** What `/run/current-system` points at. */
  readonly current: ClosureHash | null
  /** The system profile's generations, oldest first. */
  readonly generations: ReadonlyArray<ClosureHash>
  /** Index of the profile's current generation in `generations` (-1: none yet). */
  readonly generation: number
  readonly switches: number
  readonly rollbacks: number
  readonly reboots: number
}

/** Controls a simulated host from a test or the simulator. */
export interface SimulatedHostService {
  readonly state: Effect.Effect<SimulatedHostState>
  /** Sets what a switch to `target` does from now on. */
  readonly script: (target: ClosureHash, behaviour: SimulatedActivation) => Effect.Effect<void>
  /** Makes every rollback fail with `failure` from now on (null: rollbacks work again). */
  readonly scriptRollback: (failure: ActivationFailure | null) => Effect.Effect<void>
  /** Reboots: the host now runs the profile's current generation (a deferred switch takes effect). */
  readonly reboot: Effect.Effect<void>
  /** Sets a probe's outcome, for every closure or only while `closure` runs (that wins). */
  readonly setProbe: (name: ProbeName, outcome: ProbeOutcome, closure?: ClosureHash) => Effect.Effect<void>
}

/** The control service of a simulated host. */
export class SimulatedHost extends Context.Tag("effect-fleet/SimulatedHost")<SimulatedHost, SimulatedHostService>() {}

interface Internal extends SimulatedHostState {
  readonly scripts: ReadonlyMap<ClosureHash, SimulatedActivation>
  readonly rollbackFailure: ActivationFailure | null
  /** Keyed by `closure \0 name`, or `\0 name` for every closure. */
  readonly probes: ReadonlyMap<string, ProbeOutcome>
}

const probeKey = (closure: ClosureHash | null, name: ProbeName) => `${closure ?? ""}\u0000${name}`

/** A simulated host: its Activator, its ProbeRunner and its control service. */
export interface SimulatedHostParts {
  readonly activator: ActivatorService
  readonly probeRunner: ProbeRunnerService
  readonly control: SimulatedHostService
}

/** Builds a simulated host (for running many in one process, e.g. the simulator). */
export const makeSimulatedHost = (options: SimulatedHostOptions = {}): Effect.Effect<SimulatedHostParts> =>
  Effect.gen(function* () {
    const initial = options.initialClosure ?? null
    const ref = yield* Ref.make<Internal>({
      current: initial,
      generations: initial === null ? [] : [initial],
      generation: initial === null ? -1 : 0,
      switches: 0,
      rollbacks: 0,
      reboots: 0,
      scripts: new Map(),
      rollbackFailure: null,
      probes: new Map()
    })
    const activationTime = Duration.decode(options.activationTime ?? 0)
    const rollbackTime = Duration.decode(options.rollbackTime ?? 0)
    // Decision (sim, all faults, 3 channels × 5 hosts, seed 1242): a host rebooted into a deferred
    // target after a CP wipe was dispatched that target again and deferred it again, staying
    // Deferred for good — the real activator finds nothing to defer there.
    const behaviourFor = (s: Internal, target: ClosureHash) => {
      const scripted = s.scripts.get(target) ?? SimulatedActivation.Succeed()
      return scripted._tag === "Defer" && s.current === target ? SimulatedActivation.Succeed() : scripted
    }
    const withGeneration = (s: Internal, target: ClosureHash): Internal => ({
      ...s,
      generations: [...s.generations, target],
      generation: s.generations.length
    })

    const fireSwitch = Effect.fn("Activator.fireSwitch")(function* (target: ClosureHash) {
      yield* Effect.sleep(activationTime)
      const outcome = yield* Ref.modify(ref, (s): readonly [ActivationOutcome | ActivationFailure, Internal] => {
        const counted = { ...s, switches: s.switches + 1 }
        return SimulatedActivation.$match(behaviourFor(s, target), {
          Succeed: () => [ActivationOutcome.FiredAndPolled({ observed: target }), { ...withGeneration(counted, target), current: target }] as const,
          Defer: ({ component }) => [ActivationOutcome.DeferredPendingReboot({ component }), withGeneration(counted, target)] as const,
          Fail: ({ failure }) => [failure, counted] as const
        })
      })
      return outcome._tag === "FiredAndPolled" || outcome._tag === "DeferredPendingReboot" ? outcome : yield* Effect.fail(outcome)
    })

    const fireRollback = Effect.gen(function* () {
      yield* Effect.sleep(rollbackTime)
      const result = yield* Ref.modify(ref, (s): readonly [ClosureHash | ActivationFailure, Internal] => {
        const counted = { ...s, rollbacks: s.rollbacks + 1 }
        if (s.rollbackFailure !== null) return [s.rollbackFailure, counted]
        const previous = s.generations[s.generation - 1]
        if (previous === undefined) return [new SwitchFailed({ phase: "nix-env-rollback", exitCode: 1 }), counted]
        return [previous, { ...counted, generation: s.generation - 1, current: previous }]
      })
      return typeof result === "string" ? result : yield* Effect.fail(result)
    }).pipe(Effect.withSpan("Activator.fireRollback"))

    const activator: ActivatorService = {
      currentClosure: Effect.map(Ref.get(ref), (s) => Option.fromNullable(s.current)),
      detectDeferral: Effect.fn("Activator.detectDeferral")((target: ClosureHash) =>
        Effect.map(Ref.get(ref), (s) => {
          const behaviour = behaviourFor(s, target)
          return behaviour._tag === "Defer" ? Option.some(behaviour.component) : Option.none()
        })
      ),
      fireSwitch,
      fireRollback
    }

    const probeRunner: ProbeRunnerService = {
      run: Effect.fn("ProbeRunner.run")((name: ProbeName) =>
        Effect.map(Ref.get(ref), (s) => s.probes.get(probeKey(s.current, name)) ?? s.probes.get(probeKey(null, name)) ?? probePass)
      )
    }

    const control: SimulatedHostService = {
      state: Effect.map(Ref.get(ref), ({ current, generation, generations, reboots, rollbacks, switches }) => ({
        current,
        generations,
        generation,
        switches,
        rollbacks,
        reboots
      })),
      script: (target, behaviour) => Ref.update(ref, (s) => ({ ...s, scripts: new Map(s.scripts).set(target, behaviour) })),
      scriptRollback: (failure) => Ref.update(ref, (s) => ({ ...s, rollbackFailure: failure })),
      reboot: Ref.update(ref, (s) => ({ ...s, reboots: s.reboots + 1, current: s.generations[s.generation] ?? s.current })),
      setProbe: (name, outcome, closure) =>
        Ref.update(ref, (s) => ({ ...s, probes: new Map(s.probes).set(probeKey(closure ?? null, name), outcome) }))
    }
    return { activator, probeRunner, control }
  })

/** One simulated host as a layer: Activator, ProbeRunner and SimulatedHost. */
export const layerSimulatedHost = (options: SimulatedHostOptions = {}): Layer.Layer<Activator | ProbeRunner | SimulatedHost> =>
  Layer.effectContext(
    Effect.map(makeSimulatedHost(options), ({ activator, control, probeRunner }) =>
      Context.make(Activator, activator).pipe(Context.add(ProbeRunner, probeRunner), Context.add(SimulatedHost, control))
    )
  )
