/**
 * The agent's configuration: who it is, what it trusts, which probes it runs, and the cadences of
 * its workers (the reference's values by default).
 *
 * Invariant: `resolveAgentConfig` is pure and total: every field of the result is set, from the
 * input or from the documented default; nothing is read from the environment here (the example
 * reads flags and `NIXFLEET_AGENT_*` through Effect Config).
 */
import { Duration } from "effect"
import type { HostId, ProbeName } from "../domain/ids.js"
import type { TrustConfig } from "../domain/trust.js"
import type { ProbeDeclaration } from "../ports/probeRunner.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../trust/sidecar.js"

/** How the agent reports the switch method in `ActivationStarted`. */
export const SWITCH_METHOD = "switch-to-configuration"

/** What `Agent.layer` needs. */
export interface AgentConfig {
  /** This host's name: the hostname its credentials prove to the CP. */
  readonly hostname: HostId
  /** The roots fleet.resolved and rollout manifests are verified against (trust.json). */
  readonly trust: TrustConfig
  /** The health probes (health-checks.json: name → declaration); none by default. */
  readonly probes?: Readonly<Record<string, ProbeDeclaration>>
  /**
   * Freshness window (seconds) for fleet.resolved and for manifests of channels without their own
   * `freshnessWindow`. Default: the CP's 1440 minutes, so agent and CP accept the same releases
   * (the reference agent used a fixed 3600 s, spec §9.16, and could refuse what its CP served).
   */
  readonly freshnessWindowSecs?: number
  /** Heartbeat period (default 60 s). */
  readonly heartbeatInterval?: Duration.DurationInput
  /** Advance-tick period: sustained-failure and soak checks (default 5 s; ticks are skipped while no record can advance). */
  readonly advanceInterval?: Duration.DurationInput
  /** Outbound drain fallback period after a failed pass; a new event drains at once (default 15 s). */
  readonly drainInterval?: Duration.DurationInput
  /** The dispatch long-poll's `wait` in seconds (default 60, the CP's maximum). */
  readonly dispatchWaitSeconds?: number
  /** The shortest probe period (default 5 s): a probe runs every max(intervalSeconds, this). */
  readonly minProbeInterval?: Duration.DurationInput
}

/** The configuration with every default filled in. */
export interface ResolvedAgentConfig {
  readonly hostname: HostId
  readonly trust: TrustConfig
  readonly probes: ReadonlyArray<readonly [ProbeName, ProbeDeclaration]>
  readonly freshnessWindowSecs: number
  readonly heartbeatInterval: Duration.Duration
  readonly advanceInterval: Duration.Duration
  readonly drainInterval: Duration.Duration
  readonly dispatchWaitSeconds: number
  readonly minProbeInterval: Duration.Duration
}

/** Fills in the defaults; probes are sorted by name so topology and tickers are deterministic. */
export const resolveAgentConfig = (config: AgentConfig): ResolvedAgentConfig => ({
  hostname: config.hostname,
  trust: config.trust,
  probes: Object.entries(config.probes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, declaration]) => [name as ProbeName, declaration] as const),
  freshnessWindowSecs: config.freshnessWindowSecs ?? DEFAULT_FRESHNESS_WINDOW_SECS,
  heartbeatInterval: Duration.decode(config.heartbeatInterval ?? "60 seconds"),
  advanceInterval: Duration.decode(config.advanceInterval ?? "5 seconds"),
  drainInterval: Duration.decode(config.drainInterval ?? "15 seconds"),
  dispatchWaitSeconds: config.dispatchWaitSeconds ?? 60,
  minProbeInterval: Duration.decode(config.minProbeInterval ?? "5 seconds")
})
