/**
 * The CP reducer over in-memory storage: opening rollouts, wave-by-wave dispatch, mirroring agent
 * events through `step()`, terminal detection, halting on failure with quarantine, heartbeat
 * recovery after a database wipe, an agent's re-reported path after one, and idempotent duplicates.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { HostId, HostRolloutState, RemoteEvent, RolloutId, Timestamp } from "../../src/domain/index.js"
import { toRemoteEvent } from "../../src/domain/index.js"
import { catchUpEvents } from "../../src/machine/index.js"
import { CpReducer, EventLogWriter, HostEventOutcome, ReducerInput } from "../../src/cp/index.js"
import { EventLog, Storage } from "../../src/ports/index.js"
import { fleet, manifests, T0 } from "../planner/builders.js"
import { clockAt, happyEvents, publish, send, tick, withCp } from "./support.js"
import { Deferred } from "effect"

const twoWaves = fleet({ hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } }, waves: { stable: [["h1"], ["h2"]] } })
const RID = "stable@r1"

const record = (host: string) =>
  Effect.flatMap(Storage, (s) => s.loadHostRecord(RID as RolloutId, host as HostId)).pipe(Effect.map(Option.getOrThrow))
const dispatches = (host: string) => Effect.flatMap(Storage, (s) => s.dispatchesForHost(host as HostId))
const rollout = Effect.flatMap(Storage, (s) => s.loadRollout(RID as RolloutId)).pipe(Effect.map(Option.getOrThrow))

/** Sends the full happy path for a host and checks every event was applied. */
const converge = (host: string) =>
  Effect.gen(function* () {
    const r: HostRolloutState = yield* record(host)
    const now = (T0 + 60_000) as Timestamp
    for (const e of happyEvents(r.targetClosure, now, r.soakDueAt as Timestamp, r.lastEventSeq)) {
      const outcome = yield* send(host, RID, e)
      expect(outcome._tag, `${host} ${e._tag}`).toBe("Applied")
    }
  })

