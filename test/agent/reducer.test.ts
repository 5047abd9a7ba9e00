/**
 * The agent reducer on its own (no CP): seq assignment and its floors, snapshot merging (never
 * backwards, a level snapshot in another state taken, later soak deadlines adopted), boot re-fire of a cut-short switch, policy use,
 * bringing a CP that is behind level (a dispatch past Pending, a snapshot behind in another state), and what reaches the outbound
 * queue and the worker queues.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck, Queue, Ref, TestClock } from "effect"
import { makeMemoryOutboundQueue } from "../../adapters/memory/outboundQueue.js"
import { type ActivationIntent, AgentInput, makeAgentReducer } from "../../src/agent/index.js"
import type { HostRolloutSnapshot, LocalEvent, RolloutId } from "../../src/domain/index.js"
import { toSnapshot } from "../../src/domain/index.js"
import { at, CHANNEL, HOST, pending, PRIOR, probe, ROLLOUT, T0, TARGET } from "../support/host.js"

const harness = Effect.gen(function* () {
  yield* TestClock.setTime(at(10))
  const outbound = yield* makeMemoryOutboundQueue
  const activations = yield* Queue.bounded<ActivationIntent>(16)
  const probeResets = yield* Queue.bounded<RolloutId>(16)
  const kicks = yield* Queue.unbounded<void>()
  const accepted = yield* Ref.make(0)
  const reducer = yield* makeAgentReducer({
    hostname: HOST,
    outbound,
    activations,
    probeResets,
    kick: Queue.offer(kicks, undefined),
    acceptedEvents: Ref.get(accepted)
  })
  const send = (event: LocalEvent, rolloutId: RolloutId = ROLLOUT) =>
    Effect.zipRight(reducer.offer(AgentInput.HostEvent({ rolloutId, event, dispatchedAt: T0 })), reducer.barrier)
  const input = (i: AgentInput) => Effect.zipRight(reducer.offer(i), reducer.barrier)
  const queued = Effect.map(outbound.peek(1000), (es) => es.map((e) => [e.event._tag, e.event.seq] as const))
  const record = Effect.map(reducer.state, (s) => s.records.get(ROLLOUT))
  return { reducer, outbound, activations, probeResets, kicks, accepted, send, input, queued, record }
})

const activate: LocalEvent = { _tag: "LocalActivate", currentClosureAtDispatch: PRIOR, receivedAt: at(5), targetClosure: TARGET, soakDueAt: at(600), seq: 0 }
const completed: LocalEvent = { _tag: "LocalActivationCompleted", observedCurrentClosure: TARGET, exitCode: 0, completedAt: at(20), seq: 0 }
const snapshot = (overrides: Partial<HostRolloutSnapshot>): HostRolloutSnapshot => ({ ...toSnapshot(pending()), ...overrides })

/** A harness whose record soaks under rollback-and-halt with its enforce probe failing since at(30) (seq 4). */
const failingSoak = Effect.gen(function* () {
  const h = yield* harness
  yield* h.input(AgentInput.PolicyUpdated({ channel: CHANNEL, onHealthFailure: "rollback-and-halt" }))
  yield* h.send(activate)
  yield* h.send(completed)
  yield* h.send({ _tag: "LocalProbeFailureFirst", probeName: probe("web"), mode: "enforce", firstFailedAt: at(30), seq: 0 })
  yield* h.send({ _tag: "LocalProbeResult", probeName: probe("web"), mode: "enforce", status: "fail", observedAt: at(30), failureReason: "down", subResults: null, seq: 0 })
  return h
})

