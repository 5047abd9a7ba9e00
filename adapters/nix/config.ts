/**
 * Configuration of the real-nix Activator: every path, command and time limit it uses, with the
 * NixOS defaults, so tests can point it at a temp dir and toy closures.
 *
 * Invariant: `resolveNixConfig` is total and pure: every field of the result is set, either from
 * the input or from the documented default; nothing is read from the environment.
 */
import { Duration } from "effect"

/** One component whose change between the running and the target closure needs a reboot. */
export interface CriticalComponent {
  /** Reported as `DeferredPendingReboot.component` (e.g. `kernel`). */
  readonly name: string
  /** Path relative to the closure root (e.g. `kernel`, `sw/lib/systemd/systemd`). */
  readonly path: string
}

/**
 * The components compared before a switch (spec §6.1 step 5), in this order; the first that
 * differs wins. Each path is canonicalised (all symlinks resolved) on both sides and compared
 * only when it exists on both: on NixOS these are symlinks into the kernel, systemd and dbus
 * store paths, so they differ exactly when that package changed. `init` is deliberately not
 * compared: it is a per-generation script that embeds the system's own path, so it differs on
 * every switch and would turn every activation into a reboot.
 */
export const DEFAULT_CRITICAL_COMPONENTS: ReadonlyArray<CriticalComponent> = [
  { name: "dbus", path: "etc/systemd/system/dbus.service" },
  { name: "systemd", path: "sw/lib/systemd/systemd" },
  { name: "kernel", path: "kernel" }
]

/**
 * How `switch-to-configuration switch` is started.
 * - `systemd-run` (default, as the reference): in its own transient unit, detached from the
 *   agent, so a switch that restarts the agent's own service does not kill itself; the outcome
 *   is then known by polling the current-system link.
 * - `direct`: as a child of the agent, waiting for its exit code and stderr (hosts without
 *   systemd, containers, tests).
 */
export type SwitchLauncher = "systemd-run" | "direct"

/**
 * How closures are named in what the Activator returns (`currentClosure`, `fireRollback`):
 * `store-path` (default) gives `/nix/store/<hash>-<name>`, as this project's manifests carry
 * them; `basename` gives `<hash>-<name>`, as the reference agent reports them. Targets are
 * accepted in either form, and `FiredAndPolled.observed` is the target exactly as given.
 */
export type ClosureForm = "store-path" | "basename"

/** Executable names or paths; bare names are looked up on PATH. */
export interface NixCommands {
  readonly nixStore: string
  readonly nixEnv: string
  readonly flock: string
  readonly systemdRun: string
  readonly systemctl: string
}

/** Time limits; any Duration input (`"30 seconds"`, millis, ...). */
export interface NixTimeouts {
  /** `nix-store --realise` (downloads the closure). Default 20 minutes. */
  readonly realise: Duration.DurationInput
  /** `nix-env`, `flock`, `systemctl`, `systemd-run`. Default 60 seconds. */
  readonly command: Duration.DurationInput
  /** `switch-to-configuration` run directly, and `boot` in every mode. Default 300 seconds. */
  readonly switch: Duration.DurationInput
  /** How long to poll the current-system link after a detached switch. Default 300 seconds (below the CP's 360 s). */
  readonly verify: Duration.DurationInput
  /** Poll period of the current-system link. Default 2 seconds. */
  readonly pollInterval: Duration.DurationInput
}

