/**
 * Gate 3, wave promotion: a host waits until the rollout's current wave reaches the host's wave.
 *
 * Invariant: positions come from `fleet.waves` of the host's channel (not the policy waves, spec
 * A11). A channel without waves is not gated; a host missing from a waved channel's waves is
 * blocked (default-deny), although the manifest lists it at `waveIndex` 0.
 */
import type { GateCheck } from "../context.js"

/** Blocks a host whose fleet wave is after the rollout's current wave (0 when the rollout has no row). */
export const checkWavePromotion: GateCheck = (ctx, c) => {
  const host = ctx.manifests.fleet.hosts[c.host]
  if (host === undefined) return null
  const index = ctx.waveIndex.get(host.channel)
  if (index === undefined) return null
  const hostWave = index.get(c.host)
  if (hostWave === undefined) return { _tag: "HostUnstaged", channel: host.channel }
  const currentWave = ctx.fleetState.rollouts.get(c.rolloutId)?.currentWave ?? 0
  return hostWave > currentWave ? { _tag: "WavePromotion", hostWave, currentWave } : null
}
