/**
 * Assertion helpers for reducer results.
 *
 * Invariant: each helper fails the test (with the unexpected value) instead of returning a
 * default, so a wrong branch can never pass silently.
 */
import { expect } from "@effect/vitest"
import { Either } from "effect"

/** Asserts a Right and returns its value. */
export const right = <A, E>(result: Either.Either<A, E>): A => {
  if (Either.isLeft(result)) expect.fail(`expected success, got error ${JSON.stringify(result.left)}`)
  return (result as Either.Right<E, A>).right
}

/** Asserts a Left and returns its error. */
export const left = <A, E>(result: Either.Either<A, E>): E => {
  if (Either.isRight(result)) expect.fail(`expected an error, got ${JSON.stringify(result.right)}`)
  return (result as Either.Left<E, A>).left
}
