/**
 * Dispatch kicks: wakes the long-polls of hosts that just got a dispatch queued.
 *
 * Invariants: a kick reaches only the waiters of its own host (cost per kick is that host's
 * waiters, not every open long-poll: with one broadcast hub a 10k-host wave woke every waiter on
 * every kick); a kick never blocks its sender (each waiter holds at most one pending kick, later
 * ones are folded into it); a waiter re-checks storage on wake-up and at its own deadline, so a
 * folded kick only saves a wake-up, never loses a dispatch; a subscription leaves the registry
 * when its scope closes (a `listening` one when its body ends, however it ends).
 */
import { Context, Effect, Layer, Queue, type Scope } from "effect"
import type { HostId } from "../domain/ids.js"

/** Pending kicks per waiter: 1 — one pending kick says all many would (the waiter re-reads storage). */
const PENDING_KICKS = 1

/** The notifier's interface. */
export interface DispatchNotifierService {
  /** Signals that `host` has a dispatch queued. Never blocks. */
  readonly kick: (host: HostId) => Effect.Effect<void>
  /** A subscription: `take` completes on the next kick for `host` (scoped). */
  readonly subscribe: (host: HostId) => Effect.Effect<Effect.Effect<void>, never, Scope.Scope>
  /**
   * Runs `body` with a subscription for `host` (its `take` as with {@link subscribe}), removed when
   * `body` ends: the long-poll's form, without a Scope or a queue per wait.
   */
  readonly listening: <A, E, R>(host: HostId, body: (take: Effect.Effect<void>) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** One waiter: called on every kick of its host. */
interface Waiter {
  readonly kick: () => void
}

/** Wakes dispatch long-polls. */
export class DispatchNotifier extends Context.Tag("effect-fleet/DispatchNotifier")<DispatchNotifier, DispatchNotifierService>() {
  /** An in-process notifier: a registry of each host's waiting long-polls. */
  static readonly layer: Layer.Layer<DispatchNotifier> = Layer.sync(DispatchNotifier, () => {
    // Touched only in synchronous steps; one registry per layer build.
    const waiters = new Map<HostId, Set<Waiter>>()
    const add = (host: HostId, waiter: Waiter) => {
      const set = waiters.get(host) ?? new Set<Waiter>()
      waiters.set(host, set.add(waiter))
    }
    const remove = (host: HostId, waiter: Waiter) => {
      const set = waiters.get(host)
      if (set !== undefined && set.delete(waiter) && set.size === 0) waiters.delete(host)
    }
    return {
      kick: (host) =>
        Effect.sync(() => {
          const set = waiters.get(host)
          if (set !== undefined) for (const waiter of Array.from(set)) waiter.kick()
        }),
      subscribe: (host) =>
        Effect.gen(function* () {
          const queue = yield* Queue.sliding<void>(PENDING_KICKS)
          const waiter: Waiter = { kick: () => void queue.unsafeOffer(undefined) }
          yield* Effect.acquireRelease(
            Effect.sync(() => add(host, waiter)),
            () => Effect.sync(() => remove(host, waiter))
          )
          return Queue.take(queue)
        }),
      listening: <A, E, R>(host: HostId, body: (take: Effect.Effect<void>) => Effect.Effect<A, E, R>) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.suspend(() => {
            // The one pending kick (PENDING_KICKS) and the waiting take's wake-up, if one waits.
            let pending = false
            let wake: (() => void) | null = null
            const waiter: Waiter = {
              kick: () => {
                if (wake === null) pending = true
                else wake()
              }
            }
            const take = Effect.async<void>((resume) => {
              if (pending) {
                pending = false
                resume(Effect.void)
                return
              }
              wake = () => {
                wake = null
                resume(Effect.void)
              }
              return Effect.sync(() => {
                wake = null
              })
            })
            add(host, waiter)
            return Effect.ensuring(
              restore(body(take)),
              Effect.sync(() => remove(host, waiter))
            )
          })
        )
    } satisfies DispatchNotifierService
  })
}
