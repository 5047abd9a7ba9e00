/**
 * Heartbeat recovery against the disruption budget: a Pending record whose host reports running
 * its target (a CP rebuilt after a database wipe) is recorded Converged even while the budget is
 * full, because that recovery never puts the host in flight; the other gates still hold it
 * (sim all faults + wipe, seed 20: the budget held the recovery back, the agent's re-report left
 * the host Soaking, and the CP had 2 hosts in flight on a budget of 1).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Option } from "effect"
import type { HostId, RolloutId, Timestamp } from "../../src/domain/index.js"
import { CpReducer, type HeartbeatReply, ReducerInput } from "../../src/cp/index.js"
import { isBudgetInFlight } from "../../src/planner/index.js"
import { Storage } from "../../src/ports/index.js"
import { fleet, manifests, T0 } from "../planner/builders.js"
import { clockAt, publish, send, withCp } from "./support.js"

const RID = "stable@r1"
const record = (host: string) =>
  Effect.flatMap(Storage, (s) => s.loadHostRecord(RID as RolloutId, host as HostId)).pipe(Effect.map(Option.getOrThrow))

/** A heartbeat from `host` reporting `closure` as running; the reply's record states. */
const heartbeat = (host: string, closure: string, seconds: number) =>
  Effect.gen(function* () {
    const reducer = yield* CpReducer
    const reply = yield* Deferred.make<HeartbeatReply, string>()
    const at = (T0 + seconds * 1000) as Timestamp
    yield* reducer.offer(ReducerInput.HeartbeatReceived({ host: host as HostId, rolloutId: null, currentClosure: closure as never, at, reply }))
    return (yield* Deferred.await(reply)).bootstrapRollouts.map((s) => `${s.state}@${s.lastEventSeq}`)
  })

describe("heartbeat recovery and the disruption budget", () => {
  it.effect("a full budget does not hold back recording a host already running its target; it stays out of flight", () =>
    Effect.gen(function* () {
      const oneWave = fleet({
        hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } },
        waves: { stable: [["h1", "h2"]] },
        budgets: [{ selector: { all: true }, maxInFlight: 1 }]
      })
      yield* publish(manifests(oneWave, { stable: "r1" }))
      yield* clockAt(30)
      const ack = yield* send("h1", RID, { _tag: "RemoteDispatchAck", currentClosureAtDispatch: "prior" as never, receivedAt: (T0 + 30_000) as Timestamp, seq: 1 })
      expect(ack._tag).toBe("Applied")
      expect((yield* record("h1")).state).toBe("Activating")
      // h2 already runs its target (it switched, soaked and converged on the storage before a
      // wipe): the CP records it Converged at once, though h1 fills the budget.
      expect(yield* heartbeat("h2", "h2-closure", 60)).toEqual(["Converged@3"])
      expect((yield* record("h2")).state).toBe("Converged")
      const records = yield* Effect.flatMap(Storage, (s) => s.hostRecordsForRollout(RID as RolloutId))
      expect(records.filter((r) => isBudgetInFlight(r.state)).map((r) => r.hostname)).toEqual(["h1"])
    }).pipe(withCp)
  )

  it.effect("the wave gate still holds the recovery of a later wave's host", () =>
    Effect.gen(function* () {
      const twoWaves = fleet({
        hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } },
        waves: { stable: [["h1"], ["h2"]] },
        budgets: [{ selector: { all: true }, maxInFlight: 1 }]
      })
      yield* publish(manifests(twoWaves, { stable: "r1" }))
      expect(yield* heartbeat("h2", "h2-closure", 60)).toEqual(["Pending@0"])
    }).pipe(withCp)
  )
})
