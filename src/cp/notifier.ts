/**
 * Dispatch kicks: wakes the long-polls of hosts that just got a dispatch queued.
 *
 * Invariants: a kick reaches only the waiters of its own host (cost per kick is that host's
 * waiters, not every open long-poll: with one broadcast hub a 10k-host wave woke every waiter on
 * every kick); a kick never blocks its sender (each waiter holds at most one pending kick, later
 * ones are folded into it); a waiter re-checks storage on wake-up and at its own deadline, so a
 * folded kick only saves a wake-up, never loses a dispatch; a subscription leaves the registry
 * when its scope closes.
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
}

/** Wakes dispatch long-polls. */
export class DispatchNotifier extends Context.Tag("effect-fleet/DispatchNotifier")<DispatchNotifier, DispatchNotifierService>() {
  /** An in-process notifier: a registry of each host's waiting long-polls. */
  static readonly layer: Layer.Layer<DispatchNotifier> = Layer.sync(DispatchNotifier, () => {
    // Touched only inside Effect.sync below; one registry per layer build.
    const waiters = new Map<HostId, Set<Queue.Queue<void>>>()
    const register = (host: HostId, queue: Queue.Queue<void>) =>
      Effect.sync(() => {
        const set = waiters.get(host) ?? new Set<Queue.Queue<void>>()
        waiters.set(host, set.add(queue))
      })
    const unregister = (host: HostId, queue: Queue.Queue<void>) =>
      Effect.sync(() => {
        const set = waiters.get(host)
        if (set !== undefined && set.delete(queue) && set.size === 0) waiters.delete(host)
      })
    return {
      kick: (host) =>
        Effect.suspend(() => {
          const set = waiters.get(host)
          return set === undefined ? Effect.void : Effect.forEach(Array.from(set), (queue) => Queue.offer(queue, undefined), { discard: true })
        }),
      subscribe: (host) =>
        Effect.gen(function* () {
          const queue = yield* Queue.sliding<void>(PENDING_KICKS)
          yield* Effect.acquireRelease(register(host, queue), () => unregister(host, queue))
          return Queue.take(queue)
        })
    } satisfies DispatchNotifierService
  })
}