describe("agent reducer", () => {
  it.scoped("a dispatch creates the record with the real hostname and the dispatch's time; each event is queued durably, then the drainer is kicked", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      const record = yield* h.record
      expect(record).toMatchObject({ hostname: HOST, channel: CHANNEL, state: "Activating", dispatchedAt: T0, lastEventSeq: 1, currentClosureAtDispatch: PRIOR })
      expect(yield* h.queued).toEqual([["DispatchAck", 1]])
      expect(yield* Queue.size(h.kicks)).toBe(1)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: ROLLOUT, target: TARGET, rollback: false }])
      yield* h.send(completed)
      expect(yield* h.queued).toEqual([["DispatchAck", 1], ["ActivationCompleted", 2]])
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.probeResets))).toEqual([ROLLOUT])
    })
  )

  it.scoped("seq never goes backwards: a rollout's seq starts above the highest seq found in the outbound queue", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.input(AgentInput.SeqFloor({ rolloutId: ROLLOUT, seq: 7 }))
      yield* h.input(AgentInput.SeqFloor({ rolloutId: ROLLOUT, seq: 3 }))
      yield* h.send(activate)
      expect(yield* h.queued).toEqual([["DispatchAck", 8]])
      expect((yield* h.record)?.lastEventSeq).toBe(8)
    })
  )

  it.scoped("events for a rollout without a record, and events step() refuses, are dropped and change nothing", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(completed)
      expect(yield* h.record).toBeUndefined()
      yield* h.send(activate)
      const before = yield* h.record
      yield* h.send({ _tag: "LocalConvergedReached", convergedAt: at(30), currentClosure: TARGET, seq: 0 })
      expect(yield* h.record).toEqual(before)
      expect(yield* h.queued).toEqual([["DispatchAck", 1]])
    })
  )

  it.scoped("a CP snapshot behind the agent's record, or level with it in the same state, is ignored; one ahead replaces it and, in Soaking, resets the probes", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.send(completed)
      const mine = (yield* h.record)!
      yield* Queue.takeAll(h.probeResets)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ state: "Activating", lastEventSeq: 1 }), boot: false }))
      yield* h.input(AgentInput.BootstrapHost({ snapshot: toSnapshot(mine), boot: false }))
      expect(yield* h.record).toEqual(mine)
      const ahead = snapshot({ state: "Soaking", lastEventSeq: 5, currentClosure: TARGET, currentClosureAtDispatch: PRIOR })
      yield* h.input(AgentInput.BootstrapHost({ snapshot: ahead, boot: false }))
      expect((yield* h.record)?.lastEventSeq).toBe(5)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.probeResets))).toEqual([ROLLOUT])
      yield* h.send({ _tag: "LocalProbeObservedFirst", probeName: probe("web"), mode: "enforce", observedAt: at(40), seq: 0 })
      expect((yield* h.queued).at(-1)).toEqual(["ProbeObservedFirst", 6])
    })
  )

  it.scoped("a CP snapshot level with the agent's record but in another state wins (the two sides numbered different histories); level in the same state it does not", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.send({ _tag: "LocalActivationStarted", startedAt: at(6), switchMethod: "switch-to-configuration", seq: 0 })
      yield* h.send({ _tag: "LocalActivationDeferred", component: "kernel", deferredAt: at(7), seq: 0 })
      expect(yield* h.record).toMatchObject({ state: "Deferred", lastEventSeq: 3 })
      // A CP rebuilt after a wipe synthesised DispatchAck, ActivationCompleted, Converged at seqs 1-3.
      const rebuilt = snapshot({ state: "Converged", lastEventSeq: 3, currentClosure: TARGET, currentClosureAtDispatch: TARGET })
      yield* h.input(AgentInput.BootstrapHost({ snapshot: rebuilt, boot: false }))
      expect(yield* h.record).toMatchObject({ state: "Converged", lastEventSeq: 3, currentClosure: TARGET })
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.probeResets))).toEqual([])
      // Same seq, same state: the agent's record (and its agent-only fields) stays as it is.
      const mine = (yield* h.record)!
      yield* h.input(AgentInput.BootstrapHost({ snapshot: { ...rebuilt, currentClosureAtDispatch: PRIOR }, boot: false }))
      expect(yield* h.record).toEqual(mine)
      // Behind, in another state: still the agent's (its newer events may not have reached the CP).
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ state: "Soaking", lastEventSeq: 2 }), boot: false }))
      expect(yield* h.record).toEqual(mine)
    })
  )

  it.scoped("a Converged the CP refused for good: the next snapshot still Soaking takes the record back (once nothing of the rollout is queued), the agent soaks to the CP's deadline and reports Converged again at the refused seq", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.send(completed)
      yield* TestClock.setTime(at(600))
      yield* h.send({ _tag: "LocalConvergedReached", convergedAt: at(600), currentClosure: TARGET, seq: 0 })
      const converged = (yield* h.record)!
      expect(converged).toMatchObject({ state: "Converged", lastEventSeq: 3 })
      yield* Queue.takeAll(h.probeResets)
      // The CP re-timed its deadline to at(900) and holds the host Soaking at seq 2.
      const cpSoaking = snapshot({ state: "Soaking", lastEventSeq: 2, soakDueAt: at(900), currentClosure: TARGET, currentClosureAtDispatch: PRIOR })
      yield* h.input(AgentInput.BootstrapHost({ snapshot: cpSoaking, boot: false }))
      expect(yield* h.record).toEqual(converged)
      yield* h.input(AgentInput.ConvergedRefused({ rolloutId: ROLLOUT, seq: 3 }))
      yield* h.input(AgentInput.BootstrapHost({ snapshot: { ...cpSoaking, state: "Converged" }, boot: false }))
      expect(yield* h.record).toEqual(converged)
      // Events of the rollout still queued (not yet sent): not yet.
      yield* h.input(AgentInput.BootstrapHost({ snapshot: cpSoaking, boot: false }))
      expect(yield* h.record).toEqual(converged)
      // The drainer delivered 1-2 and dropped the refused Converged.
      for (const seq of [1, 2, 3]) yield* h.outbound.ack(ROLLOUT, seq)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: cpSoaking, boot: false }))
      expect(yield* h.record).toMatchObject({ state: "Soaking", lastEventSeq: 2, soakDueAt: at(900), convergedAt: null })
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.probeResets))).toEqual([ROLLOUT])
      expect((yield* h.reducer.state).refusedConverged.size).toBe(0)
      yield* h.input(AgentInput.AdvanceTick())
      expect((yield* h.record)?.state).toBe("Soaking")
      yield* TestClock.setTime(at(900))
      yield* h.input(AgentInput.AdvanceTick())
      expect(yield* h.record).toMatchObject({ state: "Converged", lastEventSeq: 3, convergedAt: at(900) })
      expect(yield* h.queued).toEqual([["Converged", 3]])
    })
  )

  it.scoped("a later soak deadline from the CP is adopted even when the agent's record is ahead", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ soakDueAt: at(900), lastEventSeq: 0 }), boot: false }))
      expect((yield* h.record)?.soakDueAt).toBe(at(900))
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ soakDueAt: at(700), lastEventSeq: 0 }), boot: false }))
      expect((yield* h.record)?.soakDueAt).toBe(at(900))
    })
  )

  it.scoped("boot handshake: an Activating record's switch is fired again (it was cut short); a heartbeat snapshot of the agent's own switch is not", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: ROLLOUT, target: TARGET, rollback: false }])
      const activating = snapshot({ state: "Activating", lastEventSeq: 2, currentClosureAtDispatch: PRIOR })
      yield* h.input(AgentInput.BootstrapHost({ snapshot: activating, boot: false }))
      expect(yield* Queue.size(h.activations)).toBe(0)
      expect(yield* Queue.size(h.probeResets)).toBe(0)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: { ...activating, rolloutId: "stable@r2" as RolloutId }, boot: true }))
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: "stable@r2", target: TARGET, rollback: false }])
    })
  )

  it.scoped("a heartbeat snapshot bringing an Activating record this process never fired (no record, or Pending) fires the switch: an earlier process acked and was cut short", () =>
    Effect.gen(function* () {
      const h = yield* harness
      const activating = snapshot({ state: "Activating", lastEventSeq: 1, currentClosureAtDispatch: PRIOR })
      yield* h.input(AgentInput.BootstrapHost({ snapshot: activating, boot: false }))
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: ROLLOUT, target: TARGET, rollback: false }])
      const other = "stable@r2" as RolloutId
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ rolloutId: other, lastEventSeq: 0 }), boot: false }))
      expect(yield* Queue.size(h.activations)).toBe(0)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: { ...activating, rolloutId: other }, boot: false }))
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: other, target: TARGET, rollback: false }])
      expect((yield* h.reducer.state).records.get(other)?.state).toBe("Activating")
    })
  )

  it.scoped("the advance tick fails a host whose enforce probe failed for 120 s, with the channel's cached policy, and fires the rollback", () =>
    Effect.gen(function* () {
      const h = yield* failingSoak
      yield* Queue.takeAll(h.activations)
      yield* TestClock.setTime(at(149))
      yield* h.input(AgentInput.AdvanceTick())
      expect((yield* h.record)?.state).toBe("Soaking")
      yield* TestClock.setTime(at(150))
      yield* h.input(AgentInput.AdvanceTick())
      expect(yield* h.record).toMatchObject({ state: "Failed", policyApplied: "rollback-and-halt" })
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(h.activations))).toEqual([{ rolloutId: ROLLOUT, target: PRIOR, rollback: true }])
      expect((yield* h.queued).at(-1)).toEqual(["Failed", 5])
    })
  )

  it.scoped("a CP rebuilt after a wipe holds the soaking host Pending at seq 0: once nothing of the rollout is queued and the CP accepted nothing after the beat left, the agent re-reports its ack and completion at its own seqs and adopts the CP's later deadline; no switch is fired", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.send(completed)
      yield* h.send({ _tag: "LocalProbeObservedFirst", probeName: probe("web"), mode: "enforce", observedAt: at(40), seq: 0 })
      yield* Queue.takeAll(h.activations)
      const rebuilt = AgentInput.BootstrapHost({ snapshot: snapshot({ lastEventSeq: 0, soakDueAt: at(1200) }), boot: false, acceptedBefore: 3 })
      // Its own events are still queued (the CP may merely not have them yet): nothing re-reported.
      yield* h.input(rebuilt)
      expect(yield* h.queued).toEqual([["DispatchAck", 1], ["ActivationCompleted", 2], ["ProbeObservedFirst", 3]])
      for (const seq of [1, 2, 3]) yield* h.outbound.ack(ROLLOUT, seq)
      yield* Ref.set(h.accepted, 3)
      // A snapshot taken before the CP accepted the last of them (the beat left at 2): it may be stale.
      yield* h.input(AgentInput.BootstrapHost({ ...rebuilt, acceptedBefore: 2 }))
      expect(yield* h.queued).toEqual([])
      yield* h.input(rebuilt)
      expect(yield* h.queued).toEqual([["DispatchAck", 2], ["ActivationCompleted", 3]])
      expect(yield* h.record).toMatchObject({ state: "Soaking", lastEventSeq: 3, soakDueAt: at(1200) })
      expect(yield* Queue.size(h.activations)).toBe(0)
      const [ack] = yield* h.outbound.peek(1)
      expect(ack?.event).toEqual({ _tag: "DispatchAck", currentClosureAtDispatch: PRIOR, receivedAt: at(5), seq: 2 })
      // The re-report is queued: a further beat adds nothing.
      yield* h.input(rebuilt)
      expect((yield* h.queued).length).toBe(2)
    })
  )

  it.scoped("a snapshot behind the agent's record in another state is brought level (the CP refused the completion); level, or in the same state, it is not", () =>
    Effect.gen(function* () {
      const h = yield* harness
      yield* h.send(activate)
      yield* h.send(completed)
      for (const seq of [1, 2]) yield* h.outbound.ack(ROLLOUT, seq)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ state: "Soaking", lastEventSeq: 1 }), boot: false }))
      expect(yield* h.queued).toEqual([])
      // The CP holds the host Activating at seq 1: the completion is re-reported at seq 2.
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ state: "Activating", lastEventSeq: 1, currentClosureAtDispatch: PRIOR }), boot: false }))
      expect(yield* h.queued).toEqual([["ActivationCompleted", 2]])
      expect(yield* h.record).toMatchObject({ state: "Soaking", lastEventSeq: 2 })
    })
  )

  it.scoped("a rolled-back agent whose CP lost its record re-reports the whole path to Reverted (the CP quarantines the closure again)", () =>
    Effect.gen(function* () {
      const h = yield* failingSoak
      yield* h.send({ _tag: "LocalSustainedFailureCrossed", failedAt: at(150), sustainedDurationSecs: 120, failingProbes: ["web"], policyApplied: "rollback-and-halt", seq: 0 })
      yield* h.send({ _tag: "LocalRollbackCompleted", revertedToClosure: PRIOR, exitCode: 0, completedAt: at(160), seq: 0 })
      for (let seq = 1; seq <= 6; seq++) yield* h.outbound.ack(ROLLOUT, seq)
      yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ lastEventSeq: 0, soakDueAt: at(1200) }), boot: false }))
      expect(yield* h.queued).toEqual([["DispatchAck", 3], ["ActivationCompleted", 4], ["Failed", 5], ["RollbackComplete", 6]])
      expect(yield* h.record).toMatchObject({ state: "Reverted", lastEventSeq: 6, soakDueAt: at(600) })
    })
  )

  it.scoped.prop(
    "lastEventSeq never decreases, whatever snapshots and events arrive in whatever order",
    { steps: FastCheck.array(FastCheck.oneof(FastCheck.integer({ min: 0, max: 12 }), FastCheck.constantFrom("activate", "complete", "observe")), { maxLength: 25 }) },
    ({ steps }) =>
      Effect.gen(function* () {
        const h = yield* harness
        let last = 0
        for (const s of steps) {
          if (typeof s === "number") {
            yield* h.input(AgentInput.BootstrapHost({ snapshot: snapshot({ state: s % 2 === 0 ? "Activating" : "Soaking", lastEventSeq: s }), boot: false }))
          } else {
            yield* h.send(s === "activate" ? activate : s === "complete" ? completed : { _tag: "LocalProbeObservedFirst", probeName: probe("web"), mode: "enforce", observedAt: at(40), seq: 0 })
          }
          const seq = (yield* h.record)?.lastEventSeq ?? 0
          expect(seq).toBeGreaterThanOrEqual(last)
          last = seq
        }
        const seqs = (yield* h.outbound.peek(1000)).map((e) => e.event.seq)
        expect(new Set(seqs).size).toBe(seqs.length)
      })
  )
})
