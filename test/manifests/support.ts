/**
 * Harness for the manifest-poll tests: a recording reducer `offer` (optionally refusing its first
 * calls, as a full queue does), a poll over a memory source, and a wait for fibers that run on
 * the TestClock.
 *
 * Invariant: the harness only records what the poll offers; every verdict comes from the poll.
 */
import { Effect, Ref } from "effect"
import { ManifestPoll, type ManifestPollConfig } from "../../src/cp/manifestPoll.js"
import type { ReducerInput } from "../../src/cp/input.js"
import type { VerifiedManifests } from "../../src/cp/manifests.js"
import { ManifestSource, type ManifestSourceService } from "../../src/ports/manifestSource.js"

/** A reducer `offer` that refuses its first `refusals` calls and records what it accepts. */
export const recordingOffer = (refusals = 0) =>
  Effect.gen(function* () {
    const calls = yield* Ref.make(0)
    const accepted = yield* Ref.make<ReadonlyArray<VerifiedManifests>>([])
    const offer = (input: ReducerInput): Effect.Effect<boolean> =>
      Effect.gen(function* () {
        const n = yield* Ref.updateAndGet(calls, (c) => c + 1)
        if (n <= refusals) return false
        if (input._tag === "ManifestSetUpdated") yield* Ref.update(accepted, (a) => [...a, input.manifests])
        return true
      })
    return { offer, calls: Ref.get(calls), accepted: Ref.get(accepted) }
  })

/** A poll over `source` whose offers are recorded. */
export const pollOver = (source: ManifestSourceService, config: ManifestPollConfig = {}, refusals = 0) =>
  Effect.gen(function* () {
    const recorder = yield* recordingOffer(refusals)
    const poll = yield* ManifestPoll.make(recorder.offer, config).pipe(Effect.provideService(ManifestSource, source))
    return { poll, ...recorder }
  })

/** One turn of Node's event loop (lets sockets progress while the TestClock stands still). */
const eventLoopTurn: Effect.Effect<void> = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Waits until `check` holds, yielding to other fibers and to Node's event loop between tries (for
 * fibers woken by TestClock.adjust, and for sockets); dies after many tries.
 */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, tries = 10_000): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    for (let i = 0; i < tries; i++) {
      if (yield* check) return
      yield* Effect.yieldNow()
      yield* eventLoopTurn
    }
    return yield* Effect.dieMessage("eventually: condition never held")
  })

/** Lets woken fibers (and sockets) run for a while, so a test can check that nothing else started. */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 50; i++) {
    yield* Effect.yieldNow()
    yield* eventLoopTurn
  }
})