describe("CP reducer", () => {
  it.effect("opens the rollout, dispatches wave 0, promotes wave 1 once wave 0 converged, then ends Terminal", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      expect((yield* rollout).state).toBe("Active")
      expect((yield* record("h1")).state).toBe("Pending")
      expect((yield* dispatches("h1")).map((d) => d.rolloutId)).toEqual([RID])
      expect(yield* dispatches("h2")).toEqual([])

      yield* converge("h1")
      expect((yield* record("h1")).state).toBe("Converged")
      yield* tick
      expect((yield* rollout).currentWave).toBe(1)
      expect((yield* dispatches("h2")).length).toBe(1)

      yield* converge("h2")
      const done = yield* rollout
      expect(done.state).toBe("Terminal")
      expect(done.terminalAt).not.toBeNull()
    }).pipe(withCp)
  )

  it.effect("a later wave gets its full soak window from its own dispatch, not from the rollout's opening (spec §9.11)", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      // 50 minutes in: the deadline fixed at opening (60-minute soak) is only 10 minutes ahead.
      yield* clockAt(3000)
      yield* converge("h1")
      yield* tick
      const [first] = yield* dispatches("h2")
      // h2 is fleet wave 1; policy `p` has one wave only, so its soak is the 60-minute default (spec A11).
      expect(first?.soakDueAt).toBe(T0 + 3000_000 + 60 * 60_000)
      expect((yield* record("h2")).soakDueAt).toBe(first?.soakDueAt)
      // Re-queued by the next ticks while nobody has taken it: the restarted deadline stands.
      yield* clockAt(3060)
      yield* tick
      const [again] = yield* dispatches("h2")
      expect(again?.soakDueAt).toBe(first?.soakDueAt)
      expect((yield* record("h2")).soakDueAt).toBe(first?.soakDueAt)
    }).pipe(withCp)
  )

  it.effect("a dispatch nobody took through its whole window gets a new window when it is queued again", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      yield* converge("h1")
      yield* tick
      const [first] = yield* dispatches("h2")
      yield* clockAt(7200)
      yield* tick
      const [later] = yield* dispatches("h2")
      const due = (yield* record("h2")).soakDueAt ?? 0
      expect(later?.soakDueAt).toBe(due)
      expect(due).toBeGreaterThan(first?.soakDueAt ?? Infinity)
      expect(due).toBeGreaterThan(T0 + 7200_000)
    }).pipe(withCp)
  )

  it.effect("a duplicate event is idempotent: Duplicate outcome, one log entry, state unchanged", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const [ack] = happyEvents("h1-closure", T0, T0)
      expect((yield* send("h1", RID, ack as RemoteEvent))._tag).toBe("Applied")
      const again = yield* send("h1", RID, ack as RemoteEvent)
      expect(again).toEqual(HostEventOutcome.Duplicate({ lastEventSeq: 1 }))
      const log = yield* Effect.flatMap(EventLog, (l) => l.byHost("h1" as HostId))
      expect(log.filter((e) => e.kind === "agent_event")).toHaveLength(1)
    }).pipe(withCp)
  )

  it.effect("an event for an unknown rollout is refused and changes nothing", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const writer = yield* EventLogWriter
      yield* writer.flush
      const before = yield* Effect.flatMap(EventLog, (l) => l.lastSeq)
      const outcome = yield* send("h1", "stable@zzz", happyEvents("x", T0, T0)[0] as RemoteEvent)
      expect(outcome._tag).toBe("UnknownRecord")
      yield* writer.flush
      expect(yield* Effect.flatMap(EventLog, (l) => l.lastSeq)).toBe(before)
    }).pipe(withCp)
  )

  it.effect("an illegal event is Rejected with the typed TransitionError", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const converged = happyEvents("h1-closure", T0, T0)[2] as RemoteEvent
      const outcome = yield* send("h1", RID, converged)
      expect(outcome._tag === "Rejected" ? outcome.error._tag : outcome._tag).toBe("IllegalForState")
      expect((yield* record("h1")).state).toBe("Pending")
    }).pipe(withCp)
  )

  it.effect("a failing canary under rollback-and-halt: rollout Failed, closure quarantined, wave 1 never dispatched", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const at = (T0 + 30_000) as Timestamp
      const events: ReadonlyArray<RemoteEvent> = [
        { _tag: "RemoteDispatchAck", currentClosureAtDispatch: "prior" as never, receivedAt: at, seq: 1 },
        { _tag: "RemoteActivationCompleted", observedCurrentClosure: "h1-closure" as never, exitCode: 0, completedAt: at, seq: 2 },
        { _tag: "RemoteFailed", failedAt: at, sustainedDurationSecs: 120, failingProbes: ["http"], policyApplied: "rollback-and-halt", seq: 3 },
        { _tag: "RemoteRollbackComplete", revertedToClosure: "prior" as never, exitCode: 0, completedAt: at, seq: 4 }
      ]
      for (const e of events) expect((yield* send("h1", RID, e))._tag).toBe("Applied")
      expect((yield* record("h1")).state).toBe("Reverted")
      expect((yield* rollout).state).toBe("Failed")
      const reducer = yield* CpReducer
      expect((yield* reducer.state).quarantines.get("stable" as never)?.has("h1-closure" as never)).toBe(true)
      expect((yield* Effect.flatMap(Storage, (s) => s.listQuarantines)).map((q) => q.closureHash)).toEqual(["h1-closure"])
      yield* clockAt(3600)
      yield* tick
      expect(yield* dispatches("h2")).toEqual([])
      expect((yield* rollout).currentWave).toBe(0)
    }).pipe(withCp)
  )

  it.effect("a CP on empty storage (a wipe) takes a rolled-back agent's re-reported path (machine/catchUp) at the agent's seqs: Reverted, quarantined again in storage and in the gate's set, wave 1 never dispatched", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const pendingH1 = yield* record("h1")
      const at = (T0 + 30_000) as Timestamp
      // What the agent holds: Reverted at seq 12 (its probe results took seqs 3-9).
      const agent: HostRolloutState = {
        ...pendingH1,
        state: "Reverted",
        currentClosureAtDispatch: "prior" as never,
        currentClosure: "prior" as never,
        dispatchAckedAt: at,
        activationCompletedAt: at,
        probeFailureFirstAt: at,
        failedAt: (at + 120_000) as Timestamp,
        policyApplied: "rollback-and-halt",
        revertedAt: (at + 130_000) as Timestamp,
        revertedTo: "prior" as never,
        lastEventSeq: 12
      }
      const events = catchUpEvents(pendingH1, agent).map(toRemoteEvent)
      expect(events.map((e) => `${e._tag}@${e.seq}`)).toEqual(["RemoteDispatchAck@9", "RemoteActivationCompleted@10", "RemoteFailed@11", "RemoteRollbackComplete@12"])
      for (const e of events) expect((yield* send("h1", RID, e))._tag).toBe("Applied")
      expect(yield* record("h1")).toMatchObject({ state: "Reverted", lastEventSeq: 12, revertedTo: "prior" })
      expect((yield* rollout).state).toBe("Failed")
      expect((yield* (yield* CpReducer).state).quarantines.get("stable" as never)?.has("h1-closure" as never)).toBe(true)
      expect((yield* Effect.flatMap(Storage, (s) => s.listQuarantines)).map((q) => q.closureHash)).toEqual(["h1-closure"])
      yield* clockAt(3600)
      yield* tick
      expect(yield* dispatches("h2")).toEqual([])
    }).pipe(withCp)
  )

  it.effect("the plan tick runs on its own every 15 s (TestClock)", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      const reducer = yield* CpReducer
      const first = (yield* reducer.state).lastPlanAt
      yield* clockAt(16)
      yield* reducer.barrier
      expect((yield* reducer.state).lastPlanAt).toBeGreaterThan(first ?? 0)
    }).pipe(withCp)
  )

  it.effect("heartbeat recovery: after a database wipe, a heartbeat at the target closure brings a Pending host to Converged", () =>
    Effect.gen(function* () {
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      yield* clockAt(600)
      const reducer = yield* CpReducer
      const reply = yield* Deferred.make<import("../../src/cp/index.js").HeartbeatReply, string>()
      yield* reducer.offer(
        ReducerInput.HeartbeatReceived({ host: "h1" as HostId, rolloutId: null, currentClosure: "h1-closure" as never, at: (T0 + 600_000) as Timestamp, reply })
      )
      const answer = yield* Deferred.await(reply)
      expect((yield* record("h1")).state).toBe("Converged")
      // The reply reports what the synthesis settled (the agent may hold a stale copy of the record).
      expect(answer.bootstrapRollouts.map((s) => [s.state, s.lastEventSeq])).toEqual([["Converged", 3]])
      const h2 = yield* Deferred.make<import("../../src/cp/index.js").HeartbeatReply, string>()
      yield* reducer.offer(
        ReducerInput.HeartbeatReceived({ host: "h2" as HostId, rolloutId: null, currentClosure: "h2-closure" as never, at: (T0 + 600_000) as Timestamp, reply: h2 })
      )
      const h2answer = yield* Deferred.await(h2)
      // h2 is in wave 1 and wave 0 was only just done: the wave gate still holds, so no synthesis.
      expect(h2answer.bootstrapRollouts.map((s) => s.state)).toEqual(["Pending"])
      // The next plan tick releases wave 1 and replays h2's reported closure: no second heartbeat needed.
      yield* tick
      expect((yield* record("h2")).state).toBe("Converged")
      expect((yield* rollout).state).toBe("Terminal")
    }).pipe(withCp)
  )

  it.effect("a heartbeat reply carries the host's active records and its current rollout's settled one, never older settled ones", () =>
    Effect.gen(function* () {
      const beat = (host: string) =>
        Effect.gen(function* () {
          const reducer = yield* CpReducer
          const reply = yield* Deferred.make<import("../../src/cp/index.js").HeartbeatReply, string>()
          yield* reducer.offer(ReducerInput.HeartbeatReceived({ host: host as HostId, rolloutId: null, currentClosure: null, at: T0 as Timestamp, reply }))
          return (yield* Deferred.await(reply)).bootstrapRollouts.map((s) => `${s.rolloutId}=${s.state}@${s.lastEventSeq}`)
        })
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      expect(yield* beat("h1")).toEqual(["stable@r1=Pending@0"])
      yield* converge("h1")
      // Settled by the agent's own events: still reported, as the CP holds it.
      expect(yield* beat("h1")).toEqual(["stable@r1=Converged@3"])
      expect(yield* beat("nobody")).toEqual([])
      // A new release: r2 is current, r1's settled record is no longer reported.
      yield* publish(manifests(twoWaves, { stable: "r2" }))
      expect(yield* beat("h1")).toEqual(["stable@r2=Pending@0"])
    }).pipe(withCp)
  )
})
