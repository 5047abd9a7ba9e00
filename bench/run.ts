/**
 * Runs every suite in bench/suites (or those named on the command line), prints one table,
 * stores each suite's rows in bench/results/<suite>.json and rebuilds bench/RESULTS.md from all
 * stored suites (so running one suite keeps the others' last figures).
 *
 * Invariant: every figure in RESULTS.md was measured by a run of its own suite on this machine
 * kind; the date and machine of each suite's run are recorded beside it.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { BenchRow, BenchSuite } from "./lib.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`
const resultsDir = path.join(here, "results")
await mkdir(resultsDir, { recursive: true })

interface StoredSuite {
  readonly suite: string
  readonly ranAt: string
  readonly machine: string
  readonly rows: ReadonlyArray<BenchRow>
}

const verdict = (met: boolean | null): string => (met === null ? "" : met ? "yes" : "NO")
const files = (await readdir(path.join(here, "suites"))).filter((f) => f.endsWith(".ts")).sort()
const fresh: Array<BenchRow & { readonly suite: string }> = []
for (const file of files) {
  const name = file.replace(/\.ts$/, "")
  if (wanted.length > 0 && !wanted.includes(name)) continue
  const mod = (await import(pathToFileURL(path.join(here, "suites", file)).href)) as { readonly suite: BenchSuite }
  process.stdout.write(`running ${mod.suite.name} ...\n`)
  const suiteRows = await mod.suite.run()
  const stored: StoredSuite = { suite: mod.suite.name, ranAt: new Date().toISOString(), machine, rows: suiteRows }
  await writeFile(path.join(resultsDir, `${name}.json`), JSON.stringify(stored, null, 2) + "\n")
  for (const row of suiteRows) fresh.push({ ...row, suite: mod.suite.name })
}

const header = ["suite", "benchmark", "result", "target", "met"]
const table = [header, ...fresh.map((r) => [r.suite, r.benchmark, r.result, r.target, verdict(r.met)])]
const widths = header.map((_, i) => Math.max(...table.map((line) => (line[i] ?? "").length)))
for (const line of table) process.stdout.write(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ") + "\n")

const stored: Array<StoredSuite> = []
for (const file of (await readdir(resultsDir)).filter((f) => f.endsWith(".json")).sort()) {
  stored.push(JSON.parse(await readFile(path.join(resultsDir, file), "utf8")) as StoredSuite)
}
const md = [
  "# Benchmark results",
  "",
  "Written by `npm run bench` (all suites) or `npm run bench -- <suite>` (one suite; the others keep their last run).",
  "Targets are shown beside the figures; no test asserts a time.",
  "",
  ...stored.flatMap((s) => [
    `## ${s.suite}`,
    "",
    `Measured ${s.ranAt.slice(0, 16).replace("T", " ")} UTC on ${s.machine}.`,
    "",
    "| benchmark | result | target | met |",
    "|---|---|---|---|",
    ...s.rows.map((r) => `| ${r.benchmark} | ${r.result} | ${r.target} | ${verdict(r.met)} |`),
    ""
  ])
].join("\n")
await writeFile(path.join(here, "RESULTS.md"), md)
