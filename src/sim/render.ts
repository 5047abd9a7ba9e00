/**
 * Plain-text views of a simulation for the demo: a live frame (per channel: rollout state, wave,
 * hosts per state; the gate deferrals since the last frame; quarantines) and the final summary
 * table. Plain text only, so it reads the same in a terminal and in CI logs.
 *
 * Invariant: pure; rendering never reads the world.
 */
import type { HostState } from "../domain/index.js"
import { HOST_STATES } from "../domain/index.js"
import type { Frame, SimulationResult } from "./simulate.js"
import { countStates, type Snapshot } from "./snapshot.js"

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))

/** "1h 05m 00s" for simulated seconds. */
export const formatDuration = (seconds: number): string => {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.floor(seconds % 60)
  return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`
}

const stateCounts = (snapshot: Snapshot, rolloutId: string) => {
  const counts = countStates(snapshot.records, rolloutId)
  return HOST_STATES.filter((s: HostState) => (counts[s] ?? 0) > 0)
    .map((s) => `${s} ${counts[s]}`)
    .join(", ")
}

const channelLines = (frame: { readonly fleet: Frame["fleet"]; readonly snapshot: Snapshot }) =>
  frame.fleet.channels.map((channel) => {
    const rollout = frame.snapshot.rollouts.find((r) => r.channel === channel)
    const waves = frame.fleet.fleet.waves[channel]?.length ?? 0
    if (rollout === undefined) return `  ${pad(channel, 10)} ${pad("(not opened)", 12)}`
    return `  ${pad(channel, 10)} ${pad(rollout.state, 12)} wave ${rollout.currentWave + 1}/${waves}  ${stateCounts(frame.snapshot, rollout.rolloutId)}`
  })

/** One live frame: time, channels, deferrals since the previous frame, quarantines. */
export const renderFrame = (frame: Frame): string => {
  const lines = [`── t+${formatDuration(frame.elapsedSeconds)} (simulated) ──`, ...channelLines(frame)]
  const byGate = new Map<string, { count: number; example: string }>()
  for (const d of frame.snapshot.deferrals) {
    const seen = byGate.get(d.gate)
    byGate.set(d.gate, { count: (seen?.count ?? 0) + 1, example: seen?.example ?? `${d.host ?? "?"}: ${d.reason}` })
  }
  for (const [gate, { count, example }] of byGate) lines.push(`  deferred ×${count} by ${gate} (e.g. ${example})`)
  for (const r of frame.snapshot.records) {
    if (r.state === "Failed" || r.state === "Reverted") lines.push(`  ! ${r.hostname} ${r.state}${r.revertedTo === null ? "" : " (rolled back)"}`)
  }
  for (const q of frame.snapshot.quarantines) lines.push(`  quarantined on ${q.channel}: ${q.closureHash}`)
  return lines.join("\n")
}

/** The summary table after a run. */
export const renderSummary = (result: SimulationResult, wallMillis: number): string => {
  const header = `  ${pad("channel", 10)} ${pad("rollout", 12)} ${pad("simulated", 12)} hosts`
  const rows = result.fleet.channels.map((channel) => {
    const rollout = result.final.rollouts.find((r) => r.channel === channel)
    const after = result.finishedAfter.get(channel)
    const duration = after === null || after === undefined ? "-" : formatDuration(after)
    return `  ${pad(channel, 10)} ${pad(rollout?.state ?? "-", 12)} ${pad(duration, 12)} ${rollout === undefined ? "" : stateCounts(result.final, rollout.rolloutId)}`
  })
  const quarantined = result.final.quarantines.map((q) => `  quarantined on ${q.channel}: ${q.closureHash}`)
  return [
    "Summary",
    header,
    ...rows,
    ...(quarantined.length > 0 ? quarantined : ["  nothing quarantined"]),
    `  ${result.fleet.hosts.length} hosts, seed ${result.seed}, ${formatDuration(result.simulatedSeconds)} simulated in ${(wallMillis / 1000).toFixed(1)} s of wall time`,
    result.outcome.ok ? "  outcome: as expected" : `  outcome: UNEXPECTED\n${result.outcome.problems.map((p) => `    - ${p}`).join("\n")}`
  ].join("\n")
}
