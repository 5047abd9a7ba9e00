/**
 * The agent reducer: the agent's single mutator. One fiber takes {@link AgentInput}s from one
 * bounded queue, calls `step()` (the same one the CP mirror runs), stores the record, then hands
 * the effects, in order, to the applier.
 *
 * Invariants:
 * - only this fiber calls `step()` and writes the agent state (workers offer inputs, readers get
 *   snapshots);
 * - seq numbers the CP has seen never go backwards: an event gets `max(lastEventSeq, highest seq
 *   already queued for the rollout) + 1`, and a CP snapshot replaces a record only when it is
 *   ahead of it, or level with it but in another state (see `snapshotWins`; an agent whose newer
 *   events are still queued keeps its own record) — the one seq given back is that of a Converged
 *   the CP refused for good, once nothing of its rollout is queued (see `takesBackRefusedConverged`);
 * - a refused event (step error, unknown rollout) is logged and changes nothing; a failure while
 *   applying effects is logged and the fiber carries on;
 * - a Converged the CP refused for good does not part the two sides for good: the next snapshot
 *   showing the CP still Soaking takes the record back;
 * - a CP record behind the agent's in another state is brought level: the agent re-reports the
 *   transitions the CP misses (see `catchUp`), judged on a heartbeat snapshot only when nothing
 *   of the rollout is left in the outbound queue and the CP accepted no event after the heartbeat
 *   left (so the snapshot shows all the CP has).
 */
import { Deferred, Effect, Queue, Ref, type Scope } from "effect"
import type { HostEffect } from "../domain/effects.js"
import type { LocalEvent } from "../domain/events.js"
import { type HostRolloutState, newPending } from "../domain/hostState.js"
import { type ChannelId, type ProbeName, rolloutChannel, type RolloutId } from "../domain/ids.js"
import type { OnHealthFailure } from "../domain/policy.js"
import type { HostRolloutSnapshot } from "../domain/snapshot.js"
import type { Timestamp } from "../domain/time.js"
import { now } from "../ports/clock.js"
import { advanceTick } from "../machine/advance.js"
import { catchUpEvents, type CpView } from "../machine/catchUp.js"
import { step } from "../machine/host.js"
import { mergeSnapshot, rehydrationEffects } from "../machine/rehydrate.js"
import { type ApplierDeps, applyAgentEffect } from "./applier.js"
import { AgentInput } from "./input.js"

/**
 * Input queue capacity: 64, the reference's. Six producers (a probe run offers up to three
 * events, the others one at a time); workers wait for room, so a full queue slows them down
 * and never drops an input.
 */
export const AGENT_QUEUE_CAPACITY = 64

/** What the reducer keeps; read-only for everyone but the reducer fiber. */
export interface AgentState {
  /** The agent's record of each rollout it has taken part in. */
  readonly records: ReadonlyMap<RolloutId, HostRolloutState>
  /** Each channel's verified `onHealthFailure` (from fleet.resolved). */
  readonly policies: ReadonlyMap<ChannelId, OnHealthFailure>
  /** The highest seq found in the outbound queue at boot, per rollout: never reused. */
  readonly seqFloors: ReadonlyMap<RolloutId, number>
  /** Per rollout, the seq of the agent's Converged event the CP refused for good (until taken back). */
  readonly refusedConverged: ReadonlyMap<RolloutId, number>
}

/** The reducer as the other parts of the agent see it. */
export interface AgentReducer {
  /** Offers an input, waiting while the queue is full. */
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** The current state. */
  readonly state: Effect.Effect<AgentState>
  /** Waits until every input offered before the call has been processed. */
  readonly barrier: Effect.Effect<void>
}

/** What the reducer uses: the applier's dependencies, and whom to tell when a record changed. */
export interface AgentReducerDeps extends ApplierDeps {
  /** Run after every input that changed a record (the advance ticker re-plans on it). */
  readonly recordsChanged?: Effect.Effect<void>
  /** The declared enforce probes: each must have passed before soak completion (see `advanceTick`). */
  readonly requiredProbes?: ReadonlyArray<ProbeName>
  /**
   * How many events the CP has accepted (2xx) from this agent since start, counted before each is
   * removed from the outbound queue (see `BootstrapHost.acceptedBefore`); none when absent.
   */
  readonly acceptedEvents?: Effect.Effect<number>
}

