/**
 * The log-replay invariant: replaying each host's `agent_event` entries of one storage epoch, in
 * seq order, through the pure `step()` as Remote events (exactly as the CP mirror applies them)
 * reproduces every host record the CP holds for that epoch.
 *
 * The replay starts from the record's Pending form (`newPending` with the stored rollout, host,
 * channel, target closure, dispatch time and soak deadline: the fields the CP sets at open and
 * dispatch time, not from events) and compares every field events set: state, lastEventSeq,
 * the closures (target, at dispatch, current, reverted to), the event times (ack, activation
 * started / completed / failed, converged, failed, reverted) and policyApplied. A step the
 * replay refuses, a log entry without a record and a record that differs are violations, each
 * reported at the simulated second of the entry (or of the check).
 *
 * Invariant: pure.
 */
import { Either, Schema } from "effect"
import { OutboundAgentEvent } from "../domain/agentEvent.js"
import { toRemoteEvent } from "../domain/events.js"
import type { ChannelId } from "../domain/ids.js"
import type { OnHealthFailure } from "../domain/policy.js"
import { type HostRolloutState, newPending } from "../domain/hostState.js"
import type { Timestamp } from "../domain/time.js"
import { step } from "../machine/host.js"
import type { StoredEventLogEntry } from "../ports/eventLog.js"
import type { Violation } from "./invariants.js"
import type { SignedSampleFleet } from "./sampleFleet.js"

const decodeEvent = Schema.decodeUnknownEither(OutboundAgentEvent)

/** The record fields that events set, compared by the replay. */
export const REPLAYED_FIELDS = [
  "state",
  "lastEventSeq",
  "targetClosure",
  "currentClosureAtDispatch",
  "currentClosure",
  "revertedTo",
  "dispatchAckedAt",
  "activationStartedAt",
  "activationCompletedAt",
  "activationFailedAt",
  "convergedAt",
  "failedAt",
  "revertedAt",
  "policyApplied"
] as const satisfies ReadonlyArray<keyof HostRolloutState>

/** The channel's `onHealthFailure` in the fleet (the only policy field `step()` reads). */
const policyOf = (fleet: SignedSampleFleet, channel: ChannelId): OnHealthFailure => {
  const name = fleet.fleet.channels[channel]?.rolloutPolicy
  return (name === undefined ? undefined : fleet.fleet.rolloutPolicies[name]?.onHealthFailure) ?? "halt"
}

/** A record as it was opened: its Pending form, before any event. */
const pendingOf = (record: HostRolloutState): HostRolloutState => ({
  ...newPending({
    rolloutId: record.rolloutId,
    hostname: record.hostname,
    channel: record.channel,
    targetClosure: record.targetClosure,
    dispatchedAt: record.dispatchedAt,
    soakDueAt: record.dispatchedAt
  }),
  soakDueAt: record.soakDueAt
})

/**
 * Replays `log` against `records` (one epoch). `start` is the simulation's start (epoch millis),
 * `atSecond` the second reported for differences found at the end.
 */
export const checkReplay = (
  fleet: SignedSampleFleet,
  records: ReadonlyArray<HostRolloutState>,
  log: ReadonlyArray<StoredEventLogEntry>,
  seed: number,
  start: number,
  atSecond: number
): ReadonlyArray<Violation> => {
  const out: Array<Violation> = []
  const broke = (second: number, detail: string) => out.push({ seed, atSecond: second, invariant: "log-replay", detail })
  const byKey = new Map<string, HostRolloutState>(records.map((r) => [`${r.rolloutId}/${r.hostname}`, r]))
  const replayed = new Map<string, HostRolloutState>()
  const refused = new Set<string>()
  for (const entry of log) {
    if (entry.kind !== "agent_event" || entry.hostname === null || entry.rolloutId === null) continue
    const key = `${entry.rolloutId}/${entry.hostname}`
    const second = Math.round((entry.at - start) / 1000)
    const record = byKey.get(key)
    if (record === undefined) {
      if (!refused.has(key)) broke(second, `${key}: logged agent event seq ${entry.agentSeq} but the CP holds no record`)
      refused.add(key)
      continue
    }
    if (refused.has(key)) continue
    const from = replayed.get(key) ?? pendingOf(record)
    const decoded = decodeEvent(entry.payload)
    if (Either.isLeft(decoded)) {
      broke(second, `${key}: logged payload of seq ${entry.agentSeq} does not decode`)
      refused.add(key)
      continue
    }
    const result = step(from, toRemoteEvent(decoded.right), entry.at as Timestamp, { onHealthFailure: policyOf(fleet, record.channel) })
    if (Either.isLeft(result)) {
      broke(second, `${key}: step() refuses logged ${decoded.right._tag} seq ${decoded.right.seq} from ${from.state}: ${result.left.message}`)
      refused.add(key)
      continue
    }
    replayed.set(key, result.right.state)
  }
  for (const [key, record] of byKey) {
    if (refused.has(key)) continue
    const replay = replayed.get(key) ?? pendingOf(record)
    const differ = REPLAYED_FIELDS.filter((f) => replay[f] !== record[f])
    if (differ.length > 0) {
      broke(atSecond, `${key}: replay gives ${differ.map((f) => `${f}=${String(replay[f])}`).join(", ")}; the CP holds ${differ.map((f) => `${f}=${String(record[f])}`).join(", ")}`)
    }
  }
  return out
}
