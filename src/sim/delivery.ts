/**
 * The no-lost-event invariant across CP restarts and database wipes, from what the agents saw:
 * - acknowledged events: every event the CP answered 2xx to an agent is in the log of the
 *   storage epoch that answered. In an epoch that never lost its storage (epoch 0) the log holds
 *   the same (host, rollout, seq) with the same kind: a 2xx means applied and persisted, or
 *   already applied (a duplicate of the very same event). In a wiped epoch the CP may have
 *   synthesised the record's early seqs from heartbeats before the agent's own event arrived
 *   (that one is then a duplicate by seq, and answered 2xx), so the rule there is: the same key
 *   is logged, or the seq is at most the last seq logged for that (rollout, host);
 * - agents are not ahead: at the end, for every agent still running with an empty outbound
 *   queue (all it had to say was answered), the CP's record of each rollout the agent holds is
 *   at least as far along as the agent's own (progress rank: Pending < Activating = Deferred <
 *   Soaking < Failed < Converged = Reverted; two different final states also disagree). An agent
 *   ahead of the CP reported something the CP does not have: a lost event. An agent behind the
 *   CP is stale, not a loss (after a wipe the CP may rebuild a record from heartbeats that the
 *   agent never hears back about) and is not judged here.
 *
 * Invariant: pure; each violation carries the simulated second it is about.
 */
import type { HostRolloutState, HostState } from "../domain/hostState.js"
import type { HostId } from "../domain/ids.js"
import type { EpochData } from "./cpProcess.js"
import type { Violation } from "./invariants.js"
import type { AckedEvent } from "./network.js"

/** Checks every acknowledged event against the log of the epoch that acknowledged it. */
export const checkAcks = (epochs: ReadonlyArray<EpochData>, acks: ReadonlyArray<AckedEvent>, seed: number, start: number): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const logged = epochs.map((epoch) => {
    const kinds = new Map<string, string>()
    const last = new Map<string, number>()
    for (const e of epoch.log) {
      if (e.kind !== "agent_event" || e.hostname === null || e.rolloutId === null || e.agentSeq === null) continue
      kinds.set(`${e.rolloutId}/${e.hostname}#${e.agentSeq}`, String((e.payload as { readonly kind?: unknown }).kind))
      last.set(`${e.rolloutId}/${e.hostname}`, Math.max(e.agentSeq, last.get(`${e.rolloutId}/${e.hostname}`) ?? 0))
    }
    return { kinds, last }
  })
  for (const ack of acks) {
    const epoch = logged[ack.epoch]
    if (epoch === undefined) continue
    const pair = `${ack.rolloutId}/${ack.host}`
    const kind = epoch.kinds.get(`${pair}#${ack.seq}`)
    const ok = ack.epoch === 0 ? kind === ack.kind : kind !== undefined || ack.seq <= (epoch.last.get(pair) ?? 0)
    if (!ok) {
      out.push({
        seed,
        atSecond: Math.round((ack.at - start) / 1000),
        invariant: "no-lost-event",
        detail: `epoch ${ack.epoch}: ${ack.kind} seq ${ack.seq} of ${pair} acknowledged, but the log has ${kind ?? "nothing"} at that seq`
      })
    }
  }
  return out
}

/** One agent at the end of a run. */
export interface AgentView {
  readonly host: HostId
  readonly records: ReadonlyMap<string, HostRolloutState>
  /** Events still waiting in its outbound queue. */
  readonly queued: number
}

/** How far along a record is, for "is the agent ahead of the CP". */
const PROGRESS: Readonly<Record<HostState, number>> = { Pending: 0, Activating: 1, Deferred: 1, Soaking: 2, Failed: 3, Converged: 4, Reverted: 4 }
const FINAL = 4

/** Checks that no settled agent is ahead of the CP's records (`records`: the final epoch's). */
export const checkAgents = (
  records: ReadonlyArray<HostRolloutState>,
  agents: ReadonlyArray<AgentView>,
  seed: number,
  atSecond: number
): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const cp = new Map<string, HostRolloutState>(records.map((r) => [`${r.rolloutId}/${r.hostname}`, r]))
  for (const agent of agents) {
    if (agent.queued > 0) continue
    for (const [rolloutId, own] of agent.records) {
      const mirror = cp.get(`${rolloutId}/${agent.host}`)
      const ahead =
        mirror === undefined
          ? own.state !== "Pending"
          : PROGRESS[own.state] > PROGRESS[mirror.state] || (PROGRESS[own.state] === FINAL && own.state !== mirror.state)
      if (ahead) {
        out.push({
          seed,
          atSecond,
          invariant: "no-lost-event",
          detail: `${rolloutId}/${agent.host}: agent ${own.state} at seq ${own.lastEventSeq}, CP ${mirror === undefined ? "has no record" : `${mirror.state} at seq ${mirror.lastEventSeq}`}`
        })
      }
    }
  }
  return out
}
