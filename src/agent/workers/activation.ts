/**
 * The activation worker: runs one switch or rollback at a time, from the intents the applier
 * queues, and reports each outcome as the matching Local event (spec §5.4).
 *
 * Invariants: one intent at a time, in queue order; `busy` is true exactly while an intent runs
 * (the heartbeat reads it); a forward switch is announced (`ActivationStarted`) before it runs;
 * every outcome becomes an event except a failed rollback, which has no legal event (the host
 * is already Failed, spec §9.19) and is logged as an error instead of being sent to be refused.
 */
import { Effect, Either, Queue, Ref } from "effect"
import type { LocalEvent } from "../../domain/events.js"
import type { RolloutId } from "../../domain/ids.js"
import { now } from "../../ports/clock.js"
import { type ActivatorService, failureReport } from "../../ports/activator.js"
import { SWITCH_METHOD } from "../config.js"
import { AgentInput, type ActivationIntent } from "../input.js"

/** What the activation worker uses. */
export interface ActivationWorkerDeps {
  readonly intents: Queue.Dequeue<ActivationIntent>
  readonly activator: ActivatorService
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** True while an intent runs. */
  readonly busy: Ref.Ref<boolean>
}


/** Offers a worker event (seq 0: the reducer assigns it). */
export const emitEvent = (offer: (input: AgentInput) => Effect.Effect<void>, rolloutId: RolloutId, event: LocalEvent) =>
  offer(AgentInput.HostEvent({ rolloutId, event, dispatchedAt: null }))

const forward = (deps: ActivationWorkerDeps, intent: ActivationIntent) =>
  Effect.gen(function* () {
    yield* emitEvent(deps.offer, intent.rolloutId, { _tag: "LocalActivationStarted", startedAt: yield* now, switchMethod: SWITCH_METHOD, seq: 0 })
    const outcome = yield* Effect.either(deps.activator.fireSwitch(intent.target))
    const at = yield* now
    const event: LocalEvent = Either.match(outcome, {
      onLeft: (failure) => ({ _tag: "LocalActivationFailed", ...failureReport(failure), failedAt: at, seq: 0 }),
      onRight: (done) =>
        done._tag === "FiredAndPolled"
          ? { _tag: "LocalActivationCompleted", observedCurrentClosure: done.observed, exitCode: 0, completedAt: at, seq: 0 }
          : { _tag: "LocalActivationDeferred", component: done.component, deferredAt: at, seq: 0 }
    })
    yield* emitEvent(deps.offer, intent.rolloutId, event)
  })

const rollback = (deps: ActivationWorkerDeps, intent: ActivationIntent) =>
  Effect.gen(function* () {
    const outcome = yield* Effect.either(deps.activator.fireRollback)
    if (Either.isLeft(outcome)) {
      return yield* Effect.logError("rollback failed; the host stays Failed on the new closure", {
        rolloutId: intent.rolloutId,
        ...failureReport(outcome.left)
      })
    }
    yield* emitEvent(deps.offer, intent.rolloutId, {
      _tag: "LocalRollbackCompleted",
      revertedToClosure: outcome.right,
      exitCode: 0,
      completedAt: yield* now,
      seq: 0
    })
  })

/** The worker loop (never ends; interrupt it to stop). */
export const activationWorker = (deps: ActivationWorkerDeps): Effect.Effect<never> =>
  Effect.forever(
    Effect.flatMap(Queue.take(deps.intents), (intent) =>
      Effect.zipRight(
        Ref.set(deps.busy, true),
        (intent.rollback ? rollback(deps, intent) : forward(deps, intent)).pipe(
          Effect.withSpan(intent.rollback ? "Agent.rollback" : "Agent.activate", { attributes: { rolloutId: intent.rolloutId } }),
          Effect.catchAllCause((cause) => Effect.logError("activation worker: unexpected failure", cause)),
          Effect.ensuring(Ref.set(deps.busy, false))
        )
      )
    )
  )
