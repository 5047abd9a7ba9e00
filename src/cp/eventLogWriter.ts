/**
 * The event-log writer: a fiber that drains a bounded queue of audit entries into the EventLog,
 * many entries per transaction.
 *
 * Invariants: the audit log does not fail open — `append` suspends while the queue is full, so a
 * slow database slows its producers (the reducer) and nothing is dropped; a failed batch is
 * logged and retried entry by entry so one bad entry cannot take its neighbours down; closing the
 * scope drains what was queued before it returns.
 */
import { Context, Deferred, Effect, Layer, Queue } from "effect"
import { EventLog, type EventLogEntry } from "../ports/eventLog.js"

/** Queue capacity: 1024 entries, the reference's size; a plan tick of a 1k-host fleet fits whole. */
const CAPACITY = 1024
/** Most entries written in one transaction; larger batches gain little and hold the lock longer. */
const MAX_BATCH = 512

type Item = { readonly _tag: "Entry"; readonly entry: EventLogEntry } | { readonly _tag: "Flush"; readonly done: Deferred.Deferred<void> }

/** The writer's interface. */
export interface EventLogWriterService {
  /** Queues an entry; suspends while the queue is full (backpressure, never a drop). */
  readonly append: (entry: EventLogEntry) => Effect.Effect<void>
  /** Queues entries in order; suspends while the queue is full. */
  readonly appendAll: (entries: Iterable<EventLogEntry>) => Effect.Effect<void>
  /** Completes once every entry queued before the call has been written (or given up on). */
  readonly flush: Effect.Effect<void>
}

/** Writes audit entries in batches, off the reducer's critical section. */
export class EventLogWriter extends Context.Tag("effect-fleet/EventLogWriter")<EventLogWriter, EventLogWriterService>() {
  /** The writer fiber, forked in the layer's scope; needs an EventLog. */
  static readonly layer: Layer.Layer<EventLogWriter, never, EventLog> = Layer.scoped(
    EventLogWriter,
    Effect.gen(function* () {
      const eventLog = yield* EventLog
      const queue = yield* Queue.bounded<Item>(CAPACITY)

      const writeBatch = Effect.fn("EventLogWriter.writeBatch")(function* (items: ReadonlyArray<Item>) {
        const entries = items.flatMap((i) => (i._tag === "Entry" ? [i.entry] : []))
        if (entries.length > 0) {
          yield* eventLog.appendBatch(entries).pipe(
            Effect.catchAll((error) =>
              Effect.logWarning("event-log batch failed; writing entries one by one", error.message).pipe(
                Effect.zipRight(
                  Effect.forEach(entries, (entry) =>
                    eventLog.append(entry).pipe(
                      Effect.catchAll((e) => Effect.logError("event-log entry could not be written", { kind: entry.kind, error: e.message }))
                    ),
                  { discard: true }
                  )
                )
              )
            )
          )
        }
        for (const item of items) if (item._tag === "Flush") yield* Deferred.succeed(item.done, undefined)
      })

      // Finalizers run in reverse order: the fiber is interrupted first (never mid-batch: writes
      // are uninterruptible), then whatever is still queued is written.
      yield* Effect.addFinalizer(() => Effect.flatMap(Queue.takeAll(queue), (rest) => writeBatch(Array.from(rest))))
      yield* Effect.forkScoped(
        Effect.forever(Effect.flatMap(Queue.takeBetween(queue, 1, MAX_BATCH), (c) => Effect.uninterruptible(writeBatch(Array.from(c)))))
      )

      const append = (entry: EventLogEntry) => Queue.offer(queue, { _tag: "Entry", entry }).pipe(Effect.asVoid)
      return {
        append,
        appendAll: (entries) => Effect.forEach(entries, append, { discard: true }),
        flush: Effect.gen(function* () {
          const done = yield* Deferred.make<void>()
          yield* Queue.offer(queue, { _tag: "Flush", done })
          yield* Deferred.await(done)
        })
      } satisfies EventLogWriterService
    })
  )
}
