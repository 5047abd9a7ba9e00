import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  resolve: {
    // The examples import the package by name, exactly as users do; resolve it to the sources.
    alias: [
      { find: /^effect-fleet$/, replacement: here("./src/index.ts") },
      { find: /^effect-fleet\/(memory|sqlite|nix)$/, replacement: here("./adapters/$1/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Every core, at least two: vitest's default (cores - 1) runs one worker on a 2-core machine,
    // and the simulator's scenario files (test/sim, 200 seeds each in CI) are CPU-bound and independent.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    minWorkers: 1
  }
})
