/**
 * An agent against a CP whose database is wiped under it, and against a CP that refused one of its
 * state-changing events: the agent's own record, re-reported through the same `step()`, brings
 * the CP level (src/machine/catchUp.ts, the reducer's `catchUp`), so a wipe loses neither a
 * quarantine nor a halt, and a refused event does not part the two sides for good.
 *
 * The "wipe" starts a second CP on empty storage and points the agent's client at it (the first
 * one is left running, unreached): the agent keeps its records, the CP has none.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted, Ref, Scope, TestClock } from "effect"
import { CpCredentials, layerInProcessClient } from "../../src/agent/index.js"
import type { HostId, HostState } from "../../src/domain/index.js"
import { ControlPlaneClient, type ControlPlaneClientService, CpRejected, probeFail, Storage } from "../../src/ports/index.js"
import type { SignedSampleFleet } from "../support/signedFleet.js"
import {
  agentRecord,
  bothIn,
  cpFor,
  expectInStep,
  cpRecord,
  launch,
  OLD,
  PROBE,
  publish,
  rolloutOf,
  runFor,
  runUntil,
  simulatedHost,
  smallFleet,
  START,
  targetOf,
  tokenOf,
  withCp
} from "./support.js"

/** A CP of `fleet` on fresh memory storage, published, and the in-process client of `host` on it. */
const startCp = (fleet: SignedSampleFleet, host: HostId) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const cp = yield* Layer.buildWithScope(cpFor(fleet), scope)
    yield* Effect.provide(publish(fleet), cp)
    const credentials = CpCredentials.BearerToken({ token: Redacted.make(tokenOf(host)) })
    const client = yield* Layer.buildWithScope(layerInProcessClient({ credentials }).pipe(Layer.provide(Layer.succeedContext(cp))), scope)
    return { cp, client: Context.get(client, ControlPlaneClient) }
  })

/** A client that sends every call to whichever CP `target` holds. */
const through = (target: Ref.Ref<ControlPlaneClientService>): ControlPlaneClientService => ({
  postEvent: (envelope) => Effect.flatMap(Ref.get(target), (c) => c.postEvent(envelope)),
  heartbeat: (request) => Effect.flatMap(Ref.get(target), (c) => c.heartbeat(request)),
  pollDispatch: (wait) => Effect.flatMap(Ref.get(target), (c) => c.pollDispatch(wait)),
  rolloutManifest: (rolloutId) => Effect.flatMap(Ref.get(target), (c) => c.rolloutManifest(rolloutId)),
  fleetResolved: Effect.flatMap(Ref.get(target), (c) => c.fleetResolved)
})

/**
 * `host`'s agent, its enforce probe failing on the new closure, run until the first CP holds it
 * `until`; then that CP's database is "wiped" (a second CP on empty storage takes over) and the
 * run goes on for `afterSeconds`. Returns what the second CP and the agent hold.
 */
const failThenWipe = (fleet: SignedSampleFleet, host: HostId, until: HostState, afterSeconds: number) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(START)
    const rid = rolloutOf(fleet, host)
    const first = yield* startCp(fleet, host)
    const target = yield* Ref.make(first.client)
    const sim = yield* simulatedHost(10)
    yield* sim.control.setProbe(PROBE, probeFail("connection refused"), targetOf(fleet, host))
    const running = yield* Effect.provide(launch(fleet, host, { sim, wrapClient: () => through(target) }), first.cp)
    yield* Effect.provide(runUntil(bothIn(running.agent, rid, until), 10 * 60), first.cp)
    const before = yield* Effect.provide(Effect.flatMap(Storage, (s) => s.listQuarantines), first.cp)

    const second = yield* startCp(fleet, host)
    yield* Ref.set(target, second.client)
    yield* Effect.provide(runFor(afterSeconds), second.cp)
    const storage = Context.get(second.cp, Storage)
    const rollout = yield* storage.loadRollout(rid)
    return {
      rid,
      before,
      sim,
      agent: yield* agentRecord(running.agent, rid),
      record: yield* Effect.provide(cpRecord(rid, host), second.cp),
      rollout: Option.getOrUndefined(rollout)?.state,
      quarantines: yield* storage.listQuarantines,
      records: yield* storage.allHostRecords,
      kill: running.kill
    }
  })

