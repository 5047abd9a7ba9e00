/**
 * The agent applier: carries out the effects of the host `step()` on the agent side — switches
 * and rollbacks go to the activation worker, probe resets to the probe worker, and every event to
 * the durable outbound queue, then a kick wakes the drainer.
 *
 * Invariants: an event is written to the OutboundQueue (durably) before anything else is done
 * about it, whatever its `durable` flag (every event is persisted, as the reference does); it
 * leaves the queue only when the CP answered 2xx (the drainer acks it). CP-side effects are
 * logged and dropped. Nothing here calls `step()`.
 */
import { Effect, type Queue, Schedule } from "effect"
import type { HostEffect } from "../domain/effects.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import type { OutboundQueueService } from "../ports/outboundQueue.js"
import type { ActivationIntent } from "./input.js"

/** A failed outbound write is retried 5 times over about 3 s before the event is given up. */
const WRITE_RETRY = Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(5)))

/** What the applier acts on. */
export interface ApplierDeps {
  readonly hostname: HostId
  readonly outbound: OutboundQueueService
  /** The activation worker's intents (bounded; the applier waits for room). */
  readonly activations: Queue.Enqueue<ActivationIntent>
  /** The probe worker's reset commands (sliding: only the latest reset matters). */
  readonly probeResets: Queue.Enqueue<RolloutId>
  /** Wakes the outbound drainer. */
  readonly kick: Effect.Effect<void>
}

/** Carries out one effect of the host `step()` on the agent, at `now`. */
export const applyAgentEffect = (deps: ApplierDeps, effect: HostEffect, now: Timestamp): Effect.Effect<void> => {
  switch (effect._tag) {
    case "LocalFireSwitch":
      return deps.activations.offer({ rolloutId: effect.rolloutId, target: effect.target, rollback: false }).pipe(Effect.asVoid)
    case "LocalFireRollbackTo":
      return deps.activations.offer({ rolloutId: effect.rolloutId, target: effect.closure, rollback: true }).pipe(Effect.asVoid)
    case "LocalResetProbeCache":
      return deps.probeResets.offer(effect.rolloutId).pipe(Effect.asVoid)
    case "LocalEmitEvent":
      return deps.outbound
        .enqueue({ hostname: deps.hostname, rolloutId: effect.rolloutId, createdAt: now, event: effect.payload })
        .pipe(
          Effect.retry(WRITE_RETRY),
          Effect.matchCauseEffect({
            onFailure: (cause) =>
              Effect.logError("outbound queue write failed; the event is lost", {
                rolloutId: effect.rolloutId,
                kind: effect.payload._tag,
                seq: effect.payload.seq,
                cause
              }),
            onSuccess: (added) =>
              added
                ? deps.kick
                : Effect.logWarning("an event with this seq is already queued; the first one stays", {
                    rolloutId: effect.rolloutId,
                    seq: effect.payload.seq
                  })
          })
        )
    case "RecordTransition":
      return Effect.logInfo("host transition", { rolloutId: effect.rolloutId, from: effect.from, to: effect.to })
    case "EmitMetric":
      return Effect.logDebug("metric", effect)
    case "EmitLog":
      return Effect.log(effect.message).pipe(Effect.annotateLogs({ target: effect.target, level: effect.level }))
    case "RemoteQueueDispatch":
    case "RemoteInsertQuarantine":
    case "RemoteOpenRolloutRecord":
    case "RemoteAppendEventLog":
      return Effect.logWarning("CP-side effect reached the agent applier; dropped", { effect: effect._tag })
  }
}
