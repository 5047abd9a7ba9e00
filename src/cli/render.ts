/**
 * Plain-text rendering for the CLI: aligned tables and JSON.
 *
 * Invariant: pure string functions; the commands decide what to print, these only format.
 */

/** Renders rows as a left-aligned table with a header line. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)))
  return all.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n")
}

/** Pretty JSON for `--json` output. */
export const json = (value: unknown): string => JSON.stringify(value, null, 2)
