/**
 * Deterministic iteration order for the planner: map keys in UTF-16 code-unit order.
 *
 * Invariant: the result never depends on the map's insertion order.
 */
import { compareStrings } from "../domain/fleet.js"

/** A map's keys, sorted; O(n) when they are already in order (buildFleetState inserts them sorted). */
export const sortedKeys = <K extends string>(map: ReadonlyMap<K, unknown>): ReadonlyArray<K> => {
  const keys = Array.from(map.keys())
  for (let i = 1; i < keys.length; i++) {
    if (compareStrings(keys[i - 1] as K, keys[i] as K) > 0) return keys.sort(compareStrings)
  }
  return keys
}
