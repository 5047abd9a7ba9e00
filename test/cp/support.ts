/**
 * Harness for control-plane tests: the CP core over in-memory storage, fed verified manifests
 * built from the planner test builders (unsigned: the reducer trusts what ManifestPoll verified).
 *
 * Invariant: the harness only offers inputs and reads storage; all decisions are the reducer's.
 */
import { Deferred, Effect, Layer, TestClock } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import type { HostId, RemoteEvent, RolloutId, Timestamp } from "../../src/domain/index.js"
import { CpReducer, HostEventOutcome, layer as controlPlaneLayer, ReducerInput, type VerifiedManifests } from "../../src/cp/index.js"
import type { ManifestSet } from "../../src/planner/index.js"
import { HASH, T0 } from "../planner/builders.js"

/** The CP core on in-memory storage, with a 15 s plan tick. */
export const cpLayer = (queueCapacity?: number) =>
  controlPlaneLayer({ planInterval: "15 seconds", ...(queueCapacity === undefined ? {} : { queueCapacity }) }).pipe(
    Layer.provideMerge(layerMemory)
  )

/**
 * Runs `body` against a fresh CP core, with the TestClock first set to T0. The clock must be set
 * before the layer starts: moving a TestClock far forward replays every periodic tick on the way.
 */
export const withCp = <A, E, R>(body: Effect.Effect<A, E, R>, queueCapacity?: number) =>
  Effect.zipRight(TestClock.setTime(T0), Effect.provide(body, cpLayer(queueCapacity)))

/** Wraps a planner manifest set as what ManifestPoll would hand over. */
export const verified = (set: ManifestSet): VerifiedManifests => ({ set, fleetHash: HASH, signedAt: T0, rolloutArtifacts: new Map() })

/** Sets the TestClock to T0 + seconds. */
export const clockAt = (seconds: number) => TestClock.setTime(T0 + seconds * 1000)

/** Offers manifests and waits until the reducer has planned with them. */
export const publish = (set: ManifestSet) =>
  Effect.gen(function* () {
    const reducer = yield* CpReducer
    yield* reducer.offer(ReducerInput.ManifestSetUpdated({ manifests: verified(set) }))
    yield* reducer.barrier
  })

/** Runs one plan tick now and waits for it. */
export const tick = Effect.gen(function* () {
  const reducer = yield* CpReducer
  yield* reducer.offer(ReducerInput.PlanTick())
  yield* reducer.barrier
})

/** Offers a host event and waits for its outcome (as the events route does). */
export const send = (host: string, rolloutId: string, event: RemoteEvent) =>
  Effect.gen(function* () {
    const reducer = yield* CpReducer
    const reply = yield* Deferred.make<HostEventOutcome>()
    const accepted = yield* reducer.offer(ReducerInput.HostEvent({ host: host as HostId, rolloutId: rolloutId as RolloutId, event, reply }))
    if (!accepted) return HostEventOutcome.Failed({ reason: "queue full" })
    return yield* Deferred.await(reply)
  })

/** The agent-side events of a happy path for a host whose record has `lastEventSeq = from`. */
export const happyEvents = (target: string, at: Timestamp, soakDueAt: Timestamp, from = 0): ReadonlyArray<RemoteEvent> => [
  { _tag: "RemoteDispatchAck", currentClosureAtDispatch: "prior" as never, receivedAt: at, seq: from + 1 },
  { _tag: "RemoteActivationCompleted", observedCurrentClosure: target as never, exitCode: 0, completedAt: at, seq: from + 2 },
  { _tag: "RemoteConverged", currentClosure: target as never, convergedAt: (soakDueAt > at ? soakDueAt : at) as Timestamp, seq: from + 3 }
]
