/**
 * The manifest poll loop on the TestClock (spec runtime §2.6: every 30 s, first immediate, missed
 * ticks skipped; a failing tick never stops it) and `ManifestPoll.layer` wired to the real CP
 * reducer over memory storage (spec §2.7 startup: the boot prime hands the verified set to the
 * reducer, which opens one rollout per channel).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Ref, TestClock } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { layer as controlPlaneLayer } from "../../src/cp/controlPlane.js"
import { ManifestPoll } from "../../src/cp/manifestPoll.js"
import { CpReducer } from "../../src/cp/reducer.js"
import { ManifestSource, type ManifestSourceService } from "../../src/ports/manifestSource.js"
import { Storage } from "../../src/ports/storage.js"
import { memorySource, SIGNED_AT, signedFleet } from "../support/signedFleet.js"
import { eventually, pollOver, settle } from "./support.js"

/** Wraps a source so fleet.resolved reads are counted; `hook(n)` runs before the n-th read. */
const counting = (source: ManifestSourceService, hook: (n: number) => Effect.Effect<void> = () => Effect.void) =>
  Effect.map(Ref.make(0), (reads) => ({
    reads: Ref.get(reads),
    source: {
      ...source,
      fleetResolved: Effect.zipRight(Effect.flatMap(Ref.updateAndGet(reads, (n) => n + 1), hook), source.fleetResolved)
    } satisfies ManifestSourceService
  }))

describe("ManifestPoll.run", () => {
  it.scoped("polls at once, then every 30 s; a re-signed release is offered on the next tick", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const mem = yield* memorySource(signed)
      const { source, reads } = yield* counting(mem)
      const { poll, accepted } = yield* pollOver(source)
      yield* Effect.forkScoped(ManifestPoll.run(poll, "30 seconds"))
      yield* eventually(Effect.map(accepted, (a) => a.length === 1))
      for (const f of signedFleet({ key: signed.key, ciCommit: "abcdef01" }).files) yield* mem.put(f.path, f.content)
      yield* TestClock.adjust("29 seconds")
      yield* settle
      expect(yield* reads).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* eventually(Effect.map(accepted, (a) => a.length === 2))
      expect(yield* reads).toBe(2)
      expect((yield* accepted)[1]?.rolloutArtifacts.has("web@abcdef01" as never)).toBe(true)
    })
  )

  it.scoped("a poll slower than the interval is followed by one run at once, not by the missed ticks", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { source, reads } = yield* counting(yield* memorySource(signedFleet()), (n) => (n === 2 ? Effect.sleep("95 seconds") : Effect.void))
      const { poll } = yield* pollOver(source)
      yield* Effect.forkScoped(ManifestPoll.run(poll, "30 seconds"))
      yield* eventually(Effect.map(reads, (n) => n === 1))
      yield* TestClock.adjust("30 seconds") // t=30: the second poll starts and takes 95 s
      yield* eventually(Effect.map(reads, (n) => n === 2))
      yield* TestClock.adjust("95 seconds") // t=125: it ends; ticks 60, 90 and 120 were missed
      yield* eventually(Effect.map(reads, (n) => n === 3))
      yield* settle
      expect(yield* reads).toBe(3)
      yield* TestClock.adjust("24 seconds") // t=149
      yield* settle
      expect(yield* reads).toBe(3)
      yield* TestClock.adjust("1 second") // t=150: back on the 30 s grid
      yield* eventually(Effect.map(reads, (n) => n === 4))
    })
  )

  it.scoped("a defect in one poll is logged and the next tick polls again", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const { source, reads } = yield* counting(yield* memorySource(signedFleet()), (n) => (n === 1 ? Effect.dieMessage("source bug") : Effect.void))
      const { poll, accepted } = yield* pollOver(source)
      yield* Effect.forkScoped(ManifestPoll.run(poll, "30 seconds"))
      yield* eventually(Effect.map(reads, (n) => n === 1))
      yield* settle
      expect(yield* accepted).toHaveLength(0)
      yield* TestClock.adjust("30 seconds")
      yield* eventually(Effect.map(accepted, (a) => a.length === 1))
    })
  )
})

describe("ManifestPoll.layer with the CP reducer", () => {
  it.effect("the boot prime hands the verified set to the reducer, which opens one rollout per channel; the loop resumes one interval later", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(SIGNED_AT)
      const signed = signedFleet()
      const { source, reads } = yield* counting(yield* memorySource(signed))
      const layer = ManifestPoll.layer().pipe(
        Layer.provideMerge(controlPlaneLayer({ planInterval: "15 seconds" })),
        Layer.provideMerge(layerMemory),
        Layer.provide(Layer.succeed(ManifestSource, source))
      )
      yield* Effect.gen(function* () {
        const poll = yield* ManifestPoll
        expect(Option.isSome(yield* poll.latest)).toBe(true)
        const reducer = yield* CpReducer
        yield* reducer.barrier
        expect((yield* reducer.state).manifests?.fleetHash).toBe(signed.release.fleet.fleetResolvedHash)
        const rollouts = yield* Effect.flatMap(Storage, (s) => s.listRollouts())
        expect(rollouts.map((r) => r.rolloutId).sort()).toEqual(signed.release.manifests.map((m) => m.rolloutId).sort())
        expect(yield* reads).toBe(1)
        yield* TestClock.adjust("29 seconds")
        yield* settle
        expect(yield* reads).toBe(1)
        yield* TestClock.adjust("1 second")
        yield* eventually(Effect.map(reads, (n) => n === 2))
      }).pipe(Effect.provide(layer))
    })
  )
})
