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
    pool: "forks"
  }
})
