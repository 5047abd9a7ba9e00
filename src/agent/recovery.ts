/**
 * The boot-recovery handshake (spec §5.1 step 2, with DESIGN.md's "seq never goes backwards"):
 * before the agent takes dispatches it
 * 1. records, per rollout, the highest seq waiting in the outbound queue (never reused);
 * 2. delivers those events (an earlier run's), so the CP's view is complete;
 * 3. heartbeats without a rollout id, reporting the running closure — the CP synthesises what a
 *    restart cut short (a switch that finished, a rollback whose ack was lost) and answers with
 *    the host's active records;
 * 4. verifies fleet.resolved and caches the channel policies;
 * 5. rehydrates every snapshot (`mergeSnapshot` + the rehydration effects) in the reducer;
 * 6. completes a Deferred record whose target is now running (see `completeDeferred`).
 *
 * Invariants: every step that needs the CP retries with backoff until it succeeds (the agent has
 * nothing to do without its CP), except the policy fetch, which is logged and left to the
 * heartbeat when fleet.resolved cannot be verified; the reducer has applied every snapshot
 * before this returns.
 */
import { Effect, Option, Schedule } from "effect"
import type { ClosureHash, RolloutId } from "../domain/ids.js"
import { now } from "../ports/clock.js"
import type { ActivatorService } from "../ports/activator.js"
import type { ControlPlaneClientService } from "../ports/controlPlaneClient.js"
import type { OutboundQueueService } from "../ports/outboundQueue.js"
import type { ResolvedAgentConfig } from "./config.js"
import { AgentInput } from "./input.js"
import type { PolicySource } from "./policySource.js"
import type { AgentReducer } from "./reducer.js"
import { cpBackoff, retryUnavailable } from "./retry.js"
import type { Drainer } from "./workers/drainer.js"

/** What the handshake uses. */
export interface HandshakeDeps {
  readonly config: ResolvedAgentConfig
  readonly client: ControlPlaneClientService
  readonly activator: ActivatorService
  readonly outbound: OutboundQueueService
  readonly reducer: AgentReducer
  readonly drainer: Drainer
  readonly policies: PolicySource
  /** How many events the CP has accepted from this agent (see `AgentReducerDeps.acceptedEvents`). */
  readonly acceptedEvents: Effect.Effect<number>
}

/** What the handshake found (for logs and tests). */
export interface HandshakeOutcome {
  /** Events an earlier run left in the outbound queue. */
  readonly pendingEvents: number
  /** Records the CP reported as active. */
  readonly rehydrated: number
}

/** A storage failure at boot is retried from 1 s, backing off to once a minute. */
const STORAGE_RETRY = Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("60 seconds")))

/** The highest queued seq per rollout, and how many events are queued. */
const seqFloors = (deps: HandshakeDeps) =>
  Effect.gen(function* () {
    const size = yield* deps.outbound.size
    const pending = yield* deps.outbound.peek(size)
    const floors = new Map<RolloutId, number>()
    for (const entry of pending) floors.set(entry.rolloutId, Math.max(entry.event.seq, floors.get(entry.rolloutId) ?? 0))
    return { floors, pending: pending.length }
  }).pipe(
    Effect.tapError((error) => Effect.logWarning("outbound queue unreadable at boot; retrying", { reason: error.message })),
    Effect.retry(STORAGE_RETRY),
    // Both retry schedules never end: these failures cannot escape.
    Effect.orDie
  )

/**
 * Decision (where the reference leaves it to the CP): a record rehydrated Deferred whose target
 * the host now runs had its switch completed by the reboot the deferral waited for, so the agent
 * reports the completion itself (`LocalActivationCompleted`, legal from Deferred), as the CP's
 * synthesis would have done. The CP synthesises it from the handshake's heartbeat only when it
 * can (it had verified manifests, its record was Deferred); when it could not, the agent used to
 * keep a Deferred record for a switch that had happened, and after a database wipe (the CP's
 * rebuilt record then settles by synthesis at lower seqs) for good. The agent's event goes
 * through its outbound queue; while it waits there, heartbeats do not report the running closure,
 * so the CP does not synthesise the same completion at the same seq.
 */
const completeDeferred = (deps: HandshakeDeps, running: ClosureHash | null) =>
  Effect.gen(function* () {
    if (running === null) return
    const { records } = yield* deps.reducer.state
    for (const record of records.values()) {
      if (record.state !== "Deferred" || record.targetClosure !== running) continue
      yield* Effect.logInfo("boot handshake: the reboot completed a deferred switch", { rolloutId: record.rolloutId })
      const event = { _tag: "LocalActivationCompleted", observedCurrentClosure: running, exitCode: 0, completedAt: yield* now, seq: 0 } as const
      yield* deps.reducer.offer(AgentInput.HostEvent({ rolloutId: record.rolloutId, event, dispatchedAt: null }))
    }
    yield* deps.reducer.barrier
  })

/** Runs the handshake. */
export const bootHandshake = (deps: HandshakeDeps): Effect.Effect<HandshakeOutcome> =>
  Effect.gen(function* () {
    const { floors, pending } = yield* seqFloors(deps)
    for (const [rolloutId, seq] of floors) yield* deps.reducer.offer(AgentInput.SeqFloor({ rolloutId, seq }))
    yield* deps.drainer.drainFully
    const heartbeat = Effect.gen(function* () {
      const currentClosure = Option.getOrNull(yield* deps.activator.currentClosure)
      const at = yield* now
      const acceptedBefore = yield* deps.acceptedEvents
      const reply = yield* deps.client.heartbeat({ hostname: deps.config.hostname, rolloutId: null, currentClosure, at })
      return { reply, currentClosure, acceptedBefore }
    })
    const { acceptedBefore, currentClosure, reply } = yield* heartbeat.pipe(
      Effect.tapError((error) => Effect.logWarning("boot handshake: heartbeat failed; retrying", { reason: error.message })),
      Effect.retry(cpBackoff),
      Effect.orDie
    )
    yield* retryUnavailable(deps.policies.refresh).pipe(
      Effect.catchAll((error) => Effect.logWarning("boot handshake: no verified policies yet", { reason: error.message }))
    )
    for (const snapshot of reply.bootstrapRollouts) yield* deps.reducer.offer(AgentInput.BootstrapHost({ snapshot, boot: true, acceptedBefore }))
    yield* deps.reducer.barrier
    yield* completeDeferred(deps, currentClosure)
    const outcome = { pendingEvents: pending, rehydrated: reply.bootstrapRollouts.length }
    yield* Effect.logInfo("boot handshake done", outcome)
    return outcome
  }).pipe(Effect.withSpan("Agent.bootHandshake"))
