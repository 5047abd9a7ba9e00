/**
 * The memory adapters: every port's conformance suite, plus the simulated host's own behaviour
 * (scripted failure, deferral and reboot, activation time on the TestClock).
 */
import { expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { layerMemory, layerMemoryOutboundQueue, layerSimulatedHost, SimulatedActivation, SimulatedHost } from "../../adapters/memory/index.js"
import type { ClosureHash, ProbeName } from "../../src/domain/index.js"
import { ActivationOutcome, Activator, RealiseFailed, SwitchFailed } from "../../src/ports/activator.js"
import { probeFail, ProbeRunner } from "../../src/ports/probeRunner.js"
import { eventLogConformance } from "../ports/eventLogConformance.js"
import { activatorConformance, probeRunnerConformance } from "../ports/hostConformance.js"
import { outboundQueueConformance } from "../ports/outboundQueueConformance.js"
import { storageConformance } from "../ports/storageConformance.js"

const A = "closure-a" as ClosureHash
const B = "closure-b" as ClosureHash
const http = { kind: "http", url: "http://127.0.0.1/health", expectStatus: 200, timeoutSecs: 10, mode: "enforce", intervalSeconds: 30, runOnce: false } as const

storageConformance("memory", layerMemory)
eventLogConformance("memory", layerMemory)
outboundQueueConformance("memory", layerMemoryOutboundQueue)
activatorConformance("memory", layerSimulatedHost({ initialClosure: A }), { initial: A, target: B })
probeRunnerConformance(
  "memory",
  Layer.effectDiscard(Effect.flatMap(SimulatedHost, (host) => host.setProbe("broken" as ProbeName, probeFail("connection refused")))).pipe(
    Layer.provideMerge(layerSimulatedHost({ initialClosure: A }))
  ),
  { passing: ["healthy" as ProbeName, http], failing: ["broken" as ProbeName, http] }
)

it.effect("simulated host: a switch takes its activation time on the Clock", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const fiber = yield* Effect.fork(activator.fireSwitch(B))
    yield* TestClock.adjust("29 seconds")
    expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
    expect(yield* activator.currentClosure).toEqual(Option.some(A))
    yield* TestClock.adjust("1 second")
    expect(yield* Fiber.join(fiber)).toEqual(ActivationOutcome.FiredAndPolled({ observed: B }))
    expect(yield* activator.currentClosure).toEqual(Option.some(B))
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A, activationTime: "30 seconds" })))
)

it.effect("simulated host: a deferred switch sets the profile and takes effect at the next reboot", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const host = yield* SimulatedHost
    yield* host.script(B, SimulatedActivation.Defer({ component: "kernel" }))
    expect(yield* activator.detectDeferral(B)).toEqual(Option.some("kernel"))
    expect(yield* activator.fireSwitch(B)).toEqual(ActivationOutcome.DeferredPendingReboot({ component: "kernel" }))
    expect(yield* activator.currentClosure).toEqual(Option.some(A))
    yield* host.reboot
    expect(yield* activator.currentClosure).toEqual(Option.some(B))
    expect((yield* host.state).reboots).toBe(1)
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A })))
)

it.effect("simulated host: once the deferred closure runs, switching to it again does not defer (nothing differs from the running system)", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const host = yield* SimulatedHost
    yield* host.script(B, SimulatedActivation.Defer({ component: "kernel" }))
    expect(yield* activator.fireSwitch(B)).toEqual(ActivationOutcome.DeferredPendingReboot({ component: "kernel" }))
    yield* host.reboot
    expect(yield* activator.detectDeferral(B)).toEqual(Option.none())
    expect(yield* activator.fireSwitch(B)).toEqual(ActivationOutcome.FiredAndPolled({ observed: B }))
    expect(yield* activator.currentClosure).toEqual(Option.some(B))
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A })))
)

it.effect("simulated host: a scripted failure fails the switch and changes nothing", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const host = yield* SimulatedHost
    yield* host.script(B, SimulatedActivation.Fail({ failure: new RealiseFailed({ reason: "lock held" }) }))
    const error = yield* Effect.flip(activator.fireSwitch(B))
    expect(error).toEqual(new RealiseFailed({ reason: "lock held" }))
    const state = yield* host.state
    expect([state.current, state.generations, state.switches]).toEqual([A, [A], 1])
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A })))
)

it.effect("simulated host: rollback needs a previous generation, and can be scripted to fail", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const host = yield* SimulatedHost
    expect(yield* Effect.flip(activator.fireRollback)).toEqual(new SwitchFailed({ phase: "nix-env-rollback", exitCode: 1 }))
    yield* activator.fireSwitch(B)
    yield* host.scriptRollback(new SwitchFailed({ phase: "rollback-poll-timeout", exitCode: 3 }))
    expect((yield* Effect.flip(activator.fireRollback))._tag).toBe("SwitchFailed")
    expect(yield* activator.currentClosure).toEqual(Option.some(B))
    yield* host.scriptRollback(null)
    expect(yield* activator.fireRollback).toBe(A)
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A })))
)

it.effect("simulated host: a probe outcome can depend on the running closure", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    const runner = yield* ProbeRunner
    const host = yield* SimulatedHost
    const name = "http" as ProbeName
    yield* host.setProbe(name, probeFail("503 on the new closure"), B)
    expect((yield* runner.run(name, http)).status).toBe("pass")
    yield* activator.fireSwitch(B)
    expect(yield* runner.run(name, http)).toEqual(probeFail("503 on the new closure"))
  }).pipe(Effect.provide(layerSimulatedHost({ initialClosure: A })))
)

it.effect("simulated host: unreadable current system reads as None", () =>
  Effect.gen(function* () {
    const activator = yield* Activator
    expect(yield* activator.currentClosure).toEqual(Option.none())
  }).pipe(Effect.provide(layerSimulatedHost()))
)
