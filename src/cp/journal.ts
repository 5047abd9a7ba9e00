/**
 * A reducer step's journal: the audit entries and post-commit actions collected while the step
 * runs inside a storage transaction.
 *
 * Invariant: nothing in a journal takes effect before its transaction commits; the reducer
 * appends the entries inside the transaction and runs `afterCommit` only once it succeeded, so a
 * rolled-back step leaves no trace in the log or in memory.
 */
import type { Effect } from "effect"
import type { EventLogEntry } from "../ports/eventLog.js"

/** Collected by one reducer step; local to the reducer fiber. */
export interface Journal {
  /** Entries written in the same transaction as the state change (agent events, transitions). */
  readonly entries: Array<EventLogEntry>
  /** Entries handed to the batched writer after commit (gate decisions, plan actions). */
  readonly deferredEntries: Array<EventLogEntry>
  /** Actions run after commit (in-memory updates, dispatch kicks). */
  readonly afterCommit: Array<Effect.Effect<void>>
}

/** A new, empty journal. */
export const makeJournal = (): Journal => ({ entries: [], deferredEntries: [], afterCommit: [] })
