/**
 * The EventLog conformance suite, run per adapter with `it.layer`.
 *
 * Invariant: tests read back only their own fresh rollouts and hosts, and assert order and
 * idempotence through the port alone.
 */
import { expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { StorageError } from "../../src/ports/errors.js"
import { EventLog } from "../../src/ports/eventLog.js"
import type { Storage } from "../../src/ports/storage.js"
import { agentEntry, at, entry, freshHost, openRollout } from "./fixtures.js"

/** Runs the EventLog conformance tests against `layer`. */
export const eventLogConformance = (name: string, layer: Layer.Layer<Storage | EventLog, StorageError>) =>
  it.layer(layer)(`EventLog conformance (${name})`, (it) => {
    it.effect("appended entries read back by rollout, host and kind in seq order, payloads intact", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const host = freshHost()
        const payload = { action: "OpenRollout", hosts: ["a", "b"], nested: { ok: true, n: 1.5, none: null }, text: "naïve ✓" }
        const entries = [
          entry({ kind: "rollout_event", rolloutId, at: at(1), payload: { kind: "RolloutOpened" } }),
          agentEntry(host, rolloutId, 1, at(2)),
          entry({ kind: "plan_action", rolloutId, at: at(3), payload }),
          entry({ kind: "gate_decision", rolloutId, hostname: host, at: at(4), payload: { gate: "quarantine" } })
        ]
        const seqs = (yield* log.appendBatch(entries)).map(Option.getOrThrow)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
        expect(new Set(seqs).size).toBe(4)
        const byRollout = yield* log.byRollout(rolloutId)
        expect(byRollout).toEqual(entries.map((e, i) => ({ seq: seqs[i], ...e })))
        expect((yield* log.byHost(host)).map((e) => e.seq)).toEqual([seqs[1], seqs[3]])
        const gates = yield* log.byKind("gate_decision", { afterSeq: (seqs[3] ?? 0) - 1 })
        expect(gates.map((e) => e.seq)).toEqual([seqs[3]])
        expect(yield* log.lastSeq).toBeGreaterThanOrEqual(seqs[3] ?? Infinity)
      })
    )

    it.effect("reads page with afterSeq and limit", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const seqs = (yield* log.appendBatch(Array.from({ length: 10 }, (_, i) => entry({ rolloutId, at: at(i) })))).map(Option.getOrThrow)
        expect((yield* log.byRollout(rolloutId, { limit: 3 })).map((e) => e.seq)).toEqual(seqs.slice(0, 3))
        expect((yield* log.byRollout(rolloutId, { afterSeq: seqs[3] ?? 0, limit: 4 })).map((e) => e.seq)).toEqual(seqs.slice(4, 8))
        expect(yield* log.byRollout(rolloutId, { limit: 0 })).toEqual([])
      })
    )

    it.effect("seqs keep growing across appends", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const first = Option.getOrThrow(yield* log.append(entry()))
        const second = Option.getOrThrow(yield* log.append(entry()))
        expect(second).toBeGreaterThan(first)
        expect(yield* log.lastSeq).toBeGreaterThanOrEqual(second)
      })
    )

    it.effect("an agent event is stored once per (host, rollout, seq); re-sends are skipped", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const other = yield* openRollout()
        const host = freshHost()
        expect(yield* log.hasAgentEvent({ hostname: host, rolloutId, seq: 1 })).toBe(false)
        expect(Option.isSome(yield* log.append(agentEntry(host, rolloutId, 1)))).toBe(true)
        expect(yield* log.hasAgentEvent({ hostname: host, rolloutId, seq: 1 })).toBe(true)
        expect(yield* log.append(agentEntry(host, rolloutId, 1))).toEqual(Option.none())
        // The same seq on another rollout or host is a different event.
        expect(Option.isSome(yield* log.append(agentEntry(host, other, 1)))).toBe(true)
        expect(Option.isSome(yield* log.append(agentEntry(freshHost(), rolloutId, 1)))).toBe(true)
        const batch = yield* log.appendBatch([agentEntry(host, rolloutId, 2), agentEntry(host, rolloutId, 1), agentEntry(host, rolloutId, 2)])
        expect(batch.map(Option.isSome)).toEqual([true, false, false])
        expect((yield* log.byHost(host)).filter((e) => e.rolloutId === rolloutId).map((e) => e.agentSeq)).toEqual([1, 2])
      })
    )

    it.effect("entries of other kinds are never deduplicated", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const host = freshHost()
        const same = entry({ kind: "effect", rolloutId, hostname: host, agentSeq: 1 })
        const results = yield* log.appendBatch([same, same, same])
        expect(results.every(Option.isSome)).toBe(true)
        expect((yield* log.byRollout(rolloutId)).length).toBe(3)
      })
    )

    it.effect("a batch with a payload that is not JSON fails with Encode and writes nothing", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const before = yield* log.lastSeq
        const error = yield* Effect.flip(log.appendBatch([entry({ rolloutId }), entry({ rolloutId, payload: { big: BigInt(1) } })]))
        expect(error._tag).toBe("StorageError")
        expect(error.reason).toBe("Encode")
        expect(error.table).toBe("event_log")
        expect(yield* log.byRollout(rolloutId)).toEqual([])
        expect(yield* log.lastSeq).toBe(before)
      })
    )

    it.effect("a large batch (1000 entries) is appended in order", () =>
      Effect.gen(function* () {
        const log = yield* EventLog
        const rolloutId = yield* openRollout()
        const host = freshHost()
        const results = yield* log.appendBatch(Array.from({ length: 1000 }, (_, i) => agentEntry(host, rolloutId, i + 1)))
        const seqs = results.map(Option.getOrThrow)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
        expect((yield* log.byRollout(rolloutId)).map((e) => e.agentSeq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      })
    )
  })
