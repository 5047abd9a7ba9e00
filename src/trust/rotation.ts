/**
 * Declarative key-rotation reminders: which trust.json slots are due for rotation at `now`.
 *
 * Invariant: informational only and pure. A slot is due when it declares a `successor` and a
 * `retireAt`, and `now >= retireAt`; the reminder is re-emitted on every check until the operator
 * promotes the keys (current → previous, successor → current). Nothing here mutates trust roots.
 */
import { Schema } from "effect"
import type { Timestamp } from "../domain/time.js"
import { Timestamp as TimestampSchema } from "../domain/time.js"
import type { KeySlot, TrustConfig } from "../domain/trust.js"

/** The trust.json slots that rotate. */
export const TrustSlotName = Schema.Literal("ciReleaseKey", "orgRootKey").annotations({ identifier: "TrustSlotName" })
/** A trust.json slot that rotates. */
export type TrustSlotName = typeof TrustSlotName.Type

/** "Rotate this slot now": the slot passed its `retireAt` with a successor declared. */
export const RotateTrustRoot = Schema.TaggedStruct("RotateTrustRoot", {
  which: TrustSlotName,
  retireAt: TimestampSchema
}).annotations({ identifier: "RotateTrustRoot" })
/** "Rotate this slot now". */
export type RotateTrustRoot = typeof RotateTrustRoot.Type

/** The slot's `retireAt` when its rotation is due at `now` (`now >= retireAt`, successor set). */
export const rotationDueAt = (slot: KeySlot, now: number): Timestamp | undefined =>
  slot.successor !== null && slot.retireAt !== null && now >= slot.retireAt ? slot.retireAt : undefined

/** One reminder per due slot, `ciReleaseKey` first, then `orgRootKey`. */
export const checkTrustRotations = (trust: TrustConfig, now: number): ReadonlyArray<RotateTrustRoot> => {
  const slots: ReadonlyArray<readonly [TrustSlotName, KeySlot | null]> = [
    ["ciReleaseKey", trust.ciReleaseKey],
    ["orgRootKey", trust.orgRootKey]
  ]
  return slots.flatMap(([which, slot]) => {
    const retireAt = slot === null ? undefined : rotationDueAt(slot, now)
    return retireAt === undefined ? [] : [RotateTrustRoot.make({ which, retireAt })]
  })
}
