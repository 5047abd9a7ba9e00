/**
 * Issue 5's end-to-end tests, in one process on in-memory layers and the TestClock: a signed
 * two-channel fleet (waves, host and channel edges, a disruption budget) rolls out through the
 * HTTP API; a failing canary under rollback-and-halt halts its channel with the closure
 * quarantined; and the reference acceptance gate: a wiped CP recovers every host's state from
 * one round of heartbeats.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { CpReducer } from "../../src/cp/index.js"
import type { HostId, RolloutId } from "../../src/domain/index.js"
import { Storage } from "../../src/ports/index.js"
import { signedFleet } from "../support/signedFleet.js"
import { clientFor, cpLayer, drive, hostStates, withCp } from "./harness.js"

const signed = signedFleet({ channels: 2, hostsPerChannel: 6, waves: 3, maxInFlight: 2 })
const [infra, web] = signed.channels as unknown as [string, string]
const rid = (channel: string) => `${channel}@${signed.ciCommit}` as RolloutId
const allTerminal = Effect.flatMap(Storage, (s) => Effect.map(s.listRollouts(), (rs) => rs.length === 2 && rs.every((r) => r.state === "Terminal")))

describe("control plane end to end (HTTP, signed manifests, TestClock)", () => {
  it.effect("the signed two-channel fleet rolls out wave by wave, channel after channel, within the budget, to Terminal", () =>
    Effect.gen(function* () {
      const { log } = yield* drive(signed.hosts, { rounds: 120, until: allTerminal })
      const storage = yield* Storage
      expect((yield* storage.listRollouts()).map((r) => [r.rolloutId, r.state]).sort()).toEqual([
        [rid(infra), "Terminal"],
        [rid(web), "Terminal"]
      ])
      expect([...(yield* hostStates).values()].every((s) => s === "Converged")).toBe(true)
      // The budget (maxInFlight 2 over the whole fleet) was never exceeded.
      expect(log.maxInFlight).toBeGreaterThan(0)
      expect(log.maxInFlight).toBeLessThanOrEqual(2)
      // Channel edge: every infra host was dispatched before any web host.
      const firstWeb = log.dispatched.findIndex((h) => h.startsWith(web))
      const lastInfra = log.dispatched.map((h) => h.startsWith(infra)).lastIndexOf(true)
      expect(lastInfra).toBeLessThan(firstWeb)
      // Waves: each channel's canary went first.
      for (const c of [infra, web]) expect(log.dispatched.find((h) => h.startsWith(c))).toBe(signed.canaries.get(c as never))
      // Host edge: the gating host converged before the gated one was dispatched.
      for (const edge of signed.fleet.edges) {
        expect(log.dispatched.indexOf(edge.gates as HostId)).toBeLessThan(log.dispatched.indexOf(edge.gated as HostId))
      }
    }).pipe(withCp(signed))
  )

  it.effect("a failing canary under rollback-and-halt: Reverted, closure quarantined, the channel's later waves never dispatched", () =>
    Effect.gen(function* () {
      const canary = signed.failingCanary.host
      const { log } = yield* drive(signed.hosts, { rounds: 90, failing: new Set([canary]) })
      const storage = yield* Storage
      const rollouts = new Map((yield* storage.listRollouts()).map((r) => [r.rolloutId, r.state]))
      expect(rollouts.get(rid(infra))).toBe("Terminal")
      expect(rollouts.get(rid(web))).toBe("Failed")
      const states = yield* hostStates
      expect(states.get(`${rid(web)}/${canary}`)).toBe("Reverted")
      expect(log.dispatched.filter((h) => h.startsWith(web))).toEqual([canary])
      const quarantined = (yield* storage.listQuarantines).map((q) => [q.channel, q.closureHash])
      expect(quarantined).toEqual([[web, signed.fleet.hosts[canary]?.closureHash]])
      const reducer = yield* CpReducer
      expect((yield* reducer.state).quarantines.get(web as never)?.size).toBe(1)
    }).pipe(withCp(signed))
  )

  it.effect("acceptance gate: wipe the CP database and restart; heartbeats alone rebuild the same per-host states within one reconcile cycle", () =>
    Effect.gen(function* () {
      // First life: roll out until infra is done and web is part-way, at a quiescent moment
      // (no host between dispatch and convergence).
      const quiescentMidway = Effect.gen(function* () {
        const records = yield* Effect.flatMap(Storage, (s) => s.allHostRecords)
        const inFlight = records.some((r) => r.state === "Activating" || r.state === "Soaking")
        const webDone = records.filter((r) => r.rolloutId === rid(web) && r.state === "Converged").length
        return !inFlight && webDone >= 2
      })
      const first = yield* drive(signed.hosts, { rounds: 120, until: quiescentMidway })
      const before = yield* hostStates
      expect([...before.values()]).toContain("Pending")
      expect([...before.values()]).toContain("Converged")

      // Second life: a brand-new CP on empty storage, same signed release; each host heartbeats once.
      const after = yield* Effect.gen(function* () {
        for (const host of signed.hosts) {
          const client = yield* clientFor(host)
          yield* client.agent.heartbeat({ payload: { hostname: host, rolloutId: null, currentClosure: first.running.get(host) ?? null, at: (yield* Effect.clockWith((c) => c.currentTimeMillis)) as never } })
        }
        yield* Effect.flatMap(CpReducer, (r) => r.barrier)
        // One reconcile cycle: a plan tick (15 s) after the heartbeat round.
        yield* TestClock.adjust("15 seconds")
        yield* Effect.flatMap(CpReducer, (r) => r.barrier)
        return yield* hostStates
      }).pipe(Effect.provide(cpLayer(signed)))
      expect(after).toEqual(before)
    }).pipe(withCp(signed))
  )
})