const withEntry = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> => new Map(map).set(key, value)

/**
 * `record` with the CP's soak deadline `due` when that is later than its own, else `record` itself.
 * The deadline is the CP's to set: it re-times the soak of a Pending host at its first dispatch
 * (and again if the deadline passed before anyone took it), so a value the agent got earlier can
 * be behind the CP's; a Converged sent before the CP's deadline would be refused (409 Invariant)
 * and the two sides would part ways.
 */
const withLaterSoakDeadline = (record: HostRolloutState, due: Timestamp | null): HostRolloutState =>
  due !== null && (record.soakDueAt === null || due > record.soakDueAt) ? { ...record, soakDueAt: due } : record

/**
 * Whether a CP snapshot replaces the agent's record: when the agent has none, when the snapshot is
 * strictly ahead (events the agent did not make: the CP's synthesis, or a record the agent lost in
 * a restart), or — decision — when it is level with it but in another state. Within one CP
 * storage the same seq means the same event through the same `step()`, hence the same state, so a
 * level record in another state means the two sides numbered different histories: a CP rebuilt
 * after a database wipe synthesises its record's seqs from its own count (its Pending → Converged
 * chain takes seqs 1-3), or it synthesised an event at a seq whose own event from the agent it
 * then dropped as a duplicate. The CP's record is the one the fleet is planned on and the agent has
 * nothing newer, so the agent takes it; keeping its own (the rule before) left a stale Deferred or
 * Pending record on the agent for good (sim, all faults + wipe, seed 5).
 */
const snapshotWins = (existing: HostRolloutState | undefined, snapshot: HostRolloutSnapshot): boolean =>
  existing === undefined ||
  snapshot.lastEventSeq > existing.lastEventSeq ||
  (snapshot.lastEventSeq === existing.lastEventSeq && snapshot.state !== existing.state)

/**
 * Whether `snapshot` takes back the agent's Converged record whose Converged event the CP refused
 * for good (`refusedSeq`): the CP still holds the record Soaking on the same target, behind it.
 *
 * Decision (where the reference drops the refused event and the two sides stay parted for good:
 * the CP keeps the host Soaking, so the rollout never ends): a Converged is refused when it is
 * dated before the CP's soak deadline, and the CP's deadline can be later than the one the agent
 * soaked to — the CP restarts a passed deadline when it queues the dispatch again before the
 * agent's ack (in flight, or held while the CP was down) reaches it, and a CP rebuilt after a
 * wipe times its own (sim, all faults + wipe, seed 42). The agent takes the CP's Soaking record
 * back (keeping its probes), soaks to the CP's deadline and reports Converged again. It takes the
 * CP's seq too, so its next Converged has the refused one's seq: the CP never took that seq,
 * nothing of the rollout is left in the outbound queue (checked before taking the record back),
 * and the CP's log stays contiguous; seqs the CP has seen never go backwards, and a late copy of
 * the refused event is refused again (still dated before the deadline) or, after the new one, a
 * duplicate.
 */
const takesBackRefusedConverged = (existing: HostRolloutState, snapshot: HostRolloutSnapshot, refusedSeq: number | undefined): boolean =>
  existing.state === "Converged" &&
  refusedSeq === existing.lastEventSeq &&
  snapshot.state === "Soaking" &&
  snapshot.lastEventSeq < existing.lastEventSeq &&
  snapshot.targetClosure === existing.targetClosure

