/**
 * Gate 6, compliance wave: a host of wave w > 0 waits while hosts of waves [0, w) of its channel
 * have outstanding failing enforce probes in this rollout.
 *
 * Invariant: wave 0, unwaved hosts, unknown hosts and rollouts without a probe entry pass.
 */
import type { GateCheck } from "../context.js"
import { failingPrefix } from "../context.js"

/** Blocks when the failing-probe count over the earlier waves is positive. */
export const checkComplianceWave: GateCheck = (ctx, c) => {
  const host = ctx.manifests.fleet.hosts[c.host]
  if (host === undefined) return null
  const hostWave = ctx.waveIndex.get(host.channel)?.get(c.host)
  if (hostWave === undefined || hostWave === 0) return null
  const perHost = ctx.fleetState.outstandingFailingEnforceProbes.get(c.rolloutId)
  if (perHost === undefined) return null
  // The prefix is precomputed for the rollout's channel; a host whose fleet channel differs
  // (a fleet edit between ticks) gets its own channel's waves, as the reference reads them.
  const precomputed = ctx.fleetState.rollouts.get(c.rolloutId)?.channel === host.channel ? ctx.failingBeforeWave.get(c.rolloutId) : undefined
  const prefix = precomputed ?? failingPrefix(ctx.manifests.fleet.waves[host.channel] ?? [], perHost)
  const failingEventsCount = prefix[hostWave] ?? 0
  return failingEventsCount > 0 ? { _tag: "ComplianceWave", failingEventsCount, hostWave } : null
}
