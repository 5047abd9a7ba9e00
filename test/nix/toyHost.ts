/**
 * A toy NixOS host for the real-nix tests: a temp dir holding the system profile, the
 * current-system link, the switch lock and the switch log, plus toy system closures built with
 * real `nix-build` from test/fixtures/nix/toy-system.nix (builtins only, no sandbox, no
 * substituters, so it works as root on Debian's nix-bin with no daemon and no network).
 *
 * Invariant: every closure built for a host bakes that host's paths in, so hosts (and test runs)
 * never share closures or state; the helpers are synchronous so suites can build at load time.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { ClosureHash } from "../../src/domain/ids.js"
import type { NixActivatorConfig } from "../../adapters/nix/index.js"

const FIXTURE = fileURLToPath(new URL("../fixtures/nix/toy-system.nix", import.meta.url))

/** Whether nix-build, nix-store and nix-env are on PATH (the nix tests skip themselves otherwise). */
export const nixAvailable: boolean = ["nix-build", "nix-store", "nix-env"].every(
  (cmd) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0
)

/** Printed once by each nix suite that skips. */
export const SKIP_REASON = "real-nix tests skipped: nix-build / nix-store / nix-env not found on PATH (install Debian's nix-bin)"

/** A toy host's paths. */
export interface ToyHost {
  readonly dir: string
  readonly profile: string
  readonly currentSystem: string
  readonly switchLock: string
  readonly log: string
}

/** Makes an empty toy host in a fresh temp dir (no profile, no current system yet). */
export const makeToyHost = (): ToyHost => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-nix-"))
  writeFileSync(join(dir, "switch.log"), "")
  mkdirSync(join(dir, "profiles"))
  return {
    dir,
    profile: join(dir, "profiles", "system"),
    currentSystem: join(dir, "current-system"),
    switchLock: join(dir, "switch-to-configuration.lock"),
    log: join(dir, "switch.log")
  }
}

/** What varies between toy closures (all strings, passed with `--argstr`). */
export interface ToyClosure {
  readonly name: string
  readonly kernel?: string
  readonly systemd?: string
  readonly dbus?: string
  /** Non-"0": the switch script fails with this exit status. */
  readonly failWith?: string
  /** Lines of stderr noise a failing switch prints first. */
  readonly noiseLines?: string
  /** A misbehaving switch that points the current-system link here instead of at itself. */
  readonly pointAt?: string
  /** Seconds the switch script sleeps after logging (for timeouts). */
  readonly sleepSecs?: string
}

/** Builds a toy closure for `host` with real nix-build; returns its store path. */
export const buildToy = (host: ToyHost, closure: ToyClosure): ClosureHash => {
  const args: Record<string, string | undefined> = { ...closure, currentSystem: host.currentSystem, logFile: host.log }
  const argstrs = Object.entries(args).flatMap(([k, v]) => (v === undefined ? [] : ["--argstr", k, v]))
  const out = execFileSync(
    "nix-build",
    [FIXTURE, "--no-out-link", "--option", "sandbox", "false", "--option", "substituters", "", ...argstrs],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }
  )
  return out.trim() as ClosureHash
}

/** Points the host's current-system link at `closure` (what booting it would do). */
export const bootInto = (host: ToyHost, closure: string): void => symlinkSync(closure, host.currentSystem)

/** Sets the profile to `closure` with nix-env (a new generation). */
export const setProfile = (host: ToyHost, closure: string): void => {
  execFileSync("nix-env", ["-p", host.profile, "--set", closure], { stdio: "ignore" })
}

/** One generation of the profile, from `nix-env --list-generations`. */
export interface Generation {
  readonly number: number
  readonly current: boolean
}

/** The profile's generations (empty when the profile does not exist yet). */
export const generations = (host: ToyHost): ReadonlyArray<Generation> => {
  const run = spawnSync("nix-env", ["-p", host.profile, "--list-generations"], { encoding: "utf8" })
  return run.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+\s/.test(line))
    .map((line) => ({ number: Number(line.split(/\s+/)[0]), current: line.includes("(current)") }))
}

/** The number of the profile's current generation (undefined when there is none). */
export const currentGeneration = (host: ToyHost): number | undefined => generations(host).find((g) => g.current)?.number

/** The switch log: one `[action, store path]` per switch-to-configuration call. */
export const switchCalls = (host: ToyHost): ReadonlyArray<readonly [string, string]> =>
  readFileSync(host.log, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [action = "", path = ""] = line.split(" ")
      return [action, path] as const
    })

/** An Activator configuration for `host`: direct switches, no substituters, short limits. */
export const toyConfig = (host: ToyHost, overrides: NixActivatorConfig = {}): NixActivatorConfig => ({
  profile: host.profile,
  currentSystem: host.currentSystem,
  switchLock: host.switchLock,
  launcher: "direct",
  substituters: [],
  timeouts: { realise: "60 seconds", command: "30 seconds", switch: "30 seconds", verify: "10 seconds", pollInterval: "100 millis" },
  ...overrides
})

/** Writes an executable shell script into the host dir; returns its path. */
export const writeScript = (host: ToyHost, name: string, body: string): string => {
  const path = join(host.dir, name)
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  return path
}
