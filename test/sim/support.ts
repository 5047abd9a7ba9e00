/**
 * Shared setup of the simulator's many-seed tests: the small fleet every scenario runs (2
 * channels × 2 hosts, 2 waves, a budget of 1), the seed count (SIM_SEEDS) and the scenario test.
 * Each scenario file is its own vitest file so a pool of several workers runs them in parallel
 * (on 2 cores vitest runs one worker, so they run one after another).
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Fault, simulate, type SimulateOptions, type SimulationResult } from "../../src/sim/index.js"

/**
 * Seeds per fault scenario. The issue asks for 200 per scenario in CI. A small run over the
 * "direct" transport costs about 0.35–0.55 s of CPU (Effect-heavy CP and agent work, mostly the
 * plan ticks and the agents' outbound pipeline; after the memory-adapter trims, 0.34 s CPU /
 * 0.21 s wall for a fault-free run, ~126k Effect instructions of which ~32k the driver's and ~19k
 * the plan ticks', load 2.4 — still 3× from the 0.1 s that 200 seeds need), and vitest runs test files one at a time on 2
 * cores, so 32 seeds keep test/sim near 4.6 minutes (measured: 277 s wall, 278 s CPU, load 1.4–3);
 * 200 would take about 22 minutes. `SIM_SEEDS=200` runs the full count (a soak: run once for
 * every scenario, only cpWipe seed 68 broke, see faults.found.test.ts).
 */
export const SEEDS = Number(process.env.SIM_SEEDS ?? 32)

/** Seeds of the scenarios run over the "http" transport (each run costs more): a tenth of {@link SEEDS}, at least 8. */
export const HTTP_SEEDS = Math.max(8, Math.round(SEEDS / 10))

/** The small fleet of the scenarios, with `faults` injected. */
export const small = (seed: number, faults: ReadonlyArray<Fault>, extra: Partial<SimulateOptions> = {}): SimulateOptions => ({
  seed,
  channels: 2,
  hostsPerChannel: 2,
  waves: 2,
  maxInFlight: 1,
  faults,
  ...extra
})

/** What a scenario says about itself. */
export interface Scenario {
  readonly name: string
  readonly faults: ReadonlyArray<Fault>
  /** How many of the scenario's faults a run injected (must be > 0 over all seeds, 0 for no faults). */
  readonly injected: (result: SimulationResult) => number
  /** Extra options (e.g. no failing canary, the "http" transport). */
  readonly options?: Partial<SimulateOptions>
  /** Seeds 1..seeds (default {@link SEEDS}). */
  readonly seeds?: number
  /**
   * Seeds that break on a known bug outside src/sim (explained in faults.known.test.ts): for
   * them the test asserts the run is still broken, so a fix makes it fail until the seed is
   * taken off this list.
   */
  readonly knownBroken?: ReadonlyArray<number>
}

/**
 * One scenario as a test: for SEEDS seeds, every invariant holds (after every step and at the
 * end) and the outcome is the expected one; the fault really was injected.
 */
export const scenario = ({ faults, injected, knownBroken = [], name, options, seeds = SEEDS }: Scenario) =>
  it.live(
    `${name}: ${seeds} seeds, every invariant holds and the outcome is the expected one`,
    () =>
      Effect.gen(function* () {
        let total = 0
        for (let seed = 1; seed <= seeds; seed++) {
          const result = yield* simulate(small(seed, faults, { ...options, ...(knownBroken.includes(seed) ? { maxHours: 2 } : {}) }))
          if (knownBroken.includes(seed)) expect({ seed, stillBroken: !result.outcome.ok }).toEqual({ seed, stillBroken: true })
          else expect({ seed, violations: result.violations, problems: result.outcome.problems }).toEqual({ seed, violations: [], problems: [] })
          total += injected(result)
        }
        expect(total > 0).toBe(faults.length > 0)
      }),
    Math.max(120_000, seeds * 10_000)
  )

/** Requests hit by any network fault in a run. */
export const networkInjected = (result: SimulationResult): number => Object.values(result.injected.network).reduce((a, b) => a + b, 0)
