/**
 * Soak deadlines.
 *
 * Invariant: pure arithmetic on epoch milliseconds; no clock.
 */
import { addMillis, type Timestamp } from "../domain/time.js"

/** `at` plus `soakMinutes` minutes: when a host dispatched at `at` may converge. */
export const computeSoakDueAt = (at: Timestamp, soakMinutes: number): Timestamp => addMillis(at, soakMinutes * 60_000)
