/**
 * Gate 4, host edges: a host waits until each same-channel host gating it is done (Converged or
 * Deferred) in this rollout.
 *
 * Invariant: edges to unknown or other-channel gating hosts are skipped (as the reference).
 * Decision (spec A14, a stuck gate): an edge whose gating host has no closure (`closureHash:
 * null`, so it is in no manifest and will never get a record) is skipped too, instead of blocking
 * forever; a gating host that does take part but has no record yet still blocks.
 */
import { isTerminalForOrdering } from "../../domain/hostState.js"
import type { GateCheck } from "../context.js"

/** Blocks on the first edge (fleet order) whose gating host is not Converged or Deferred. */
export const checkHostEdges: GateCheck = (ctx, c) => {
  const hosts = ctx.manifests.fleet.hosts
  const host = hosts[c.host]
  if (host === undefined) return null
  const records = ctx.fleetState.hostStates.get(c.rolloutId)
  for (const edge of ctx.hostEdgesByGated.get(c.host) ?? []) {
    const gating = hosts[edge.gates]
    if (gating === undefined || gating.channel !== host.channel || gating.closureHash === null) continue
    const st = records?.get(edge.gates)
    if (st === undefined || !isTerminalForOrdering(st.state)) return { _tag: "HostEdge", gatingHost: edge.gates }
  }
  return null
}
