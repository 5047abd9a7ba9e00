/**
 * The simulator's invariant checks can fail: each one, fed a doctored copy of a real run's event
 * log, records, dispatch observations, acknowledgements or agent views, reports the violation
 * (with the seed and the simulated second), and reports nothing on the untouched run; the one
 * allowance they make (an ack of a dispatch queued on the storage before a wipe) is shown to be
 * as narrow as it claims.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { HostRolloutState, Timestamp } from "../../src/domain/index.js"
import type { StoredEventLogEntry } from "../../src/ports/index.js"
import {
  type AckedEvent,
  checkAcks,
  checkAgents,
  checkDispatches,
  checkLog,
  checkReplay,
  checkStep,
  type DispatchObservation,
  type EpochData,
  planCpOutages,
  PRIOR_CLOSURE,
  simpleGateBlocks,
  SIM_SIGNED_AT,
  simulate,
  type SimulationResult
} from "../../src/sim/index.js"

const SEED = 3
const START = SIM_SIGNED_AT + 60_000
let run: SimulationResult
let epoch: EpochData

// One real run (3 hosts per channel, so the fleet has host edges), shared by every test.
beforeAll(async () => {
  run = await Effect.runPromise(simulate({ seed: SEED, channels: 2, hostsPerChannel: 3, waves: 2, maxInFlight: 1 }))
  epoch = run.epochs[0]!
}, 60_000)

const kindOf = (e: StoredEventLogEntry) => (e.payload as { readonly kind?: string }).kind
const pairOf = (r: { readonly rolloutId: string | null; readonly hostname: string | null }) => `${r.rolloutId}/${r.hostname}`
const invariants = (vs: ReadonlyArray<{ readonly invariant: string }>) => [...new Set(vs.map((v) => v.invariant))]

describe("simulator invariants: the untouched run passes", () => {
  it("no violation on the real run, and the run has what the doctored tests need", () => {
    expect(run.violations).toEqual([])
    expect(epoch.log.some((e) => kindOf(e) === "QueueDispatch")).toBe(true)
    expect(epoch.observations.some((o) => o.kind === "ack")).toBe(true)
    expect(run.fleet.fleet.edges.length).toBeGreaterThan(0)
  })
})

describe("log replay", () => {
  it("a record that differs from its replayed log is reported, with the field", () => {
    const converged = epoch.records.find((r) => r.state === "Converged")!
    const doctored = epoch.records.map((r) => (r === converged ? { ...r, currentClosure: r.currentClosureAtDispatch } : r))
    const violations = checkReplay(run.fleet, doctored, epoch.log, SEED, START, 100)
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ seed: SEED, atSecond: 100, invariant: "log-replay" })
    expect(violations[0]!.detail).toContain("currentClosure")
  })

  it("a log missing an event the record went through is refused by step(), at the entry's second", () => {
    const ack = epoch.log.find((e) => e.kind === "agent_event" && kindOf(e) === "DispatchAck")!
    const violations = checkReplay(run.fleet, epoch.records, epoch.log.filter((e) => e !== ack), SEED, START, 100)
    expect(invariants(violations)).toEqual(["log-replay"])
    expect(violations[0]!.detail).toContain("refuses")
    expect(violations[0]!.atSecond).toBeGreaterThan(0)
  })

  it("logged events of a host the CP holds no record of are reported", () => {
    const first = epoch.log.find((e) => e.kind === "agent_event")!
    const violations = checkReplay(run.fleet, epoch.records.filter((r) => pairOf(r) !== pairOf(first)), epoch.log, SEED, START, 100)
    expect(violations.map((v) => v.detail)).toEqual([expect.stringContaining("no record")])
  })
})

describe("no dispatch while a gate blocks", () => {
  const withObservations = (observations: ReadonlyArray<DispatchObservation>, log = epoch.log): EpochData => ({ ...epoch, observations, log })
  const check = (doctored: EpochData) => checkDispatches(run.fleet, run.manifests!, doctored, SEED, START)
  const firstQueue = () => epoch.observations.find((o) => o.kind === "queue")!
  const replace = (o: DispatchObservation, next: DispatchObservation) => epoch.observations.map((x) => (x === o ? next : x))

  it("the real run's dispatches pass both the planner and the simple gates", () => {
    expect(check(epoch)).toEqual([])
    for (const o of epoch.observations.filter((x) => x.kind === "queue")) expect(simpleGateBlocks(run.fleet, o)).toEqual([])
  })

  it("a dispatch of a quarantined closure is reported by the planner check and the simple check", () => {
    const o = firstQueue()
    const target = o.records.find((r) => r.hostname === o.host && r.rolloutId === o.rolloutId)!.targetClosure
    const channel = run.fleet.fleet.hosts[o.host]!.channel
    const quarantined: DispatchObservation = { ...o, quarantines: [{ channel, closureHash: target, quarantinedAt: o.at as Timestamp, triggeringEventLogSeq: null }] }
    const details = check(withObservations(replace(o, quarantined))).map((v) => v.detail)
    expect(details).toEqual([expect.stringContaining("planner gate quarantine"), expect.stringContaining("quarantine:")])
  })

  it("a dispatch above the rollout's current wave is reported", () => {
    const o = epoch.observations.find((x) => x.kind === "queue" && run.fleet.fleet.waves[run.fleet.fleet.hosts[x.host]!.channel]![1]!.hosts.includes(x.host))!
    const early = { ...o, rollouts: o.rollouts.map((r) => (r.rolloutId === o.rolloutId ? { ...r, currentWave: 0 } : r)) }
    const details = check(withObservations(replace(o, early))).map((v) => v.detail)
    expect(details.some((d) => d.includes("planner gate wave_promotion"))).toBe(true)
    expect(details.some((d) => d.includes("wave: host in wave 1, rollout at wave 0"))).toBe(true)
  })

  it("a dispatch before the predecessor channel is terminal is reported", () => {
    const gated = run.fleet.channels[1]!
    const o = epoch.observations.find((x) => x.kind === "queue" && run.fleet.fleet.hosts[x.host]!.channel === gated)!
    const open = { ...o, rollouts: o.rollouts.map((r) => (r.channel === run.fleet.channels[0] ? { ...r, terminalAt: null } : r)) }
    const details = check(withObservations(replace(o, open))).map((v) => v.detail)
    expect(details.some((d) => d.includes("planner gate channel_edges"))).toBe(true)
    expect(details.some((d) => d.includes(`channel edge: ${run.fleet.channels[0]} has no terminal rollout`))).toBe(true)
  })

  it("a dispatch before its host-edge predecessor converged is reported", () => {
    const edge = run.fleet.fleet.edges[0]!
    const o = epoch.observations.find((x) => x.kind === "queue" && x.host === edge.gated)!
    const before = { ...o, records: o.records.map((r): HostRolloutState => (r.hostname === edge.gates && r.rolloutId === o.rolloutId ? { ...r, state: "Soaking" } : r)) }
    const details = check(withObservations(replace(o, before))).map((v) => v.detail)
    expect(details.some((d) => d.includes("planner gate host_edges"))).toBe(true)
    expect(details.some((d) => d.includes(`host edge: ${edge.gates} is Soaking`))).toBe(true)
  })

  it("an ack without a dispatch (around the planner) while a gate blocks is reported; with a dispatch it is not", () => {
    const ack = epoch.observations.find((x) => x.kind === "ack" && run.fleet.fleet.waves[run.fleet.fleet.hosts[x.host]!.channel]![1]!.hosts.includes(x.host))!
    const gated = { ...ack, rollouts: ack.rollouts.map((r) => (r.rolloutId === ack.rolloutId ? { ...r, currentWave: 0 } : r)) }
    const withDispatch = replace(ack, gated)
    expect(check(withObservations(withDispatch))).toEqual([])
    const aroundPlanner = withDispatch.filter((x) => !(x.kind === "queue" && x.host === ack.host && x.rolloutId === ack.rolloutId))
    const details = check(withObservations(aroundPlanner, epoch.log.filter((e) => !(kindOf(e) === "QueueDispatch" && e.hostname === ack.host))))
    expect(details.map((v) => v.detail)).toEqual([expect.stringContaining(`${ack.host} in ${ack.rolloutId} acked without a dispatch while wave`)])
  })

  it("after a wipe, an agent's ack of a dispatch queued before the rollout was opened in this storage passes (the earlier storage's dispatch); a later one, or a synthesised one, is still held to the gates", () => {
    const ack = epoch.observations.find((x) => x.kind === "ack" && run.fleet.fleet.waves[run.fleet.fleet.hosts[x.host]!.channel]![1]!.hosts.includes(x.host))!
    const ackedAt = ack.acked!.dispatchAckedAt!
    // The rebuilt CP opened the rollout (at wave 0) after the old CP's dispatch was acked, and never queued the host.
    const reopened = (openedAt: number, acked = ack.acked!): DispatchObservation => ({
      ...ack,
      acked,
      rollouts: ack.rollouts.map((r) => (r.rolloutId === ack.rolloutId ? { ...r, currentWave: 0, openedAt: openedAt as Timestamp } : r))
    })
    const wiped = (o: DispatchObservation): EpochData => ({
      ...epoch,
      index: 1,
      observations: replace(ack, o).filter((x) => !(x.kind === "queue" && x.host === ack.host && x.rolloutId === ack.rolloutId)),
      log: epoch.log.filter((e) => !(kindOf(e) === "QueueDispatch" && e.hostname === ack.host))
    })
    expect(check(wiped(reopened(ackedAt + 1000)))).toEqual([])
    const heldToGates = [expect.stringContaining(`${ack.host} in ${ack.rolloutId} acked without a dispatch while wave`)]
    // Acked after the opening: no dispatch of this storage or of an earlier one explains it.
    expect(check(wiped(reopened(ackedAt))).map((v) => v.detail)).toEqual(heldToGates)
    // A synthesised ack (the running target as the closure at dispatch) is this CP's decision.
    const synthesised = reopened(ackedAt + 1000, { ...ack.acked!, currentClosureAtDispatch: ack.acked!.targetClosure })
    expect(check(wiped(synthesised)).map((v) => v.detail)).toEqual(heldToGates)
  })

  it("a dispatch is held to the gates whatever the ack dates say (the earlier-storage allowance is for acks only)", () => {
    const o = epoch.observations.find((x) => x.kind === "queue" && run.fleet.fleet.waves[run.fleet.fleet.hosts[x.host]!.channel]![1]!.hosts.includes(x.host))!
    const late = { ...o, rollouts: o.rollouts.map((r) => (r.rolloutId === o.rolloutId ? { ...r, currentWave: 0, openedAt: (o.at + 60_000) as Timestamp } : r)) }
    const details = check({ ...withObservations(replace(o, late)), index: 1 }).map((v) => v.detail)
    expect(details.some((d) => d.includes("wave: host in wave 1, rollout at wave 0"))).toBe(true)
  })

  it("a logged QueueDispatch the CP never decided (or the reverse) is reported", () => {
    const o = firstQueue()
    const violations = check(withObservations(epoch.observations.filter((x) => x !== o)))
    expect(violations.map((v) => v.detail)).toEqual([expect.stringContaining("1 logged, 0 decided")])
    expect(violations[0]!.atSecond).toBe(Math.round((o.at - START) / 1000))
  })
})

describe("no acknowledged event lost", () => {
  const agentEvents = () => epoch.log.filter((e) => e.kind === "agent_event" && e.agentSeq !== null)
  const ackOf = (e: StoredEventLogEntry, over: Partial<AckedEvent> = {}): AckedEvent => ({
    epoch: 0,
    host: e.hostname!,
    rolloutId: e.rolloutId!,
    seq: e.agentSeq!,
    kind: kindOf(e)!,
    at: e.at,
    ...over
  })

  it("acks of logged events pass; an acked event missing from the log, or logged as another kind, is reported", () => {
    const events = agentEvents()
    expect(checkAcks([epoch], events.map((e) => ackOf(e)), SEED, START)).toEqual([])
    const last = events[events.length - 1]!
    const lost = checkAcks([epoch], [ackOf(last, { seq: last.agentSeq! + 1 })], SEED, START)
    expect(lost).toEqual([expect.objectContaining({ invariant: "no-lost-event", atSecond: Math.round((last.at - START) / 1000) })])
    expect(checkAcks([epoch], [ackOf(last, { kind: "ActivationFailed" })], SEED, START)).toHaveLength(1)
  })

  it("in a wiped epoch an ack at or below the last logged seq passes (the CP synthesised it), above it is reported", () => {
    const wiped: EpochData = { ...epoch, index: 1 }
    const last = agentEvents()[agentEvents().length - 1]!
    expect(checkAcks([epoch, wiped], [ackOf(last, { epoch: 1, kind: "ActivationFailed" })], SEED, START)).toEqual([])
    expect(checkAcks([epoch, wiped], [ackOf(last, { epoch: 1, seq: last.agentSeq! + 1 })], SEED, START)).toHaveLength(1)
  })

  it("the log checks: a gap in epoch 0 is reported (allowed in a wiped epoch), and a record ahead of its log too", () => {
    const gap = epoch.log.filter((e) => !(e.kind === "agent_event" && e.agentSeq === 2 && e === agentEvents().find((x) => x.agentSeq === 2)))
    const pair = pairOf(agentEvents().find((x) => x.agentSeq === 2)!)
    expect(checkLog(epoch, gap, SEED, 9).map((v) => v.invariant)).toContain("no-lost-event")
    expect(checkLog(epoch, gap, SEED, 9, { wiped: true })).toEqual([])
    const ahead = epoch.records.map((r) => (pairOf(r) === pair ? { ...r, lastEventSeq: r.lastEventSeq + 1 } : r))
    expect(checkLog({ ...epoch, records: ahead }, epoch.log, SEED, 9, { wiped: true }).map((v) => v.detail)).toEqual([
      expect.stringContaining("last logged seq")
    ])
    const unlogged = checkLog(epoch, epoch.log.filter((e) => pairOf(e) !== pair || e.kind !== "agent_event"), SEED, 9)
    expect(unlogged.map((v) => v.detail)).toEqual([expect.stringContaining("nothing logged")])
  })

  it("a settled agent ahead of the CP's record is reported; one behind it, or with queued events, is not judged", () => {
    const record = epoch.records.find((r) => r.state === "Converged")!
    const view = (state: HostRolloutState["state"], queued = 0) => [{ host: record.hostname, records: new Map([[record.rolloutId as string, { ...record, state }]]), queued }]
    expect(checkAgents(epoch.records, view("Reverted"), SEED, 7)).toEqual([expect.objectContaining({ invariant: "no-lost-event", atSecond: 7 })])
    const soaking = epoch.records.map((r): HostRolloutState => (r === record ? { ...r, state: "Soaking" } : r))
    expect(checkAgents(soaking, view("Converged"), SEED, 7).map((v) => v.detail)).toEqual([expect.stringContaining("agent Converged at seq")])
    expect(checkAgents(epoch.records.filter((r) => r !== record), view("Activating"), SEED, 7).map((v) => v.detail)).toEqual([
      expect.stringContaining("CP has no record")
    ])
    expect(checkAgents(epoch.records, view("Reverted", 1), SEED, 7)).toEqual([])
    expect(checkAgents(epoch.records, view("Deferred"), SEED, 7)).toEqual([])
    expect(checkAgents(epoch.records, view("Converged"), SEED, 7)).toEqual([])
  })
})

describe("step invariants and fault plans", () => {
  it("budget: two hosts in flight over a budget of one is reported, unless one is back from a deferral reboot", () => {
    const [a, b] = run.final.records
    const doctored = { ...run.final, records: run.final.records.map((r): HostRolloutState => (r === a || r === b ? { ...r, state: "Soaking" } : r)) }
    expect(invariants(checkStep(run.fleet, 1, doctored, SEED, 5))).toContain("budget")
    expect(invariants(checkStep(run.fleet, 1, doctored, SEED, 5, { rebooted: new Set([a!.hostname]) }))).not.toContain("budget")
  })

  it("wave order: a wave-1 host started while wave 0 is not done is reported, unless its ack answers a dispatch queued before the rollout was opened in this storage", () => {
    const channel = run.fleet.channels[0]!
    const second = run.fleet.fleet.waves[channel]![1]!
    const rollout = run.final.rollouts.find((r) => r.channel === channel)!
    const early = run.final.records.find((r) => r.rolloutId === rollout.rolloutId && second.hosts.includes(r.hostname))!
    const ackedAt = (rollout.openedAt - 60_000) as Timestamp
    const doctor = (started: Partial<HostRolloutState>, openedAt = rollout.openedAt) => ({
      ...run.final,
      rollouts: run.final.rollouts.map((r) => (r === rollout ? { ...r, state: "Active" as const, terminalAt: null, openedAt } : r)),
      records: run.final.records.map((r): HostRolloutState =>
        r === early ? { ...r, state: "Activating", ...started } : r.rolloutId === rollout.rolloutId ? { ...r, state: "Pending" } : r
      )
    })
    const waveOrder = (snapshot: ReturnType<typeof doctor>) => checkStep(run.fleet, 1, snapshot, SEED, 5).filter((v) => v.invariant === "wave-order")
    expect(waveOrder(doctor({}))).toEqual([expect.objectContaining({ detail: `${rollout.rolloutId}: wave 1 started before wave 0 was done` })])
    // The old CP's dispatch (acked before this storage's rollout row was opened): the order was kept by that CP.
    expect(waveOrder(doctor({ dispatchAckedAt: ackedAt, currentClosureAtDispatch: PRIOR_CLOSURE }))).toEqual([])
    // Acked after the opening, or synthesised by recovery: reported.
    expect(waveOrder(doctor({ dispatchAckedAt: ackedAt, currentClosureAtDispatch: PRIOR_CLOSURE }, (ackedAt - 1) as Timestamp))).toHaveLength(1)
    expect(waveOrder(doctor({ dispatchAckedAt: ackedAt, currentClosureAtDispatch: early.targetClosure }))).toHaveLength(1)
  })

  it("CP outages are sorted and never overlap, and a seed always plans the same ones", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const outages = planCpOutages(seed, ["cpRestart", "cpWipe"])
      expect(outages.filter((o) => o.wipe)).toHaveLength(1)
      for (let i = 1; i < outages.length; i++) expect(outages[i]!.at).toBeGreaterThanOrEqual(outages[i - 1]!.at + outages[i - 1]!.downFor)
      expect(planCpOutages(seed, ["cpRestart", "cpWipe"])).toEqual(outages)
    }
    expect(planCpOutages(1, [])).toEqual([])
  })
})
