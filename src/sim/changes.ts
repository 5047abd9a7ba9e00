/**
 * A Storage wrapper that counts the writes able to change what the step invariants read (host
 * records, rollouts, quarantines), so the driver checks again only after something changed: an
 * unchanged storage gives the same snapshot, hence the same verdict.
 *
 * Invariant: every call reaches the wrapped storage unchanged; the count moves on every such
 * write and again when a transaction ends (its writes become visible to readers outside it only
 * at commit), so no change can land between two equal counts.
 */
import { Effect } from "effect"
import type { StorageService } from "../ports/storage.js"

/** A monotonic count of storage changes. */
export interface ChangeCounter {
  /** Records a change. */
  readonly bump: () => void
  /** The changes recorded so far. */
  readonly count: () => number
}

/** A fresh counter at 0. */
export const makeChangeCounter = (): ChangeCounter => {
  let changes = 0
  return {
    bump: () => {
      changes++
    },
    count: () => changes
  }
}

/** Wraps `storage` so that every record, rollout or quarantine write (and every transaction's end) bumps `counter`. */
export const countChanges = (storage: StorageService, counter: ChangeCounter): StorageService => {
  const counted = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.ensuring(effect, Effect.sync(counter.bump))
  return {
    ...storage,
    upsertHostRecord: (record) => counted(storage.upsertHostRecord(record)),
    upsertHostRecords: (records) => counted(storage.upsertHostRecords(records)),
    openRollout: (rollout) => counted(storage.openRollout(rollout)),
    recordRolloutTransition: (rolloutId, to, at) => counted(storage.recordRolloutTransition(rolloutId, to, at)),
    setCurrentWave: (rolloutId, wave) => counted(storage.setCurrentWave(rolloutId, wave)),
    pruneFinishedRollouts: (cutoff) => counted(storage.pruneFinishedRollouts(cutoff)),
    insertQuarantine: (record) => counted(storage.insertQuarantine(record)),
    transaction: (effect) => counted(storage.transaction(effect))
  }
}
