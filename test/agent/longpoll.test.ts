/**
 * The dispatch long-poll's handling of one dispatch: what it hands the reducer (`LocalActivate`
 * dated with the dispatch's `enqueuedAt`, the reference's `received_at`, so the ack names the
 * dispatch it answers however long verification waited), what it ignores, and when it asks for a
 * heartbeat instead.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref, TestClock } from "effect"
import { makeSimulatedHost } from "../../adapters/memory/simulatedHost.js"
import { type AgentInput, type AgentState, type PolicySource, resolveAgentConfig } from "../../src/agent/index.js"
import { handleDispatch, type LongPollDeps } from "../../src/agent/workers/longpoll.js"
import type { HostRolloutState } from "../../src/domain/index.js"
import { CpUnavailable, type ControlPlaneClientService, type DispatchEntry } from "../../src/ports/index.js"
import { signedFleet } from "../support/signedFleet.js"
import { at, HOST, pending, PRIOR, ROLLOUT, TARGET } from "../support/host.js"

const unused = Effect.fail(new CpUnavailable({ reason: "test: not used", retryAfterSeconds: null }))
const client: ControlPlaneClientService = {
  postEvent: () => unused,
  heartbeat: () => unused,
  pollDispatch: () => unused,
  rolloutManifest: () => unused,
  fleetResolved: unused
}

const trust = signedFleet({ channels: 1, hostsPerChannel: 1, waves: 1 }).trust
const entry: DispatchEntry = { hostname: HOST, rolloutId: ROLLOUT, targetClosure: TARGET, soakDueAt: at(900), enqueuedAt: at(60) }

/** handleDispatch over a simulated host at PRIOR, a policy source whose verification takes `verifySeconds`. */
const harness = (verifySeconds: number, records: ReadonlyMap<string, HostRolloutState> = new Map()) =>
  Effect.gen(function* () {
    const sim = yield* makeSimulatedHost({ initialClosure: PRIOR })
    const offered = yield* Ref.make<ReadonlyArray<AgentInput>>([])
    const beats = yield* Ref.make(0)
    const policies: PolicySource = {
      refresh: Effect.die("test: not used"),
      forDispatch: () => Effect.as(Effect.sleep(`${verifySeconds} seconds`), "halt" as const)
    }
    const state: AgentState = { records: records as AgentState["records"], policies: new Map(), seqFloors: new Map(), refusedConverged: new Map() }
    const deps: LongPollDeps = {
      config: resolveAgentConfig({ hostname: HOST, trust }),
      client,
      activator: sim.activator,
      policies,
      state: Effect.succeed(state),
      offer: (input) => Ref.update(offered, (all) => [...all, input]),
      requestBeat: Ref.update(beats, (n) => n + 1)
    }
    return { run: (e: DispatchEntry) => handleDispatch(deps, e), offered: Ref.get(offered), beats: Ref.get(beats) }
  })

describe("agent dispatch long-poll", () => {
  it.effect("a verified dispatch becomes a LocalActivate dated with the dispatch's enqueuedAt, even when verification waited minutes for the CP", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at(61))
      const h = yield* harness(180)
      const fiber = yield* Effect.fork(h.run(entry))
      yield* TestClock.adjust("180 seconds")
      yield* fiber.await
      expect(yield* h.offered).toEqual([
        expect.objectContaining({
          _tag: "HostEvent",
          rolloutId: ROLLOUT,
          dispatchedAt: at(60),
          event: { _tag: "LocalActivate", currentClosureAtDispatch: PRIOR, receivedAt: at(60), targetClosure: TARGET, soakDueAt: at(900), seq: 0 }
        })
      ])
    })
  )

  it.effect("a dispatch for another host, or of a rollout this agent already acked, is not acted on; the latter asks for a heartbeat (its snapshot shows whether the CP lost the agent's transitions)", () =>
    Effect.gen(function* () {
      const acked = new Map([[ROLLOUT as string, { ...pending(), state: "Activating" as const }]])
      const h = yield* harness(0, acked)
      yield* h.run({ ...entry, hostname: "web-99" as DispatchEntry["hostname"] })
      expect(yield* h.beats).toBe(0)
      yield* h.run(entry)
      expect(yield* h.offered).toEqual([])
      expect(yield* h.beats).toBe(1)
      const fresh = yield* harness(0)
      yield* fresh.run(entry)
      expect((yield* fresh.offered).map((i) => i._tag)).toEqual(["HostEvent"])
    })
  )
})
