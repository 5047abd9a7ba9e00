/**
 * The CP reducer: the single mutator. One fiber takes `ReducerInput`s from one bounded queue,
 * calls `step()` and `planNext()`, persists, and hands effects to the applier.
 *
 * Invariants: only this fiber calls `step()` / `planNext()` (invariant 1); consecutive host events
 * and heartbeats are processed as one storage transaction (group commit) and their replies are
 * completed only after it committed, so a 2xx means persisted; a failed transaction is logged,
 * every waiting caller gets `Failed`, and the fiber carries on; the quarantine set is loaded from
 * storage at start and kept in step with inserts; host records and rollouts are read through a
 * cache that forgets everything when a transaction does not commit (src/cp/recordCache.ts).
 */
import { Context, Deferred, Effect, Either, Exit, Layer, Option, Queue, Ref, Schedule, type Duration } from "effect"
import type { RemoteEvent } from "../domain/events.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { ChannelId, ClosureHash, HostId, RolloutId } from "../domain/ids.js"
import { toSnapshot } from "../domain/snapshot.js"
import type { Timestamp } from "../domain/time.js"
import { step } from "../machine/host.js"
import { evaluateForRecovery } from "../planner/evaluate.js"
import { makeGateContext } from "../planner/context.js"
import { advanceCurrentWaves, buildFleetState, type ProbeFailureRow } from "../planner/fleetState.js"
import { prepareManifestSet } from "../planner/manifestIndex.js"
import { planNext } from "../planner/planNext.js"
import type { FleetState, QuarantineSet } from "../planner/types.js"
import type { GateContext } from "../planner/context.js"
import type { StorageError } from "../ports/errors.js"
import { EventLog } from "../ports/eventLog.js"
import { Storage, type StorageService } from "../ports/storage.js"
import { type ApplyContext, applyHostEffect, applyPlanAction, processRolloutEvent } from "./applier.js"
import { makeDeferEntries } from "./auditEntries.js"
import { EventLogWriter } from "./eventLogWriter.js"
import { makeRecordCache } from "./recordCache.js"
import { HostEventOutcome, type HeartbeatReply, ReducerInput } from "./input.js"
import { makeJournal, type Journal } from "./journal.js"
import { resolvePolicy, type VerifiedManifests } from "./manifests.js"
import { DispatchNotifier } from "./notifier.js"
import { currentRolloutOf, heartbeatRecords, replayFrom, synthesizeRecovery } from "./recovery.js"
import { now as currentTime } from "../ports/clock.js"

/**
 * Input queue capacity: 1024, the reference's size — about two events per host of a 256-host
 * fleet at peak activation, doubled. When full, producers get `false` and answer 503.
 */
export const REDUCER_QUEUE_CAPACITY = 1024
/** Settling rounds per tick at most (waves released + recoveries replayed before planning). */
const MAX_SETTLE_ROUNDS = 64
/** Inputs processed per transaction at most: bounds a group commit's latency. */
const MAX_GROUP = 256

/**
 * Completes once the event loop has run the I/O callbacks already pending (Node's check phase).
 * The reducer waits for it between taking a group's first input and the rest, so requests that
 * arrived together are all offered before it takes its group; without it the reducer takes each
 * input the moment it is offered and every group commits one input (measured with
 * bench/suites/http.ts: every group of size 1 at ~115 events/s; with the wait, groups of up to
 * ~100 and ~300 events/s on the same machine). It is not a timer: no Clock is involved.
 */
