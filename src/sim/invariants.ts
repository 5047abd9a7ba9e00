/**
 * Invariants the simulator checks on every observed step (and on the final event log), each
 * violation reported with the seed and the simulated second that broke it:
 * - budgets never exceeded (Activating + Soaking across the fleet ≤ maxInFlight);
 * - a wave never starts before the previous one is done (no host of wave k left Pending… while
 *   a host of an earlier wave of the same rollout is neither Converged nor Deferred; a host that
 *   left Pending on a dispatch of the storage before a wipe does not count, see
 *   `answersEarlierStorage`);
 * - Terminal implies every host of the rollout Converged;
 * - a quarantined closure is never dispatched again on its channel (from the event log);
 * - no acknowledged event lost: every host's logged agent seqs are 1..n, each once, and the CP's
 *   record has seen the last of them (see `checkLog`; delivery.ts adds the acknowledged events
 *   and the agents' own records, replay.ts the log replay, dispatchGates.ts the gates).
 *
 * Invariant: pure; returns every violation found.
 */
import type { SignedSampleFleet } from "./sampleFleet.js"
import type { HostRolloutState } from "../domain/hostState.js"
import type { RolloutRecord } from "../domain/rollout.js"
import { isBudgetInFlight } from "../planner/budgets.js"
import type { StoredEventLogEntry } from "../ports/index.js"
import type { Snapshot } from "./snapshot.js"

/** One broken invariant. */
export interface Violation {
  readonly seed: number
  /** Simulated seconds since the start when it was observed. */
  readonly atSecond: number
  readonly invariant: string
  readonly detail: string
}

/** What {@link checkStep} needs beyond the snapshot. */
export interface StepCheckOptions {
  /**
   * Hosts rebooted to complete a deferred switch. The planner counts a Deferred host as done for
   * wave ordering and outside the budget (spec: Deferred is terminal for ordering); the reboot
   * that brings it back to Soaking is the operator's act, not a dispatch, so such hosts count
   * neither in the budget nor against their wave being done.
   */
  readonly rebooted?: ReadonlySet<string>
}

/**
 * Whether `record` left Pending on the agent's ack of a dispatch queued before `rollout` was
 * opened in this storage: a dispatch the CP queued on the storage it had before a wipe (judged
 * against the gates in that epoch's own check), which the host took and acted on, and whose ack
 * the rebuilt CP mirrored. The agent dates its DispatchAck with the dispatch's `enqueuedAt`
 * (src/agent/workers/longpoll.ts), and no CP can queue a dispatch of a rollout before it opens
 * it, so on a storage that was never wiped no record ever matches. A synthesised ack (heartbeat
 * recovery records the running target as the closure at dispatch) never matches either: the
 * rebuilt CP decides that one now, and it must pass the gates now.
 *
 * Decision (sim all faults + wipe, seed 26): the CP keeps mirroring such an ack (the host really
 * is switching; refusing it would leave a host in flight that the disruption budget does not
 * count), and the invariants accept it instead of reporting a wave started out of order: the
 * order was kept by the CP that dispatched it, which knew the earlier wave was done (Deferred).
 */
export const answersEarlierStorage = (record: HostRolloutState, rollout: Pick<RolloutRecord, "openedAt"> | undefined): boolean =>
  rollout !== undefined &&
  record.dispatchAckedAt !== null &&
  record.dispatchAckedAt < rollout.openedAt &&
  record.currentClosureAtDispatch !== record.targetClosure

