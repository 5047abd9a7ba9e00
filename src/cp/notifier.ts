/**
 * Dispatch kicks: wakes the long-polls of hosts that just got a dispatch queued.
 *
 * Invariant: a kick never blocks its sender (a sliding buffer drops the oldest kick when no one
 * reads; a long-poll re-checks storage on wake-up and on its own deadline, so a dropped kick
 * only delays, never loses, a dispatch).
 */
import { Context, Effect, Layer, PubSub, Queue, type Scope } from "effect"
import type { HostId } from "../domain/ids.js"

/** Kick buffer per subscriber: 256, more than one plan tick queues for a single host's waiter. */
const CAPACITY = 256

/** The notifier's interface. */
export interface DispatchNotifierService {
  /** Signals that `host` has a dispatch queued. Never blocks. */
  readonly kick: (host: HostId) => Effect.Effect<void>
  /** A subscription: `take` completes on the next kick for `host` (scoped). */
  readonly subscribe: (host: HostId) => Effect.Effect<Effect.Effect<void>, never, Scope.Scope>
}

/** Wakes dispatch long-polls. */
export class DispatchNotifier extends Context.Tag("effect-fleet/DispatchNotifier")<DispatchNotifier, DispatchNotifierService>() {
  /** An in-process notifier. */
  static readonly layer: Layer.Layer<DispatchNotifier> = Layer.effect(
    DispatchNotifier,
    Effect.gen(function* () {
      const hub = yield* PubSub.sliding<HostId>(CAPACITY)
      return {
        kick: (host) => PubSub.publish(hub, host).pipe(Effect.asVoid),
        subscribe: (host) =>
          Effect.map(PubSub.subscribe(hub), (sub) =>
            Effect.asVoid(Effect.repeat(Queue.take(sub), { until: (h) => h === host }))
          )
      } satisfies DispatchNotifierService
    })
  )
}
