/**
 * The Activator and ProbeRunner conformance suites, run per adapter with `it.layer` (the
 * simulated host now; the nix adapter will reuse them with its own closures and probes).
 *
 * Invariant: an adapter is described only by what the suites need: the closure it starts on, a
 * target it can switch to, and one passing and one failing probe.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { ClosureHash, ProbeName } from "../../src/domain/index.js"
import { ActivationOutcome, Activator } from "../../src/ports/activator.js"
import { type ProbeDeclaration, ProbeRunner } from "../../src/ports/probeRunner.js"

/** What the Activator suite needs from an adapter. */
export interface ActivatorFixture {
  /** The closure running when the layer is built. */
  readonly initial: ClosureHash
  /** A closure the adapter can switch to without a reboot. */
  readonly target: ClosureHash
}

/** Runs the Activator conformance tests against `layer`. */
export const activatorConformance = <E>(name: string, layer: Layer.Layer<Activator, E>, fixture: ActivatorFixture) =>
  it.layer(layer)(`Activator conformance (${name})`, (it) => {
    it.effect("switch, read back, roll back: the running closure follows", () =>
      Effect.gen(function* () {
        const activator = yield* Activator
        expect(yield* activator.currentClosure).toEqual(Option.some(fixture.initial))
        expect(yield* activator.detectDeferral(fixture.target)).toEqual(Option.none())
        // The running closure differs from itself in no component: switching to it never defers.
        expect(yield* activator.detectDeferral(fixture.initial)).toEqual(Option.none())
        expect(yield* activator.fireSwitch(fixture.target)).toEqual(ActivationOutcome.FiredAndPolled({ observed: fixture.target }))
        expect(yield* activator.currentClosure).toEqual(Option.some(fixture.target))
        expect(yield* activator.fireRollback).toBe(fixture.initial)
        expect(yield* activator.currentClosure).toEqual(Option.some(fixture.initial))
      })
    )
  })

/** What the ProbeRunner suite needs from an adapter. */
export interface ProbeFixture {
  readonly passing: readonly [ProbeName, ProbeDeclaration]
  readonly failing: readonly [ProbeName, ProbeDeclaration]
}

/** Runs the ProbeRunner conformance tests against `layer`. */
export const probeRunnerConformance = <E>(name: string, layer: Layer.Layer<ProbeRunner, E>, fixture: ProbeFixture) =>
  it.layer(layer)(`ProbeRunner conformance (${name})`, (it) => {
    it.effect("a passing probe passes without a reason; a failing one fails with a reason", () =>
      Effect.gen(function* () {
        const runner = yield* ProbeRunner
        const pass = yield* runner.run(...fixture.passing)
        expect(pass.status).toBe("pass")
        expect(pass.failureReason).toBeNull()
        const fail = yield* runner.run(...fixture.failing)
        expect(fail.status).toBe("fail")
        expect(fail.failureReason).toEqual(expect.any(String))
      })
    )
  })
