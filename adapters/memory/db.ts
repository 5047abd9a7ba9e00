/**
 * A transactional in-memory store: one immutable state value in a Ref, a one-permit lock, and
 * snapshot-and-restore transactions. The memory adapters build their services on it.
 *
 * Invariants: every read and write sees a committed state (calls outside a transaction wait for
 * a running transaction to finish); a write that returns an error leaves the state unchanged; a
 * transaction (or nested savepoint) that fails or is interrupted restores the state it started
 * from. State values must be immutable (persistent HashMaps, Chunks), so a snapshot is O(1).
 */
import { Effect, Either, FiberRef, Ref } from "effect"
import type { StorageError } from "../../src/ports/errors.js"

/** A transactional store over state `S`. */
export interface MemoryDb<S> {
  /** Reads the committed state (inside a transaction: the transaction's own state). */
  readonly read: <A>(f: (state: S) => A) => Effect.Effect<A>
  /** Updates the state atomically; `Left` fails the call and keeps the state. */
  readonly write: <A>(f: (state: S) => Either.Either<readonly [A, S], StorageError>) => Effect.Effect<A, StorageError>
  /** Runs `effect` as one transaction (nested: a savepoint). */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Creates a store holding `initial`. */
export const makeMemoryDb = <S>(initial: S): Effect.Effect<MemoryDb<S>> =>
  Effect.gen(function* () {
    const ref = yield* Ref.make(initial)
    const lock = yield* Effect.makeSemaphore(1)
    // Per store: marks fibers that run inside one of this store's transactions.
    const inTransaction = FiberRef.unsafeMake(false)

    const exclusive = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(FiberRef.get(inTransaction), (inside) => (inside ? effect : lock.withPermits(1)(effect)))

    const savepoint = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Ref.get(ref), (snapshot) => Effect.onError(effect, () => Ref.set(ref, snapshot)))

    return {
      read: (f) => exclusive(Effect.map(Ref.get(ref), f)),
      write: <A>(f: (state: S) => Either.Either<readonly [A, S], StorageError>) =>
        exclusive(
          Effect.flatten(
            Ref.modify(ref, (state): readonly [Effect.Effect<A, StorageError>, S] =>
              Either.match(f(state), {
                onLeft: (error) => [Effect.fail(error), state] as const,
                onRight: ([result, next]) => [Effect.succeed(result), next] as const
              })
            )
          )
        ),
      transaction: (effect) =>
        Effect.flatMap(FiberRef.get(inTransaction), (inside) =>
          inside ? savepoint(effect) : lock.withPermits(1)(Effect.locally(savepoint(effect), inTransaction, true))
        )
    }
  })

/** A successful write: its result and the next state. */
export const ok = <A, S>(result: A, state: S): Either.Either<readonly [A, S], StorageError> => Either.right([result, state] as const)
