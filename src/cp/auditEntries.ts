/**
 * Builders of the CP's audit-log entries (agent events, plan actions, gate decisions, rollout
 * events, effects), with their JSON payloads.
 *
 * Invariant: every payload is plain JSON in the wire shape (camelCase, `kind`-tagged, RFC 3339
 * times), so the event log can be read without this library.
 */
import { Schema } from "effect"
import { OutboundAgentEvent } from "../domain/agentEvent.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import { RolloutEvent } from "../domain/rollout.js"
import type { Timestamp } from "../domain/time.js"
import { PlanAction } from "../planner/actions.js"
import type { EventLogEntry, EventLogKind } from "../ports/eventLog.js"

const encodeAgentEvent = Schema.encodeSync(OutboundAgentEvent)
const encodeRolloutEvent = Schema.encodeSync(RolloutEvent)
const encodePlanAction = Schema.encodeSync(PlanAction)

/** Renames a `_tag` discriminator to `kind`, the log's tag. */
const kindTagged = (value: { readonly _tag: string }): Record<string, unknown> => {
  const { _tag, ...rest } = value
  return { kind: _tag, ...rest }
}

const entry = (
  kind: EventLogKind,
  at: Timestamp,
  rolloutId: RolloutId | null,
  hostname: HostId | null,
  payload: unknown,
  agentSeq: number | null = null
): EventLogEntry => ({ kind, at, rolloutId, hostname, agentSeq, payload })

/** An agent's event as received, keyed for idempotence by (host, rollout, agent seq). */
export const agentEventEntry = (at: Timestamp, host: HostId, rolloutId: RolloutId, payload: OutboundAgentEvent): EventLogEntry =>
  entry("agent_event", at, rolloutId, host, encodeAgentEvent(payload), payload.seq)

/** A rollout-level event, logged before the rollout reducer validates it (as the reference). */
export const rolloutEventEntry = (at: Timestamp, rolloutId: RolloutId, event: RolloutEvent): EventLogEntry =>
  entry("rollout_event", at, rolloutId, null, kindTagged(encodeRolloutEvent(event) as { _tag: string }))

/** A planner action the applier carried out. */
export const planActionEntry = (at: Timestamp, action: PlanAction, extra: Record<string, unknown> = {}): EventLogEntry => {
  const rolloutId = action._tag === "OpenRollout" ? action.rolloutId : action.rollout
  const host = action._tag === "OpenRollout" ? null : action.host
  const kind = action._tag === "DeferDispatch" ? "gate_decision" : "plan_action"
  return entry(kind, at, rolloutId, host, { ...kindTagged(encodePlanAction(action) as { _tag: string }), ...extra })
}

/** An applied effect (a host or rollout transition, a quarantine). */
export const effectEntry = (
  at: Timestamp,
  rolloutId: RolloutId | null,
  host: HostId | null,
  effect: string,
  fields: Record<string, unknown>
): EventLogEntry => entry("effect", at, rolloutId, host, { effect, ...fields })
