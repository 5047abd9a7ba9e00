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
import { type DeferDispatch, PlanAction } from "../planner/actions.js"
import type { GateBlock } from "../planner/gateBlock.js"
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

/** The gate-decision payload of a deferral: what {@link planActionEntry} logs for it. */
const deferPayload = (action: DeferDispatch): unknown => deepFreeze(planActionEntry(0 as Timestamp, action).payload)

const deepFreeze = <T>(value: T): T => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

/** Whether two gate blocks carry the same fields (blocks are flat: a tag and primitive fields). */
const sameBlock = (a: GateBlock, b: GateBlock): boolean => {
  if (a._tag !== b._tag) return false
  const x = a as unknown as Readonly<Record<string, unknown>>
  const y = b as unknown as Readonly<Record<string, unknown>>
  for (const key in x) if (x[key] !== y[key]) return false
  for (const key in y) if (!(key in x)) return false
  return true
}

/**
 * Gate-decision entries of DeferDispatch actions with their payloads encoded once per (host,
 * decision): the spec logs a deferral every plan tick (A15: no debouncing), so a host waiting
 * behind a wave is logged with the same payload tick after tick — a 2,000-host canary wave logs
 * ~2,000 per 15 s tick. Encoding each one through the PlanAction schema was ~9 % of a 2k-host
 * scale run's CPU (bench/suites/sim.ts, measured by not logging them at all), and each entry held
 * its own copy of the payload. The payload is the one {@link planActionEntry} builds, deep-frozen
 * so every entry of the same decision can share it (the memory event log stores a frozen plain
 * payload as is). One per CP (the reducer's); it keeps the latest decision per host.
 */
export interface DeferEntries {
  /** The entry of `action` at `at`, identical to `planActionEntry(at, action)`. */
  readonly entry: (at: Timestamp, action: DeferDispatch) => EventLogEntry
}

/** A new, empty {@link DeferEntries} (owned by one fiber: the reducer's). */
export const makeDeferEntries = (): DeferEntries => {
  const latest = new Map<HostId, { readonly action: DeferDispatch; readonly payload: unknown }>()
  return {
    entry: (at, action) => {
      const cached = latest.get(action.host)
      const hit =
        cached !== undefined &&
        cached.action.rollout === action.rollout &&
        cached.action.gate === action.gate &&
        cached.action.reason === action.reason &&
        sameBlock(cached.action.block, action.block)
      const payload = hit ? cached.payload : deferPayload(action)
      if (!hit) latest.set(action.host, { action, payload })
      return entry("gate_decision", at, action.rollout, action.host, payload)
    }
  }
}
