/**
 * Where an agent event's CPU goes in the CP: the per-call CPU cost of each step the events route
 * and the reducer take for one event, each measured alone in this process on an idle event loop
 * (real adapters on a temporary SQLite file, real wire schemas, real bearer-token auth).
 *
 * Invariant: every figure is measured by this run (CPU time from `process.cpuUsage`, after a
 * warm-up of the same call); nothing is estimated or hard-coded.
 */
import { Deferred, Duration, Effect, Layer, Schema, type Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeBearerTokenAuth } from "../../adapters/memory/agentAuth.js"
import { layerSqlite } from "../../adapters/sqlite/index.js"
import { agentEventEntry } from "../../src/cp/auditEntries.js"
import { makeAsker } from "../../src/cp/http/ask.js"
import type { HostEventOutcome } from "../../src/cp/input.js"
import type { CpReducerService } from "../../src/cp/reducer.js"
import { AgentEventEnvelope } from "../../src/domain/agentEvent.js"
import { newPending } from "../../src/domain/hostState.js"
import type { ChannelId, ChannelRef, ClosureHash, HostId, ProbeName, RolloutId } from "../../src/domain/ids.js"
import { ts } from "../../src/domain/time.js"
import { EventLog } from "../../src/ports/eventLog.js"
import { Storage } from "../../src/ports/storage.js"

/** One step and its CPU cost per call. */
export interface StepCost {
  readonly step: string
  readonly micros: number
}

const WARMUP = 300
const ROLLOUT = "web@bench" as RolloutId
const HOST = "web-0001" as HostId
const T0 = ts("2026-05-17T12:00:00Z")

/** CPU microseconds per run of `effect` over `n` runs (after a warm-up). */
const cpuPerCall = (n: number, effect: Effect.Effect<unknown, unknown>): Effect.Effect<number, unknown> =>
  Effect.gen(function* () {
    yield* Effect.repeatN(effect, WARMUP - 1)
    const before = process.cpuUsage()
    yield* Effect.repeatN(effect, n - 1)
    const used = process.cpuUsage(before)
    return (used.user + used.system) / n
  })

const probeResult = (seq: number) => ({
  _tag: "ProbeResult" as const,
  probeName: "http" as ProbeName,
  mode: "enforce" as const,
  status: "pass" as const,
  observedAt: ts(T0 + seq),
  failureReason: null,
  subResults: null,
  seq
})

/** Wire side: JSON decode of the envelope, bearer auth among `tokens` hosts, the reducer ask. */
const wireSteps = (tokens: number): Effect.Effect<ReadonlyArray<StepCost>, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const body = JSON.stringify({ hostname: HOST, rolloutId: ROLLOUT, event: { kind: "ProbeResult", probeName: "http", mode: "enforce", status: "pass", observedAt: "2026-05-17T12:00:00.000Z", seq: 7 } })
    const decode = Schema.decodeUnknown(AgentEventEnvelope)
    const auth = makeBearerTokenAuth(Array.from({ length: tokens }, (_, i) => [`token-${i}`, `host-${i}` as HostId] as const))
    const request = { headers: { authorization: `Bearer token-${tokens - 1}` } } as unknown as Parameters<typeof auth.authenticate>[0]
    // A reducer that replies at once: what remains is ask's own Deferred + offer + timeout work.
    const instant: CpReducerService = {
      offer: (input) => (input._tag === "HostEvent" && input.reply !== null ? Effect.as(Deferred.succeed(input.reply, { _tag: "Applied", state: "Soaking" } as HostEventOutcome), true) : Effect.succeed(true)),
      state: Effect.die("unused"),
      backlog: Effect.succeed(0),
      barrier: Effect.void
    }
    const asker = yield* makeAsker(instant, Duration.decode("5 seconds"))
    const asked = asker.ask((reply: Deferred.Deferred<HostEventOutcome>) => ({
      _tag: "HostEvent" as const,
      host: HOST,
      rolloutId: ROLLOUT,
      event: { ...probeResult(7), _tag: "RemoteProbeResult" as const },
      reply
    }))
    return [
      { step: "JSON.parse + Schema decode of the event envelope", micros: yield* cpuPerCall(20_000, Effect.suspend(() => decode(JSON.parse(body)))) },
      { step: `bearer-token authentication (sha256 lookup among ${tokens.toLocaleString("en-US")} tokens)`, micros: yield* cpuPerCall(20_000, auth.authenticate(request)) },
      { step: "reducer ask (reply Deferred, offer, 5 s deadline kept by the asker's sweeper), reducer replying at once", micros: yield* cpuPerCall(20_000, asked) }
    ]
  })