/** Everything the real-nix Activator can be told; every field is optional. */
export interface NixActivatorConfig {
  /** The system profile. Default `/nix/var/nix/profiles/system`. */
  readonly profile?: string
  /** The link to the running system. Default `/run/current-system`. */
  readonly currentSystem?: string
  /** The nix store directory, prefixed to targets given as basenames. Default `/nix/store`. */
  readonly storeDir?: string
  /** When set, `nix-store` and `nix-env` are taken from this directory. */
  readonly nixBinDir?: string
  /** Individual command overrides (win over `nixBinDir`). */
  readonly commands?: Partial<NixCommands>
  /** The switch lock (spec §6.1 step 1); null skips the check. Default `/run/nixos/switch-to-configuration.lock`. */
  readonly switchLock?: string | null
  /** Substituters for `nix-store --realise` (`--option substituters "a b"`); unset keeps nix.conf's. */
  readonly substituters?: ReadonlyArray<string>
  /** More `--option NAME VALUE` pairs for `nix-store --realise`. */
  readonly nixOptions?: Readonly<Record<string, string>>
  /** How the switch is started. Default `systemd-run`. */
  readonly launcher?: SwitchLauncher
  /** Transient unit names for `systemd-run`. Default `nixfleet-switch` / `nixfleet-rollback`. */
  readonly units?: { readonly switch?: string; readonly rollback?: string }
  /** Components whose change defers the switch to the next boot. Default {@link DEFAULT_CRITICAL_COMPONENTS}. */
  readonly criticalComponents?: ReadonlyArray<CriticalComponent>
  /** Closure naming in results. Default `store-path`. */
  readonly closureForm?: ClosureForm
  /** Time limits. */
  readonly timeouts?: Partial<NixTimeouts>
}

/** A configuration with every field set. */
export interface ResolvedNixConfig {
  readonly profile: string
  readonly currentSystem: string
  readonly storeDir: string
  readonly commands: NixCommands
  readonly switchLock: string | null
  readonly realiseOptions: ReadonlyArray<string>
  readonly launcher: SwitchLauncher
  readonly units: { readonly switch: string; readonly rollback: string }
  readonly criticalComponents: ReadonlyArray<CriticalComponent>
  readonly closureForm: ClosureForm
  readonly timeouts: { readonly [K in keyof NixTimeouts]: Duration.Duration }
}

/** Fills every unset field of `config` with its default. */
export const resolveNixConfig = (config: NixActivatorConfig = {}): ResolvedNixConfig => {
  const bin = (name: string) => (config.nixBinDir === undefined ? name : `${config.nixBinDir.replace(/\/+$/, "")}/${name}`)
  const t = config.timeouts ?? {}
  const options = Object.entries(config.nixOptions ?? {})
  if (config.substituters !== undefined) options.unshift(["substituters", config.substituters.join(" ")])
  return {
    profile: config.profile ?? "/nix/var/nix/profiles/system",
    currentSystem: config.currentSystem ?? "/run/current-system",
    storeDir: (config.storeDir ?? "/nix/store").replace(/\/+$/, ""),
    commands: {
      nixStore: config.commands?.nixStore ?? bin("nix-store"),
      nixEnv: config.commands?.nixEnv ?? bin("nix-env"),
      flock: config.commands?.flock ?? "flock",
      systemdRun: config.commands?.systemdRun ?? "systemd-run",
      systemctl: config.commands?.systemctl ?? "systemctl"
    },
    switchLock: config.switchLock === undefined ? "/run/nixos/switch-to-configuration.lock" : config.switchLock,
    realiseOptions: options.flatMap(([name, value]) => ["--option", name, value]),
    launcher: config.launcher ?? "systemd-run",
    units: { switch: config.units?.switch ?? "nixfleet-switch", rollback: config.units?.rollback ?? "nixfleet-rollback" },
    criticalComponents: config.criticalComponents ?? DEFAULT_CRITICAL_COMPONENTS,
    closureForm: config.closureForm ?? "store-path",
    timeouts: {
      realise: Duration.decode(t.realise ?? "20 minutes"),
      command: Duration.decode(t.command ?? "60 seconds"),
      switch: Duration.decode(t.switch ?? "300 seconds"),
      verify: Duration.decode(t.verify ?? "300 seconds"),
      pollInterval: Duration.decode(t.pollInterval ?? "2 seconds")
    }
  }
}
