/**
 * The OutboundQueue conformance suite, run per adapter with `it.layer`.
 *
 * Invariant: each test starts by draining the shared queue, so FIFO assertions see only the
 * test's own entries.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { StorageError } from "../../src/ports/errors.js"
import { OutboundQueue } from "../../src/ports/outboundQueue.js"
import { at, closure, freshRollout, queued } from "./fixtures.js"

const drain = Effect.gen(function* () {
  const queue = yield* OutboundQueue
  for (const e of yield* queue.peek(10_000)) yield* queue.ack(e.rolloutId, e.event.seq)
})

/** Runs the OutboundQueue conformance tests against `layer`. */
export const outboundQueueConformance = (name: string, layer: Layer.Layer<OutboundQueue, StorageError>) =>
  it.layer(layer)(`OutboundQueue conformance (${name})`, (it) => {
    it.effect("entries come back in enqueue order, unchanged", () =>
      Effect.gen(function* () {
        yield* drain
        const queue = yield* OutboundQueue
        const [r1, r2] = [freshRollout(), freshRollout()]
        const entries = [queued(r1, 3), queued(r2, 1), queued(r1, 4), { ...queued(r2, 2), event: { _tag: "Converged" as const, convergedAt: at(9), currentClosure: closure("c"), seq: 2 } }]
        for (const e of entries) expect(yield* queue.enqueue(e)).toBe(true)
        expect(yield* queue.size).toBe(4)
        expect(yield* queue.peek(10)).toEqual(entries)
        expect(yield* queue.peek(2)).toEqual(entries.slice(0, 2))
      })
    )

    it.effect("entries are keyed by (rollout, seq): the same seq on two rollouts is two entries, a re-enqueue keeps the first", () =>
      Effect.gen(function* () {
        yield* drain
        const queue = yield* OutboundQueue
        const [r1, r2] = [freshRollout(), freshRollout()]
        const first = queued(r1, 7)
        expect(yield* queue.enqueue(first)).toBe(true)
        expect(yield* queue.enqueue(queued(r2, 7))).toBe(true)
        expect(yield* queue.enqueue({ ...queued(r1, 7), createdAt: at(999) })).toBe(false)
        const peeked = yield* queue.peek(10)
        expect(peeked.length).toBe(2)
        expect(peeked[0]).toEqual(first)
      })
    )

    it.effect("ack removes exactly the acknowledged entry; acking a missing entry is fine", () =>
      Effect.gen(function* () {
        yield* drain
        const queue = yield* OutboundQueue
        const rolloutId = freshRollout()
        const entries = [1, 2, 3].map((seq) => queued(rolloutId, seq))
        for (const e of entries) yield* queue.enqueue(e)
        yield* queue.ack(rolloutId, 2)
        yield* queue.ack(rolloutId, 2)
        yield* queue.ack(freshRollout(), 1)
        expect(yield* queue.peek(10)).toEqual([entries[0], entries[2]])
        expect(yield* queue.size).toBe(2)
        expect(yield* queue.discardCorrupt).toBe(0)
      })
    )
  })
