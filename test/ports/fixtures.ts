/**
 * Builders shared by the port conformance suites.
 *
 * Invariant: every builder call returns ids no other call returned in this process, so tests
 * that share one adapter instance (via `it.layer`) never see each other's rows.
 */
import { Effect } from "effect"
import {
  type ChannelId,
  type ChannelRef,
  type ClosureHash,
  type HostId,
  type HostRolloutState,
  newPending,
  type OutboundAgentEvent,
  type RolloutId,
  type Timestamp
} from "../../src/domain/index.js"
import type { EventLogEntry } from "../../src/ports/eventLog.js"
import type { QueuedEvent } from "../../src/ports/outboundQueue.js"
import { Storage } from "../../src/ports/storage.js"
import { at, T0 } from "../support/host.js"

export { at, T0 }

let counter = 0
/** A fresh name with a readable prefix, unique in this process. */
export const fresh = (prefix: string): string => `${prefix}${(counter += 1).toString(36)}`

/** A fresh channel id. */
export const freshChannel = (): ChannelId => fresh("ch") as ChannelId

/** A rollout id on `channel` with a fresh ref. */
export const freshRollout = (channel: ChannelId = freshChannel()): RolloutId => `${channel}@${fresh("r")}` as RolloutId

/** A fresh hostname. */
export const freshHost = (): HostId => fresh("host-") as HostId

/** A closure hash. */
export const closure = (name: string): ClosureHash => name as ClosureHash

/** Opens a rollout (Opening, wave 0) and returns its id. */
export const openRollout = (options: { readonly channel?: ChannelId; readonly openedAt?: Timestamp } = {}) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const channel = options.channel ?? freshChannel()
    const rolloutId = freshRollout(channel)
    const ref = rolloutId.slice(rolloutId.indexOf("@") + 1) as ChannelRef
    yield* storage.openRollout({ rolloutId, channel, targetRef: ref, openedAt: options.openedAt ?? T0 })
    return rolloutId
  })

/** A Pending record of `hostname` in `rolloutId`. */
export const pending = (rolloutId: RolloutId, hostname: HostId = freshHost()): HostRolloutState =>
  newPending({
    rolloutId,
    hostname,
    channel: rolloutId.slice(0, rolloutId.indexOf("@")) as ChannelId,
    targetClosure: closure("target"),
    dispatchedAt: T0,
    soakDueAt: at(600)
  })

/** An event-log entry; agent events carry their agent seq. */
export const entry = (fields: Partial<EventLogEntry> = {}): EventLogEntry => ({
  kind: "plan_action",
  rolloutId: null,
  hostname: null,
  agentSeq: null,
  at: T0,
  payload: { action: "QueueDispatch" },
  ...fields
})

/** An agent_event entry for (hostname, rolloutId, agentSeq). */
export const agentEntry = (hostname: HostId, rolloutId: RolloutId, agentSeq: number, at: Timestamp = T0): EventLogEntry =>
  entry({ kind: "agent_event", hostname, rolloutId, agentSeq, at, payload: { kind: "ActivationStarted", seq: agentSeq } })

/** A queued ProbeResult (the richest wire kind) with `seq`. */
export const queued = (rolloutId: QueuedEvent["rolloutId"], seq: number, hostname = freshHost()): QueuedEvent => {
  const event: OutboundAgentEvent = {
    _tag: "ProbeResult",
    probeName: "evidence" as never,
    mode: "enforce",
    status: "fail",
    observedAt: at(seq),
    failureReason: "control art-21 failed",
    subResults: [{ controlId: "art-21", status: "fail", framework: "nis2", article: "21", effectiveMode: "enforce", overrideReason: null }],
    seq
  }
  return { hostname, rolloutId, createdAt: at(seq), event }
}

/** The rollout the durability child writes to. */
export const DURABLE_ROLLOUT = "durable@r1" as RolloutId
/** The host the durability child writes as. */
export const DURABLE_HOST = "durable-host" as HostId
