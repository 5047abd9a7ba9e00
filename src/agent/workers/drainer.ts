/**
 * The outbound drainer: sends queued events to the CP in queue order and deletes each one only
 * after the CP's 2xx (spec §5.5, with the fixes of DESIGN.md and §9.6).
 *
 * Invariants:
 * - an event leaves the OutboundQueue only by `ack`, after the CP answered 2xx (applied and
 *   persisted, or already had it), or after a refusal that can never change (400/404/409/413:
 *   logged with the reason, reported to `onRefused` and dropped, so one bad event cannot block
 *   the queue head forever);
 * - on `CpUnavailable` (or a refusal about the caller, 401/403/426) the pass stops, the event
 *   stays, and the next pass waits a jittered exponential backoff, at least the Retry-After;
 * - passes never overlap (one lock), so an event is never in flight twice from this agent;
 * - the worker drains on every kick (the applier kicks after each enqueue); the fallback interval
 *   only applies after a pass that failed unexpectedly, so an idle agent's drainer never wakes.
 */
import { Data, type Duration, Effect, type Queue, Ref, Schedule } from "effect"
import { type ControlPlaneClientService, type CpError, CpUnavailable, isPermanentRejection } from "../../ports/controlPlaneClient.js"
import type { StorageError } from "../../ports/errors.js"
import type { OutboundQueueService, QueuedEvent } from "../../ports/outboundQueue.js"
import { cpBackoff } from "../retry.js"

/** Entries read per `peek`: a small batch keeps the pass responsive to acks. */
const BATCH = 32

/** How a pass ended. */
export type DrainOutcome = Data.TaggedEnum<{
  /** The queue is empty. */
  Drained: {}
  /** The pass stopped at an event the CP could not take now (or the queue could not be read). */
  Blocked: { readonly error: CpError }
}>
/** Constructors of {@link DrainOutcome}. */
export const DrainOutcome = Data.taggedEnum<DrainOutcome>()

/** What the drainer uses. */
export interface DrainerDeps {
  readonly outbound: OutboundQueueService
  readonly client: ControlPlaneClientService
  /** Kicks from the applier (a new event was queued). */
  readonly kicks: Queue.Dequeue<void>
  /** The fallback period between passes after a pass failed unexpectedly. */
  readonly interval: Duration.Duration
  /** Called when the CP accepted an entry, before it is acked (removed from the queue). */
  readonly onAccepted?: (entry: QueuedEvent) => Effect.Effect<void>
  /** Called after the CP accepted an entry (and it was acked). */
  readonly onDelivered: (entry: QueuedEvent) => Effect.Effect<void>
  /** Called after the CP refused an entry for good (it is dropped). */
  readonly onRefused?: (entry: QueuedEvent) => Effect.Effect<void>
}

/** The drainer as the agent uses it. */
export interface Drainer {
  /** One pass: sends until the queue is empty or the CP cannot take an event. */
  readonly pass: Effect.Effect<DrainOutcome>
  /** Passes, with backoff between blocked ones, until the queue is empty. */
  readonly drainFully: Effect.Effect<void>
  /** Events dropped because the CP refused them for good, since start. */
  readonly dropped: Effect.Effect<number>
  /** The worker loop: a drain on every kick (and every interval after an unexpected failure). */
  readonly worker: Effect.Effect<never>
}

const storageBlocked = (error: StorageError): DrainOutcome =>
  DrainOutcome.Blocked({ error: new CpUnavailable({ reason: `outbound queue: ${error.message}`, retryAfterSeconds: null }) })

/** Builds the drainer. */
export const makeDrainer = (deps: DrainerDeps): Effect.Effect<Drainer> =>
  Effect.gen(function* () {
    const lock = yield* Effect.makeSemaphore(1)
    const dropped = yield* Ref.make(0)

    /** Sends one entry; `undefined` when it may be acked, the error when the pass must stop. */
    const send = (entry: QueuedEvent): Effect.Effect<CpError | undefined> =>
      deps.client.postEvent({ hostname: entry.hostname, rolloutId: entry.rolloutId, event: entry.event }).pipe(
        Effect.as(undefined),
        Effect.catchAll((error) =>
          isPermanentRejection(error)
            ? Effect.as(
                Effect.all([
                  Ref.update(dropped, (n) => n + 1),
                  Effect.logError("event dropped: the CP refused it for good", {
                    rolloutId: entry.rolloutId,
                    seq: entry.event.seq,
                    kind: entry.event._tag,
                    status: error._tag === "CpRejected" ? error.status : null,
                    reason: error.message
                  }),
                  deps.onRefused?.(entry) ?? Effect.void
                ]),
                undefined
              )
            : Effect.succeed(error)
        )
      )

    const pass: Effect.Effect<DrainOutcome> = lock.withPermits(1)(
      Effect.gen(function* () {
        while (true) {
          // A corrupt entry is removed (and logged by the queue) so it cannot block the head forever.
          const batch = yield* deps.outbound.peek(BATCH).pipe(
            Effect.catchTag("StorageError", (error) =>
              error.reason !== "Decode"
                ? Effect.fail(error)
                : Effect.flatMap(deps.outbound.discardCorrupt, (n) => (n > 0 ? Effect.succeed(null) : Effect.fail(error)))
            )
          )
          if (batch === null) continue
          if (batch.length === 0) return DrainOutcome.Drained()
          for (const entry of batch) {
            const error = yield* send(entry)
            if (error !== undefined) return DrainOutcome.Blocked({ error })
            if (deps.onAccepted !== undefined) yield* deps.onAccepted(entry)
            yield* deps.outbound.ack(entry.rolloutId, entry.event.seq)
            yield* deps.onDelivered(entry)
          }
        }
      }).pipe(Effect.catchTag("StorageError", (error) => Effect.succeed(storageBlocked(error))))
    )

    const drainFully = Effect.gen(function* () {
      const backoff = yield* Schedule.driver(cpBackoff)
      while (true) {
        const outcome = yield* pass
        if (outcome._tag === "Drained") return
        yield* Effect.logWarning("outbound drain blocked; backing off", { reason: outcome.error.message })
        yield* Effect.ignore(backoff.next(outcome.error))
      }
    })

    // After a drain that ended with the queue empty only a kick can bring work (every enqueue
    // kicks, and a sliding kick queue never loses one), so the worker sleeps until one; the
    // interval is the fallback after a pass that failed unexpectedly.
    const kickOrInterval = Effect.raceFirst(deps.kicks.take, Effect.sleep(deps.interval))
    const drainOnce = (wake: Effect.Effect<void>): Effect.Effect<boolean> =>
      Effect.zipRight(wake, drainFully).pipe(
        Effect.as(true),
        Effect.catchAllCause((cause) => Effect.as(Effect.logError("outbound drainer: unexpected failure", cause), false))
      )
    const worker: Effect.Effect<never> = Effect.iterate(true, {
      while: () => true,
      body: (drained) => drainOnce(drained ? deps.kicks.take : kickOrInterval)
    }).pipe(Effect.zipRight(Effect.never))

    return { pass, drainFully, dropped: Ref.get(dropped), worker } satisfies Drainer
  })