/**
 * Rehydration effects as the agent applies them: `rehydrationEffects` asks for a probe reset in
 * every non-Pending state, but probe events are legal only in Soaking (step() would refuse the
 * others), so the reset is kept only there. Decision (where the reference does nothing): a
 * record the boot handshake finds Activating had its switch cut short by the restart (had it
 * finished, the handshake's heartbeat would have let the CP synthesise the completion), so the
 * switch is fired again; its Started/Completed events are legal from Activating.
 *
 * The same holds for a record any later snapshot brings Activating when this agent process never
 * fired its switch — it held no record of the rollout, or held it Pending (the agent steps its own
 * record to Activating before it fires): an earlier process acked and was cut short. Decision (sim,
 * all faults, halting canary, 2 × 4 hosts, seed 4249): an agent killed mid-activation restarted
 * while the CP was down after a wipe; the rebuilt CP had no record at the handshake and rebuilt it
 * Activating only from the earlier process's queued ack, delivered afterwards; the heartbeat that
 * brought that record did not fire the switch, and the host stayed Activating for the 12 h limit.
 */
const effectsAfterRehydration = (record: HostRolloutState, refire: boolean): ReadonlyArray<HostEffect> => {
  const effects = rehydrationEffects(record).filter((e) => e._tag !== "LocalResetProbeCache" || record.state === "Soaking")
  return refire && record.state === "Activating"
    ? [...effects, { _tag: "LocalFireSwitch", rolloutId: record.rolloutId, target: record.targetClosure }]
    : effects
}

/** Whether this agent process never fired the switch of a record it held as `existing` (see {@link effectsAfterRehydration}). */
const neverFired = (existing: HostRolloutState | undefined): boolean => existing === undefined || existing.state === "Pending"

