/**
 * Seeded jitter for the simulator: `unit(seed, key)` is a number in [0, 1) derived from the seed
 * and a key (a host name and what is being drawn), so every draw is independent of draw order.
 *
 * Invariant: pure; the same (seed, key) always gives the same number.
 */

/** A number in [0, 1) determined by `seed` and `key` (FNV-1a over the key, then a mulberry32 round). */
export const unit = (seed: number, key: string): number => {
  let h = (0x811c9dc5 ^ Math.trunc(seed)) >>> 0
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  let t = (h + 0x6d2b79f5) >>> 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** An integer in [min, max] determined by `seed` and `key`. */
export const between = (seed: number, key: string, min: number, max: number): number =>
  min + Math.floor(unit(seed, key) * (max - min + 1))
