/**
 * `effect-fleet/nix`: the agent's ports on a real host.
 *
 * - `layerNix(config)`: the Activator on real nix (`nix-store --realise`, `nix-env --set` /
 *   `--rollback`, `switch-to-configuration switch|boot`, fired through `systemd-run` or run
 *   directly), confirming every switch through the current-system link (spec §6).
 * - `layerProbeRunner(config)`: exec / http / tcp / evidence health probes (spec §7).
 * - `makeNixActivator` / `makeProbeRunner`: the same services over a CommandExecutor, FileSystem
 *   (and HttpClient) you provide, e.g. to swap the platform.
 *
 * Invariant: both layers are self-contained on Node (they provide NodeContext, and fetch for
 * HTTP); every path and command has a NixOS default and can be pointed elsewhere.
 */
export { layerNix, makeNixActivator } from "./activator.js"
export {
  type ClosureForm,
  type CriticalComponent,
  DEFAULT_CRITICAL_COMPONENTS,
  type NixActivatorConfig,
  type NixCommands,
  type NixTimeouts,
  type ResolvedNixConfig,
  resolveNixConfig,
  type SwitchLauncher
} from "./config.js"
export { EvidenceFile, type EvidenceOptions } from "./evidence.js"
export { DISABLED_REASON, layerProbeRunner, makeProbeRunner, type ProbeRunnerConfig } from "./probes.js"
export { capReason, REASON_LIMIT_BYTES, TRUNCATED } from "./reason.js"