describe("agent: a CP behind the agent's record is brought level", () => {
  it.effect("a wipe after a canary was rolled back: the rebuilt CP mirrors Reverted again and quarantines the closure again (issue 7)", () =>
    Effect.gen(function* () {
      const fleet = smallFleet(1)
      const host = fleet.hosts[0]!
      const run = yield* failThenWipe(fleet, host, "Reverted", 5 * 60)
      expect(run.before.map((q) => q.closureHash)).toEqual([targetOf(fleet, host)])
      expect((yield* run.sim.control.state).current).toBe(OLD)
      expect(run.record).toMatchObject({ state: "Reverted", revertedTo: OLD, currentClosureAtDispatch: OLD })
      expect(run.quarantines.map((q) => [q.channel, q.closureHash])).toEqual([[run.record?.channel, targetOf(fleet, host)]])
      expect(run.rollout).toBe("Failed")
      expect(run.agent?.state).toBe("Reverted")
      yield* run.kill
    })
  )

  // Two channels: `infra` (staged-halt) gates `web` (canary-rollback); the infra host fails.
  const two = smallFleet(2)
  const infra = two.hosts.find((h) => h.startsWith("infra"))!
  const web = two.hosts.find((h) => h.startsWith("web"))!

  it.effect("a wipe after a host failed under halt (it still runs the target): the rebuilt CP mirrors Failed, never Converged, and the halt holds", () =>
    Effect.gen(function* () {
      const run = yield* failThenWipe(two, infra, "Failed", 5 * 60)
      expect((yield* run.sim.control.state).current).toBe(targetOf(two, infra))
      expect(run.record).toMatchObject({ state: "Failed", policyApplied: "halt" })
      expect(run.rollout).toBe("Failed")
      expect(run.quarantines).toEqual([])
      // The gated channel never started.
      expect(run.records.filter((r) => r.hostname === web && r.state !== "Pending")).toEqual([])
      expect(run.agent?.state).toBe("Failed")
      yield* run.kill
    })
  )

  it.effect("a state-changing event the CP refused (a sustained failure, 409): the next heartbeat shows the CP behind, the agent re-reports it at the refused seq, and both end Failed with a contiguous log", () =>
    Effect.gen(function* () {
      const rid = rolloutOf(two, infra)
      const refused = yield* Ref.make(0)
      const refuseFirstFailed = (inner: ControlPlaneClientService): ControlPlaneClientService => ({
        ...inner,
        postEvent: (envelope) =>
          Effect.gen(function* () {
            if (envelope.event._tag === "Failed" && (yield* Ref.getAndUpdate(refused, (n) => n + 1)) === 0) {
              return yield* new CpRejected({ status: 409, reason: "test: refused once" })
            }
            return yield* inner.postEvent(envelope)
          })
      })
      const sim = yield* simulatedHost(10)
      yield* sim.control.setProbe(PROBE, probeFail("connection refused"), targetOf(two, infra))
      const { agent, kill } = yield* launch(two, infra, { sim, wrapClient: refuseFirstFailed })
      yield* runUntil(Effect.map(agentRecord(agent, rid), (r) => r?.state === "Failed"), 10 * 60)
      yield* runUntil(Effect.map(Ref.get(refused), (n) => n === 1), 60)
      expect((yield* cpRecord(rid, infra))?.state).toBe("Soaking")
      yield* runUntil(bothIn(agent, rid, "Failed"), 5 * 60)
      const kinds = yield* expectInStep(agent, rid)
      expect(kinds.filter((k) => k === "Failed")).toHaveLength(1)
      expect(yield* Ref.get(refused)).toBe(2)
      const rollout = yield* Effect.flatMap(Storage, (s) => s.loadRollout(rid))
      expect(Option.getOrUndefined(rollout)?.state).toBe("Failed")
      yield* kill
    }).pipe(withCp(two))
  )
})