/** Starts the reducer fiber in the current scope. */
export const makeAgentReducer = (deps: AgentReducerDeps): Effect.Effect<AgentReducer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.bounded<AgentInput>(AGENT_QUEUE_CAPACITY)
    const ref = yield* Ref.make<AgentState>({ records: new Map(), policies: new Map(), seqFloors: new Map(), refusedConverged: new Map() })
    const acceptedEvents = deps.acceptedEvents ?? Effect.succeed(0)
    const apply = (effects: ReadonlyArray<HostEffect>, at: Timestamp) =>
      Effect.forEach(effects, (effect) => applyAgentEffect(deps, effect, at), { discard: true })

    const hostEvent = (rolloutId: RolloutId, event: LocalEvent, dispatchedAt: Timestamp | null) =>
      Effect.gen(function* () {
        const at = yield* now
        const state = yield* Ref.get(ref)
        let record = state.records.get(rolloutId)
        if (record === undefined) {
          if (event._tag !== "LocalActivate") {
            return yield* Effect.logDebug("event for a rollout this agent has no record of; dropped", { rolloutId, event: event._tag })
          }
          // Decision: the agent's record carries the real hostname (the reference writes "self"),
          // so the agent's record and the CP's mirror are the same value.
          record = newPending({
            rolloutId,
            hostname: deps.hostname,
            channel: rolloutChannel(rolloutId),
            targetClosure: event.targetClosure,
            dispatchedAt: dispatchedAt ?? at,
            soakDueAt: event.soakDueAt
          })
        }
        // Decision: a Pending record the agent already holds (from a heartbeat snapshot taken before
        // the CP re-timed the soak at dispatch) takes the dispatch's later deadline (sim netDrop seed 6).
        if (event._tag === "LocalActivate" && record.state === "Pending") record = withLaterSoakDeadline(record, event.soakDueAt)
        const policy = state.policies.get(record.channel)
        if (policy === undefined) {
          yield* Effect.logWarning("no verified policy for the channel; stepping with halt", { rolloutId, channel: record.channel })
        }
        const seq = Math.max(record.lastEventSeq, state.seqFloors.get(rolloutId) ?? 0) + 1
        const result = step(record, { ...event, seq }, at, { onHealthFailure: policy ?? "halt" })
        if (result._tag === "Left") {
          return yield* Effect.logWarning("event refused by the state machine; dropped", { rolloutId, event: event._tag, error: result.left.message })
        }
        yield* Ref.update(ref, (s) => ({ ...s, records: withEntry(s.records, rolloutId, result.right.state) }))
        yield* apply(result.right.effects, at)
      })

    const advance = Effect.gen(function* () {
      const at = yield* now
      const { policies, records } = yield* Ref.get(ref)
      for (const record of records.values()) {
        const event = advanceTick(record, at, policies.get(record.channel) ?? null, deps.requiredProbes ?? [])
        if (event !== undefined) yield* hostEvent(record.rolloutId, event, null)
      }
    })

    /**
     * Decision: a snapshot with a later soak deadline moves the agent's forward (see
     * `withLaterSoakDeadline`) even when the agent's record is ahead of the snapshot.
     */
    const adoptSoakDeadline = (existing: HostRolloutState, snapshot: HostRolloutSnapshot) =>
      Effect.gen(function* () {
        if (existing.state === "Converged" || existing.state === "Reverted") return
        const adopted = withLaterSoakDeadline(existing, snapshot.soakDueAt)
        if (adopted === existing) return
        yield* Ref.update(ref, (s) => ({ ...s, records: withEntry(s.records, existing.rolloutId, adopted) }))
        yield* Effect.logInfo("soak deadline moved to the CP's", { rolloutId: existing.rolloutId, soakDueAt: adopted.soakDueAt })
      })

    /** Whether an event of the rollout is still waiting in the outbound queue (unreadable: assumed so). */
    const anyQueued = (rolloutId: RolloutId) =>
      deps.outbound.size.pipe(
        Effect.flatMap((size) => deps.outbound.peek(size)),
        Effect.map((entries) => entries.some((e) => e.rolloutId === rolloutId)),
        Effect.orElseSucceed(() => true)
      )

    /** Takes the CP's Soaking record back over the agent's refused Converged (see `takesBackRefusedConverged`). */
    const resumeSoak = (existing: HostRolloutState, snapshot: HostRolloutSnapshot) =>
      Effect.gen(function* () {
        if (yield* anyQueued(existing.rolloutId)) return
        const soaking = { ...mergeSnapshot({ ...existing, lastEventSeq: snapshot.lastEventSeq }, snapshot), convergedAt: null }
        yield* Ref.update(ref, (s) => {
          const refusedConverged = new Map(s.refusedConverged)
          refusedConverged.delete(existing.rolloutId)
          return { ...s, records: withEntry(s.records, existing.rolloutId, soaking), refusedConverged }
        })
        yield* Effect.logWarning("the CP refused this agent's Converged and still holds the host Soaking: soaking again to its deadline", {
          rolloutId: existing.rolloutId,
          soakDueAt: soaking.soakDueAt
        })
        yield* apply(effectsAfterRehydration(soaking, false), yield* now)
      })

    /**
     * Re-reports the transitions the CP's record (`cp`, from a heartbeat snapshot) misses, so the
     * CP mirrors the agent again (`catchUpEvents`: the agent's own transitions, rebuilt from its
     * record, stepped by the CP through the same `step()`). Only when the snapshot shows all the
     * CP has: nothing of the rollout is left in the outbound queue (an event still queued may be
     * what the CP misses), and the CP accepted no event after the heartbeat left (read after the
     * queue: an event is counted before it leaves the queue). Otherwise the next beat looks again.
     * The record keeps its state; its seq moves up to the last event's when that is above it.
     *
     * Decision (where the reference drops the refused events and the two sides stay parted: after
     * a database wipe the rebuilt CP held a soaking host Pending for good, refused its probe
     * results, and the agent ignored every dispatch as "already acked", sim cpWipe seed 68; a
     * failed or rolled-back host was never mirrored again, so its quarantine was lost). A Pending
     * CP record is caught up too, without waiting for the CP to dispatch the host again: the host
     * really did switch, on a dispatch an earlier CP storage decided under its gates, and a record
     * the CP holds Pending is outside the disruption budget it plans the rest of the fleet with.
     */
    const catchUp = (existing: HostRolloutState, cp: CpView, acceptedBefore: number | undefined) =>
      Effect.gen(function* () {
        const events = catchUpEvents(cp, existing)
        const last = events.at(-1)
        if (last === undefined || (yield* anyQueued(existing.rolloutId))) return
        if (acceptedBefore !== undefined && (yield* acceptedEvents) !== acceptedBefore) return
        if (last.seq > existing.lastEventSeq) {
          yield* Ref.update(ref, (s) => ({ ...s, records: withEntry(s.records, existing.rolloutId, { ...existing, lastEventSeq: last.seq }) }))
        }
        yield* Effect.logWarning("the CP's record is behind this agent's: re-reporting the transitions it misses", {
          rolloutId: existing.rolloutId,
          cp: `${cp.state}@${cp.lastEventSeq}`,
          agent: `${existing.state}@${existing.lastEventSeq}`,
          events: events.map((e) => `${e._tag}@${e.seq}`)
        })
        const at = yield* now
        yield* apply(events.map((payload) => ({ _tag: "LocalEmitEvent", rolloutId: existing.rolloutId, payload, durable: true }) as const), at)
      })

    const bootstrap = (snapshot: HostRolloutSnapshot, boot: boolean, acceptedBefore: number | undefined) =>
      Effect.gen(function* () {
        if (snapshot.hostname !== deps.hostname) {
          return yield* Effect.logWarning("snapshot of another host ignored", { rolloutId: snapshot.rolloutId, hostname: snapshot.hostname })
        }
        const state = yield* Ref.get(ref)
        const existing = state.records.get(snapshot.rolloutId)
        if (existing !== undefined && takesBackRefusedConverged(existing, snapshot, state.refusedConverged.get(snapshot.rolloutId))) {
          return yield* resumeSoak(existing, snapshot)
        }
        if (existing !== undefined && !snapshotWins(existing, snapshot)) {
          yield* adoptSoakDeadline(existing, snapshot)
          const current = (yield* Ref.get(ref)).records.get(snapshot.rolloutId) ?? existing
          return yield* catchUp(current, snapshot, acceptedBefore)
        }
        const merged = mergeSnapshot(existing, snapshot)
        yield* Ref.update(ref, (s) => ({ ...s, records: withEntry(s.records, snapshot.rolloutId, merged) }))
        yield* Effect.logInfo("record rehydrated from the CP", { rolloutId: merged.rolloutId, state: merged.state, seq: merged.lastEventSeq, boot })
        yield* apply(effectsAfterRehydration(merged, boot || neverFired(existing)), yield* now)
      })

    const dispatch = (input: AgentInput): Effect.Effect<void> =>
      AgentInput.$match(input, {
        HostEvent: ({ dispatchedAt, event, rolloutId }) => hostEvent(rolloutId, event, dispatchedAt),
        AdvanceTick: () => advance,
        BootstrapHost: ({ acceptedBefore, boot, snapshot }) => bootstrap(snapshot, boot, acceptedBefore),
        PolicyUpdated: ({ channel, onHealthFailure }) =>
          Ref.update(ref, (s) => ({ ...s, policies: withEntry(s.policies, channel, onHealthFailure) })),
        SeqFloor: ({ rolloutId, seq }) =>
          Ref.update(ref, (s) => ({ ...s, seqFloors: withEntry(s.seqFloors, rolloutId, Math.max(seq, s.seqFloors.get(rolloutId) ?? 0)) })),
        ConvergedRefused: ({ rolloutId, seq }) => Ref.update(ref, (s) => ({ ...s, refusedConverged: withEntry(s.refusedConverged, rolloutId, seq) })),
        Barrier: ({ reply }) => Deferred.succeed(reply, undefined)
      })

    const recordsChanged = deps.recordsChanged ?? Effect.void
    const handle = (input: AgentInput): Effect.Effect<void> =>
      Effect.gen(function* () {
        const before = (yield* Ref.get(ref)).records
        yield* dispatch(input).pipe(
          Effect.catchAllCause((cause) => Effect.logError("agent reducer input failed; carrying on", { input: input._tag, cause }))
        )
        if ((yield* Ref.get(ref)).records !== before) yield* recordsChanged
      })

    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), handle)))

    return {
      offer: (input) => Queue.offer(queue, input).pipe(Effect.asVoid),
      state: Ref.get(ref),
      barrier: Effect.gen(function* () {
        const reply = yield* Deferred.make<void>()
        yield* Queue.offer(queue, AgentInput.Barrier({ reply }))
        yield* Deferred.await(reply)
      })
    } satisfies AgentReducer
  })