/** Checks the per-step invariants on `snapshot`. */
export const checkStep = (
  fleet: SignedSampleFleet,
  maxInFlight: number,
  snapshot: Snapshot,
  seed: number,
  atSecond: number,
  options: StepCheckOptions = {}
): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const broke = (invariant: string, detail: string) => out.push({ seed, atSecond, invariant, detail })
  const rebooted = options.rebooted ?? new Set<string>()
  const inFlight = snapshot.records.filter((r) => isBudgetInFlight(r.state) && !rebooted.has(r.hostname)).length
  if (inFlight > maxInFlight) broke("budget", `${inFlight} hosts in flight > ${maxInFlight}`)
  for (const rollout of snapshot.rollouts) {
    const records = snapshot.records.filter((r) => r.rolloutId === rollout.rolloutId)
    if (rollout.state === "Terminal") {
      const stray = records.filter((r) => r.state !== "Converged")
      if (stray.length > 0) broke("terminal-converged", `${rollout.rolloutId} Terminal with ${stray.map((r) => `${r.hostname}=${r.state}`).join(", ")}`)
    }
    const waves = fleet.fleet.waves[rollout.channel] ?? []
    const waveOf = new Map<string, number>()
    waves.forEach((w, i) => w.hosts.forEach((h) => waveOf.set(h, i)))
    const started = (w: number) =>
      records.some((r) => waveOf.get(r.hostname) === w && r.state !== "Pending" && !answersEarlierStorage(r, rollout))
    const done = (w: number) =>
      records.filter((r) => waveOf.get(r.hostname) === w).every((r) => r.state === "Converged" || r.state === "Deferred" || rebooted.has(r.hostname))
    for (let w = 1; w < waves.length; w++) {
      if (started(w) && !done(w - 1)) broke("wave-order", `${rollout.rolloutId}: wave ${w} started before wave ${w - 1} was done`)
    }
  }
  return out
}

/** How {@link checkLog} judges an epoch's agent seqs. */
export interface LogCheckOptions {
  /**
   * The epoch started on a wiped (empty) storage: the CP rebuilt its records from heartbeats and
   * from whatever the agents still sent, so a record's logged seqs may start above 1 and skip
   * (events of the previous epoch are gone, refused ones never logged). Default false.
   */
  readonly wiped?: boolean
}

/**
 * Checks the event-log invariants of one storage epoch at the end of a run:
 * - no-lost-event: per (rollout, host), the logged agent seqs are exactly 1..n, each once (wiped
 *   epochs: strictly increasing, each once); the CP's record has seen exactly the last logged
 *   seq, and a record at seq > 0 has logged events;
 * - quarantine: a quarantined closure is never dispatched again on its channel.
 */
export const checkLog = (
  snapshot: Pick<Snapshot, "records" | "quarantines">,
  log: ReadonlyArray<StoredEventLogEntry>,
  seed: number,
  atSecond: number,
  options: LogCheckOptions = {}
): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const broke = (invariant: string, detail: string) => out.push({ seed, atSecond, invariant, detail })
  const seqs = new Map<string, Array<number>>()
  for (const e of log) {
    if (e.kind !== "agent_event" || e.hostname === null || e.rolloutId === null) continue
    const key = `${e.rolloutId}/${e.hostname}`
    seqs.set(key, [...(seqs.get(key) ?? []), e.agentSeq ?? -1])
  }
  const inOrder = (list: ReadonlyArray<number>) =>
    options.wiped === true ? list.every((s, i) => s > 0 && (i === 0 || s > (list[i - 1] ?? 0))) : list.every((s, i) => s === i + 1)
  for (const [key, list] of seqs) {
    if (!inOrder(list)) broke("no-lost-event", `${key}: logged agent seqs ${list.join(",")}`)
    const record = snapshot.records.find((r) => `${r.rolloutId}/${r.hostname}` === key)
    const last = list[list.length - 1] ?? 0
    if (record !== undefined && record.lastEventSeq !== last) broke("no-lost-event", `${key}: CP record at seq ${record.lastEventSeq}, last logged seq ${last}`)
  }
  for (const r of snapshot.records) {
    if (r.lastEventSeq > 0 && !seqs.has(`${r.rolloutId}/${r.hostname}`)) broke("no-lost-event", `${r.rolloutId}/${r.hostname}: CP record at seq ${r.lastEventSeq}, nothing logged`)
  }
  for (const q of snapshot.quarantines) {
    const quarantinedAt = log.find(
      (e) => e.kind === "agent_event" && e.hostname !== null && (e.payload as { readonly kind?: string }).kind === "RollbackComplete" && e.rolloutId?.startsWith(`${q.channel}@`) === true
    )
    if (quarantinedAt === undefined) continue
    const again = log.filter(
      (e) =>
        e.kind === "plan_action" &&
        e.seq > quarantinedAt.seq &&
        (e.payload as { readonly kind?: string }).kind === "QueueDispatch" &&
        e.rolloutId?.startsWith(`${q.channel}@`) === true &&
        JSON.stringify(e.payload).includes(q.closureHash)
    )
    if (again.length > 0) broke("quarantine", `${q.closureHash} dispatched again on ${q.channel} (${again.length}×)`)
  }
  return out
}
