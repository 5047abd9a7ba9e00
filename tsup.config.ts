import { defineConfig } from "tsup"

export default defineConfig({
  entry: {
    index: "src/index.ts",
    memory: "adapters/memory/index.ts",
    sqlite: "adapters/sqlite/index.ts",
    nix: "adapters/nix/index.ts",
    sim: "src/sim/index.ts",
    cli: "src/cli/bin.ts"
  },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  splitting: true,
  treeshake: true
})