const afterPendingIo: Effect.Effect<void> = Effect.async((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** The reducer's settings. */
export interface ReducerConfig {
  /** The safety-net plan tick (default 15 s). */
  readonly planInterval: Duration.DurationInput
  /** Queue capacity (default {@link REDUCER_QUEUE_CAPACITY}). */
  readonly queueCapacity?: number
}

/** What the reducer keeps in memory; read-only for everyone but the reducer fiber. */
export interface ReducerState {
  readonly manifests: VerifiedManifests | null
  readonly quarantines: QuarantineSet
  /** When each host last beat: a live view the reducer fiber updates in place (not a snapshot). */
  readonly lastHeartbeatAt: ReadonlyMap<HostId, Timestamp>
  /**
   * The closure each host last reported running (heartbeats); replayed by recovery at every tick.
   * A live view the reducer fiber updates in place (not a snapshot).
   */
  readonly lastReportedClosure: ReadonlyMap<HostId, ClosureHash>
  readonly lastPlanAt: Timestamp | null
}

/** The reducer's interface for producers and readers. */
export interface CpReducerService {
  /** Offers an input without waiting; `false` when the queue is full (answer 503). */
  readonly offer: (input: ReducerInput) => Effect.Effect<boolean>
  /** The reducer's current in-memory state (manifests, quarantines, heartbeats). */
  readonly state: Effect.Effect<ReducerState>
  /** Inputs waiting in the queue. */
  readonly backlog: Effect.Effect<number>
  /** Waits until every input offered before the call has been processed (offers wait for room). */
  readonly barrier: Effect.Effect<void>
}

/** The CP's single mutator. */
export class CpReducer extends Context.Tag("effect-fleet/CpReducer")<CpReducer, CpReducerService>() {}

const isGrouped = (input: ReducerInput): boolean => input._tag === "HostEvent" || input._tag === "HeartbeatReceived"

const addQuarantine = (set: QuarantineSet, channel: ChannelId, closure: ClosureHash): QuarantineSet => {
  const next = new Map(set)
  next.set(channel, new Set([...(set.get(channel) ?? []), closure]))
  return next
}

/**
 * Loads what the planner needs from storage and builds the fleet state (also used read-only by
 * the HTTP explain route). A failing probe-failure projection leaves the compliance gate inert.
 */
export const loadFleetStateFrom = (storage: StorageService, manifests: VerifiedManifests): Effect.Effect<FleetState, StorageError> =>
  Effect.gen(function* () {
    const records = yield* storage.allHostRecords
    const rollouts = yield* storage.listRollouts()
    const counts = yield* storage.probeFailureCounts.pipe(
      Effect.tapError((e) => Effect.logWarning("probe failure projection unavailable; compliance gate inert this tick", e.message)),
      Effect.orElseSucceed(() => new Map())
    )
    const rows: Array<ProbeFailureRow> = []
    for (const [rolloutId, perHost] of counts) for (const [hostname, count] of perHost) rows.push({ rolloutId, hostname, count })
    return buildFleetState(manifests.set, records, rollouts, rows)
  })

/** The reducer fiber and its queue, forked in the layer's scope. */
export const layer = (
  config: ReducerConfig
): Layer.Layer<CpReducer, StorageError, Storage | EventLog | EventLogWriter | DispatchNotifier> =>
  Layer.scoped(
    CpReducer,
    Effect.gen(function* () {
      // Every read and write of the reducer goes through the record cache (the single mutator).
      const cache = makeRecordCache(yield* Storage)
      const storage = cache.storage
      const eventLog = yield* EventLog
      const writer = yield* EventLogWriter
      const notifier = yield* DispatchNotifier
      const queue = yield* Queue.dropping<ReducerInput>(config.queueCapacity ?? REDUCER_QUEUE_CAPACITY)
      // Updated in place by this fiber only (recordHeartbeats); the state hands out read-only views.
      const lastHeartbeatAt = new Map<HostId, Timestamp>()
      const lastReportedClosure = new Map<HostId, ClosureHash>()
      const stateRef = yield* Ref.make<ReducerState>({
        manifests: null,
        quarantines: yield* storage.loadQuarantines,
        lastHeartbeatAt,
        lastReportedClosure,
        lastPlanAt: null
      })
      // Gate-decision payloads, encoded once per (host, decision): see DeferEntries.
      const deferEntries = makeDeferEntries()
      /** The applier's services (the cached Storage, the notifier), provided once per transaction body. */
      const provide = <A, E>(eff: Effect.Effect<A, E, Storage | DispatchNotifier>) =>
        eff.pipe(Effect.provideService(Storage, storage), Effect.provideService(DispatchNotifier, notifier))

      const applyContext = (now: Timestamp, journal: Journal, manifests: VerifiedManifests): ApplyContext => ({
        now,
        journal,
        manifests,
        deferEntries,
        onQuarantined: (channel, closure) => Ref.update(stateRef, (s) => ({ ...s, quarantines: addQuarantine(s.quarantines, channel, closure) }))
      })

      const loadFleetState = (manifests: VerifiedManifests) => loadFleetStateFrom(storage, manifests)

      /** Runs `body` as one transaction; the cache forgets everything unless it committed. */
      const transact = <A, E>(body: Effect.Effect<A, E>) =>
        Effect.onExit(storage.transaction(body), (exit) => (Exit.isSuccess(exit) ? Effect.void : cache.reset))

      /**
       * Steps one host event and applies its effects, inside the caller's transaction (whose body
       * provides the applier's services once: see `provide`).
       */
      const handleHostEvent = (
        now: Timestamp,
        journal: Journal,
        host: HostId,
        rolloutId: RolloutId,
        event: RemoteEvent
      ): Effect.Effect<HostEventOutcome, StorageError, Storage | DispatchNotifier> =>
        Effect.gen(function* () {
          const found = yield* storage.loadHostRecord(rolloutId, host)
          if (Option.isNone(found)) return HostEventOutcome.UnknownRecord()
          const record = found.value
          if (event.seq <= record.lastEventSeq) return HostEventOutcome.Duplicate({ lastEventSeq: record.lastEventSeq })
          const { manifests } = yield* Ref.get(stateRef)
          if (manifests === null) return HostEventOutcome.NotReady({ reason: "no verified manifests yet" })
          const policy = resolvePolicy(manifests, record.channel)
          if (policy === undefined) return HostEventOutcome.NotReady({ reason: `no rollout policy for channel ${record.channel}` })
          const result = step(record, event, now, policy)
          if (Either.isLeft(result)) return HostEventOutcome.Rejected({ error: result.left })
          const next = result.right.state
          yield* storage.upsertHostRecord(next)
          const ctx = applyContext(now, journal, manifests)
          for (const effect of result.right.effects) yield* applyHostEffect(ctx, effect)
          if (next.state !== record.state) {
            yield* processRolloutEvent(ctx, rolloutId, { _tag: "HostStateChanged", rolloutId, hostId: host, from: record.state, to: next.state, at: now })
            if (next.state === "Converged") {
              const counts = yield* storage.hostRecordCounts(rolloutId)
              if (counts.total > 0 && counts.converged === counts.total) {
                yield* processRolloutEvent(ctx, rolloutId, { _tag: "RolloutTerminal", rolloutId, at: now })
              }
            }
          }
          return HostEventOutcome.Applied({ state: next.state })
        })

      /**
       * Whether a gate would block this Pending record now (for the Pending → Converged recovery):
       * every gate but the disruption budget, which that recovery never occupies (see
       * `evaluateForRecovery` for the decision).
       */
      const gateBlocks = (ctx: GateContext, fleetState: FleetState, rolloutId: RolloutId, host: HostId) => {
        const summary = fleetState.rollouts.get(rolloutId)
        const record = fleetState.hostStates.get(rolloutId)?.get(host)
        if (summary === undefined || record === undefined) return true
        return evaluateForRecovery(ctx, { rolloutId, host, targetClosure: record.targetClosure, channel: summary.channel }) !== null
      }

      /** Runs the recovery synthesis for one record; `true` when it brought the record forward. */
      const recover = (now: Timestamp, journal: Journal, host: HostId, record: HostRolloutState, current: ClosureHash, at: Timestamp, blocks: boolean) =>
        Effect.gen(function* () {
          let applied = false
          for (const event of synthesizeRecovery(record, current, at, blocks)) {
            const outcome = yield* handleHostEvent(now, journal, host, record.rolloutId, event)
            if (outcome._tag !== "Applied") {
              yield* Effect.logWarning("recovery synthesis stopped", { host, rolloutId: record.rolloutId, outcome: outcome._tag })
              break
            }
            applied = true
          }
          return applied
        })

      /**
       * Replays recovery for Pending records whose host last reported running their target, now
       * that a wave or channel may have been released. The reference only synthesises at heartbeat
       * time, so after a database wipe each later wave waits for another heartbeat round; replaying
       * the last reported closure at each planning round lets the whole fleet recover from one
       * round of heartbeats, with every gate still consulted.
       */
      const recoverReported = (now: Timestamp, journal: Journal, manifests: VerifiedManifests, fleetState: FleetState, quarantines: QuarantineSet) =>
        Effect.gen(function* () {
          if (lastReportedClosure.size === 0) return 0
          const ctx = makeGateContext(manifests.set, fleetState, quarantines)
          let recovered = 0
          for (const [rolloutId, hosts] of fleetState.hostStates) {
            for (const [host, record] of hosts) {
              if (record.state !== "Pending" || record.dispatchAckedAt !== null || lastReportedClosure.get(host) !== record.targetClosure) continue
              if (gateBlocks(ctx, fleetState, rolloutId, host)) continue
              if (yield* recover(now, journal, host, record, record.targetClosure, now, false)) recovered++
            }
          }
          return recovered
        })

      /** A heartbeat reply's records: the host's active ones and its current rollout's (see `heartbeatRecords`). */
      const bootstrapRecords = (host: HostId, manifests: VerifiedManifests | null) =>
        Effect.gen(function* () {
          const active = yield* storage.activeHostRecordsForHost(host)
          const rolloutId = manifests === null ? null : currentRolloutOf(manifests.set, host)
          const current = rolloutId === null ? Option.none() : yield* storage.loadHostRecord(rolloutId, host)
          return heartbeatRecords(active, Option.getOrNull(current))
        })

      const handleHeartbeat = (
        now: Timestamp,
        journal: Journal,
        input: Extract<ReducerInput, { _tag: "HeartbeatReceived" }>
      ): Effect.Effect<HeartbeatReply, StorageError, Storage | DispatchNotifier> =>
        Effect.gen(function* () {
          const current = input.currentClosure
          const { manifests, quarantines } = yield* Ref.get(stateRef)
          if (current !== null && manifests !== null) {
            const active = yield* storage.activeHostRecordsForHost(input.host)
            const needsGates = active.some((r) => r.state === "Pending" && r.targetClosure === current)
            const fleetState = needsGates ? yield* loadFleetState(manifests) : null
            const ctx = fleetState === null ? null : makeGateContext(manifests.set, fleetState, quarantines)
            for (const record of active) {
              const blocks = fleetState === null || ctx === null ? true : gateBlocks(ctx, fleetState, record.rolloutId, input.host)
              yield* recover(now, journal, input.host, record, current, input.at, blocks)
            }
          }
          let replay: number | null = null
          if (input.rolloutId !== null && input.currentClosure !== null) {
            const record = yield* storage.loadHostRecord(input.rolloutId, input.host)
            if (Option.isSome(record)) replay = replayFrom(record.value, input.currentClosure)
          }
          const bootstrap = input.rolloutId === null ? (yield* bootstrapRecords(input.host, manifests)).map(toSnapshot) : []
          return { receivedAt: now, replayFrom: replay, bootstrapRollouts: bootstrap }
        })

      /**
       * Records the group's heartbeats (time, reported closure) in the in-memory state, in place:
       * the maps belong to this fiber (see ReducerState). A copy of each map per heartbeat cost
       * ~1.7 ms of CPU per map at 10,000 hosts (bench/suites/http.ts), and even one copy per group
       * grows with the fleet; setting the keys costs the same at any fleet size.
       */
      const recordHeartbeats = (group: ReadonlyArray<ReducerInput>) =>
        Effect.sync(() => {
          for (const input of group) {
            if (input._tag !== "HeartbeatReceived") continue
            lastHeartbeatAt.set(input.host, input.at)
            if (input.currentClosure !== null) lastReportedClosure.set(input.host, input.currentClosure)
          }
        })

      /** Runs a group of host events and heartbeats as one transaction; replies after commit. */
      const runGroup = (group: ReadonlyArray<ReducerInput>) =>
        Effect.gen(function* () {
          yield* recordHeartbeats(group)
          const now = (yield* currentTime)
          const journal = makeJournal()
          const replies: Array<Effect.Effect<void>> = []
          const body = Effect.gen(function* () {
            for (const input of group) {
              if (input._tag === "HostEvent") {
                const outcome = yield* handleHostEvent(now, journal, input.host, input.rolloutId, input.event)
                if (outcome._tag !== "Applied" && outcome._tag !== "Duplicate") {
                  yield* Effect.logInfo("host event not applied", { host: input.host, rolloutId: input.rolloutId, event: input.event._tag, outcome: outcome._tag })
                }
                if (input.reply !== null) replies.push(Deferred.succeed(input.reply, outcome))
              } else if (input._tag === "HeartbeatReceived") {
                const reply = yield* handleHeartbeat(now, journal, input)
                replies.push(Deferred.succeed(input.reply, reply))
              }
            }
            if (journal.entries.length > 0) yield* eventLog.appendBatch(journal.entries)
          })
          const committed = yield* Effect.either(transact(provide(body)))
          if (Either.isLeft(committed)) {
            const reason = committed.left.message
            yield* Effect.logError("reducer transaction failed; nothing persisted", reason)
            for (const input of group) {
              if (input._tag === "HostEvent" && input.reply !== null) yield* Deferred.succeed(input.reply, HostEventOutcome.Failed({ reason }))
              if (input._tag === "HeartbeatReceived") yield* Deferred.fail(input.reply, reason)
            }
            return
          }
          yield* Effect.all(journal.afterCommit, { discard: true })
          yield* Effect.all(replies, { discard: true })
          yield* writer.appendAll(journal.deferredEntries)
        })

      /** One planning pass: advance waves, plan, apply; one transaction. */
      const runPlan = Effect.gen(function* () {
        const { manifests, quarantines } = yield* Ref.get(stateRef)
        if (manifests === null) return
        const now = (yield* currentTime)
        const journal = makeJournal()
        const body = Effect.gen(function* () {
          const ctx = applyContext(now, journal, manifests)
          let fleetState = yield* loadFleetState(manifests)
          // Settle before planning: advance finished waves and replay recovery until neither
          // changes anything (each round releases at least one wave or host; bounded anyway).
          for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
            const { advanced } = advanceCurrentWaves(manifests.set, fleetState)
            for (const a of advanced) {
              yield* processRolloutEvent(ctx, a.rolloutId, { _tag: "WaveAdvanced", rolloutId: a.rolloutId, fromWave: a.fromWave, toWave: a.toWave, at: now })
            }
            if (advanced.length > 0) fleetState = yield* loadFleetState(manifests)
            const recovered = yield* recoverReported(now, journal, manifests, fleetState, quarantines)
            if (recovered > 0) fleetState = yield* loadFleetState(manifests)
            if (advanced.length === 0 && recovered === 0) break
          }
          const actions = planNext(manifests.set, fleetState, quarantines, now)
          for (const action of actions) yield* applyPlanAction(ctx, action)
          // Newly opened rollouts have no fleet-state summary in this pass, so the planner could not
          // dispatch them yet; the reference waits for the next tick (up to 15 s). We plan once more
          // at once, so a new release starts dispatching as soon as it is verified.
          if (actions.some((a) => a._tag === "OpenRollout")) {
            const reopened = yield* loadFleetState(manifests)
            for (const action of planNext(manifests.set, reopened, quarantines, now)) {
              if (action._tag !== "OpenRollout") yield* applyPlanAction(ctx, action)
            }
          }
          if (journal.entries.length > 0) yield* eventLog.appendBatch(journal.entries)
        })
        const committed = yield* Effect.either(transact(provide(body)))
        if (Either.isLeft(committed)) return yield* Effect.logError("plan tick failed; the next tick re-derives its actions", committed.left.message)
        yield* Effect.all(journal.afterCommit, { discard: true })
        yield* writer.appendAll(journal.deferredEntries)
        yield* Ref.update(stateRef, (s) => ({ ...s, lastPlanAt: now }))
      }).pipe(Effect.withSpan("CpReducer.runPlan"))

      const handleBatch = (batch: ReadonlyArray<ReducerInput>) =>
        Effect.gen(function* () {
          let group: Array<ReducerInput> = []
          const flush = Effect.suspend(() => {
            const g = group
            group = []
            return g.length > 0 ? runGroup(g) : Effect.void
          })
          for (const input of batch) {
            if (isGrouped(input)) {
              group.push(input)
              continue
            }
            yield* flush
            if (input._tag === "Barrier") {
              yield* Deferred.succeed(input.reply, undefined)
              continue
            }
            if (input._tag === "ManifestSetUpdated") {
              // Index the manifests once per update; every tick until the next update reuses it.
              const manifests = { ...input.manifests, set: prepareManifestSet(input.manifests.set) }
              yield* Ref.update(stateRef, (s) => ({ ...s, manifests }))
            }
            yield* runPlan
          }
          yield* flush
        }).pipe(Effect.catchAllCause((cause) => Effect.logError("reducer batch failed; carrying on", cause)))

      // The first input, then (after pending I/O) whatever else is waiting, up to MAX_GROUP.
      const takeGroup = Effect.gen(function* () {
        const first = yield* Queue.take(queue)
        yield* afterPendingIo
        const rest = yield* Queue.takeUpTo(queue, MAX_GROUP - 1)
        return [first, ...rest]
      })
      yield* Effect.forkScoped(Effect.forever(Effect.flatMap(takeGroup, handleBatch)))
      yield* Effect.forkScoped(
        Effect.schedule(Queue.offer(queue, ReducerInput.PlanTick()), Schedule.spaced(config.planInterval))
      )

      return {
        offer: (input) => Queue.offer(queue, input),
        state: Ref.get(stateRef),
        backlog: Queue.size(queue),
        barrier: Effect.gen(function* () {
          const reply = yield* Deferred.make<void>()
          yield* Effect.repeat(Queue.offer(queue, ReducerInput.Barrier({ reply })), {
            until: (accepted) => accepted,
            schedule: Schedule.spaced("10 millis")
          })
          yield* Deferred.await(reply)
        })
      } satisfies CpReducerService
    })
  )
