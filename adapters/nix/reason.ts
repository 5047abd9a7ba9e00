/**
 * Probe failure reasons: the 512-byte cap (spec §7) and the exec runner's stderr summary.
 *
 * Invariant: `capReason` returns at most {@link REASON_LIMIT_BYTES} bytes of UTF-8, cut on a
 * character boundary, and ends with {@link TRUNCATED} exactly when it cut something.
 */

/** The most bytes a probe failure reason may take. */
export const REASON_LIMIT_BYTES = 512
/** Appended to a reason that was cut. */
export const TRUNCATED = "...[truncated]"

const encoder = new TextEncoder()

/**
 * Caps `reason` at {@link REASON_LIMIT_BYTES} bytes. Decision: the marker counts towards the
 * limit (the reference appends it after 512 bytes), so the cap is a hard bound on what is stored.
 */
export const capReason = (reason: string): string => {
  if (encoder.encode(reason).length <= REASON_LIMIT_BYTES) return reason
  const budget = REASON_LIMIT_BYTES - encoder.encode(TRUNCATED).length
  let bytes = 0
  let end = 0
  for (const char of reason) {
    const size = encoder.encode(char).length
    if (bytes + size > budget) break
    bytes += size
    end += char.length
  }
  return reason.slice(0, end) + TRUNCATED
}

/** The last three non-empty lines of `stderr`, newest first, joined with " / " (spec §7, exec). */
export const stderrSummary = (stderr: string): string =>
  stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .slice(-3)
    .reverse()
    .join(" / ")
