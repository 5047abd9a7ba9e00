/**
 * A transactional in-memory store: one immutable state value in a Ref, a one-permit lock, and
 * snapshot-and-restore transactions. The memory adapters build their services on it.
 *
 * Invariants: a read outside a transaction sees the last committed state without waiting (as a
 * SQLite reader in WAL mode does; taking the lock made a read ~35 µs instead of ~4–7 µs on the
 * 2-core bench machine, and reads are the simulator's most frequent storage call); a write outside a transaction waits for a running transaction and
 * commits at once; a write that returns an error leaves the state unchanged; a transaction (or
 * nested savepoint) that fails or is interrupted restores the state it started from, and only
 * a whole transaction that succeeds is committed. State values must be immutable (persistent
 * HashMaps, Chunks), so a snapshot is O(1).
 */
import { Effect, Either, FiberRef, Ref } from "effect"
import type { StorageError } from "../../src/ports/errors.js"

/** A transactional store over state `S`. */
export interface MemoryDb<S> {
  /** Reads the last committed state, without waiting (inside a transaction: the transaction's own state). */
  readonly read: <A>(f: (state: S) => A) => Effect.Effect<A>
  /** Updates the state atomically; `Left` fails the call and keeps the state. */
  readonly write: <A>(f: (state: S) => Either.Either<readonly [A, S], StorageError>) => Effect.Effect<A, StorageError>
  /** Runs `effect` as one transaction (nested: a savepoint). */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Creates a store holding `initial`. */
export const makeMemoryDb = <S>(initial: S): Effect.Effect<MemoryDb<S>> =>
  Effect.gen(function* () {
    // The working state (a running transaction's, uncommitted) and the last committed one.
    const ref = yield* Ref.make(initial)
    const committed = yield* Ref.make(initial)
    const lock = yield* Effect.makeSemaphore(1)
    // Per store: marks fibers that run inside one of this store's transactions.
    const inTransaction = FiberRef.unsafeMake(false)
    const commit = Effect.flatMap(Ref.get(ref), (state) => Ref.set(committed, state))

    const savepoint = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Ref.get(ref), (snapshot) => Effect.onError(effect, () => Ref.set(ref, snapshot)))

    const modify = <A>(f: (state: S) => Either.Either<readonly [A, S], StorageError>) =>
      Effect.flatten(
        Ref.modify(ref, (state): readonly [Effect.Effect<A, StorageError>, S] =>
          Either.match(f(state), {
            onLeft: (error) => [Effect.fail(error), state] as const,
            onRight: ([result, next]) => [Effect.succeed(result), next] as const
          })
        )
      )

    return {
      read: (f) => Effect.flatMap(FiberRef.get(inTransaction), (inside) => Effect.map(Ref.get(inside ? ref : committed), f)),
      write: <A>(f: (state: S) => Either.Either<readonly [A, S], StorageError>) =>
        Effect.flatMap(FiberRef.get(inTransaction), (inside) => (inside ? modify(f) : lock.withPermits(1)(Effect.tap(modify(f), () => commit)))),
      transaction: (effect) =>
        Effect.flatMap(FiberRef.get(inTransaction), (inside) =>
          inside ? savepoint(effect) : lock.withPermits(1)(Effect.tap(Effect.locally(savepoint(effect), inTransaction, true), () => commit))
        )
    }
  })

/** A successful write: its result and the next state. */
export const ok = <A, S>(result: A, state: S): Either.Either<readonly [A, S], StorageError> => Either.right([result, state] as const)
