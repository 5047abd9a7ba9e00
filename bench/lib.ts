/**
 * Benchmark harness types and helpers shared by every suite in bench/suites.
 *
 * Invariant: benchmarks only measure and report; nothing here asserts a time (targets are shown
 * beside the measured figure, never enforced by a test).
 */
import { performance } from "node:perf_hooks"

/** One line of the results table. */
export interface BenchRow {
  /** What was measured, e.g. "host step() happy path, 100k hosts". */
  readonly benchmark: string
  /** The measured figure with its unit, e.g. "3.1 M transitions/s". */
  readonly result: string
  /** The target from the issue, e.g. ">= 2 M transitions/s", or "" when there is none. */
  readonly target: string
  /** Whether the target was met; null when there is no target. */
  readonly met: boolean | null
}

/** A benchmark suite: a file in bench/suites exporting `suite`. */
export interface BenchSuite {
  readonly name: string
  readonly run: () => Promise<ReadonlyArray<BenchRow>>
}

/** CPU time this process has used so far (user + system), in milliseconds. */
export const cpuMs = (): number => {
  const { system, user } = process.cpuUsage()
  return (user + system) / 1000
}

/** Runs `fn` and returns its result with the elapsed wall time in milliseconds. */
export const timed = async <A>(fn: () => A | Promise<A>): Promise<{ readonly value: A; readonly ms: number }> => {
  const start = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - start }
}

/** Formats a rate with an SI suffix, e.g. 3_100_000 → "3.10 M". */
export const si = (n: number): string =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(1)

/** The p-th percentile (0–100) of a list of numbers (nearest rank); NaN for an empty list. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}