/** Storage side: the statements the reducer runs for one event, alone and in a 64-event group. */
const storageSteps: Effect.Effect<ReadonlyArray<StepCost>, unknown, Storage | EventLog> = Effect.gen(function* () {
  const storage = yield* Storage
  const log = yield* EventLog
  yield* storage.openRollout({ rolloutId: ROLLOUT, channel: "web" as ChannelId, targetRef: "bench" as ChannelRef, openedAt: T0 })
  const record = { ...newPending({ rolloutId: ROLLOUT, hostname: HOST, channel: "web" as ChannelId, targetClosure: "/nix/store/target" as ClosureHash, dispatchedAt: T0, soakDueAt: T0 }), state: "Soaking" as const }
  yield* storage.upsertHostRecord(record)
  let seq = 0
  const oneEvent = Effect.suspend(() => {
    seq++
    return Effect.zip(
      Effect.zip(storage.loadHostRecord(ROLLOUT, HOST), storage.upsertHostRecord({ ...record, lastEventSeq: seq })),
      log.appendBatch([agentEventEntry(ts(T0 + seq), HOST, ROLLOUT, probeResult(seq))])
    )
  })
  const group = 64
  return [
    { step: "Storage.loadHostRecord (SELECT by key + row decode)", micros: yield* cpuPerCall(5_000, storage.loadHostRecord(ROLLOUT, HOST)) },
    { step: "Storage.upsertHostRecord (row encode + UPSERT)", micros: yield* cpuPerCall(5_000, storage.upsertHostRecord(record)) },
    { step: "Storage.transaction around nothing (BEGIN + COMMIT)", micros: yield* cpuPerCall(5_000, storage.transaction(Effect.void)) },
    { step: "one event's writes (load + upsert + agent_event append) in its own transaction", micros: yield* cpuPerCall(2_000, storage.transaction(oneEvent)) },
    {
      step: `the same, per event, in a transaction of ${group} events (group commit)`,
      micros: (yield* cpuPerCall(100, storage.transaction(Effect.repeatN(oneEvent, group - 1)))) / group
    }
  ]
})

/** A copy of an n-entry Map with one key set: the reducer's per-heartbeat state update. */
const mapCopyMicros = (entries: number): number => {
  let map = new Map<string, number>(Array.from({ length: entries }, (_, i) => [`host-${i}`, i]))
  const rounds = 500
  for (let i = 0; i < 50; i++) map = new Map(map).set(`host-${i}`, i)
  const before = process.cpuUsage()
  for (let i = 0; i < rounds; i++) map = new Map(map).set(`host-${i % entries}`, i)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / rounds
}

/** Measures every step. */
export const measureBreakdown = async (tokens: number): Promise<ReadonlyArray<StepCost>> => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-bench-breakdown-"))
  try {
    const program = Effect.gen(function* () {
      const wire = yield* wireSteps(tokens)
      const stored = yield* storageSteps
      return [...wire, ...stored]
    }).pipe(Effect.scoped, Effect.provide(Layer.fresh(layerSqlite({ filename: join(dir, "cp.db") }))))
    const steps = await Effect.runPromise(Effect.orDie(program))
    return [...steps, { step: `copy of a ${tokens.toLocaleString("en-US")}-entry Map with one key set (the reducer's heartbeat-state update: per heartbeat before 0f0f150, per group until 4737098, none since: set in place)`, micros: mapCopyMicros(tokens) }]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
