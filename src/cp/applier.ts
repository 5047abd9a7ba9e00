/**
 * The CP applier: carries out planner actions, the CP-side host effects of `step()` and the
 * effects of the rollout reducer, against Storage, recording what it did in the step's journal.
 *
 * Invariants: it never calls `step()` or `planNext()` (only the reducer does; it calls the rollout
 * reducer only through `processRolloutEvent`, on the reducer fiber); Local* effects are logged and
 * dropped; its writes run inside the reducer's transaction, and a failing write fails the step
 * (the reducer logs it and the next tick re-derives the action), never the fiber.
 */
import { Effect, Either, Option } from "effect"
import type { HostEffect } from "../domain/effects.js"
import { type HostRolloutState, newPending } from "../domain/hostState.js"
import { type ChannelId, type ClosureHash, type HostId, type RolloutId, rolloutChannel } from "../domain/ids.js"
import type { RolloutManifest } from "../domain/manifest.js"
import type { ProbeSubResult } from "../domain/probe.js"
import type { RolloutEffect, RolloutEvent } from "../domain/rollout.js"
import { formatRfc3339, type Timestamp } from "../domain/time.js"
import { stepRollout } from "../machine/rollout.js"
import type { OpenRollout, PlanAction, QueueDispatch } from "../planner/actions.js"
import { computeSoakDueAt } from "../planner/soak.js"
import type { StorageError } from "../ports/errors.js"
import { ACTIVE_ROLLOUT_STATES, type ProbeFailure, Storage } from "../ports/storage.js"
import { agentEventEntry, type DeferEntries, effectEntry, planActionEntry, rolloutEventEntry } from "./auditEntries.js"
import type { Journal } from "./journal.js"
import { resolvePolicy, type VerifiedManifests } from "./manifests.js"
import { DispatchNotifier } from "./notifier.js"

/** A manifest's host entry. */
type ManifestHostEntry = RolloutManifest["hostSet"][number]

/**
 * Each manifest host set's entries by hostname (the first entry of a name, as `find` gives),
 * built once per verified host set (keyed by its identity; the sets are immutable). A `find`
 * per dispatch scanned the whole set: O(hosts²) per rollout, ~50 million comparisons at 10,000.
 */
const hostIndexes = new WeakMap<ReadonlyArray<ManifestHostEntry>, ReadonlyMap<HostId, ManifestHostEntry>>()

/** `hostSet.find((h) => h.hostname === host)`, through the host set's index. */
const manifestHost = (hostSet: ReadonlyArray<ManifestHostEntry> | undefined, host: HostId): ManifestHostEntry | undefined => {
  if (hostSet === undefined) return undefined
  let index = hostIndexes.get(hostSet)
  if (index === undefined) {
    const byName = new Map<HostId, ManifestHostEntry>()
    for (const h of hostSet) if (!byName.has(h.hostname)) byName.set(h.hostname, h)
    index = byName
    hostIndexes.set(hostSet, index)
  }
  return index.get(host)
}

/** Soak when a policy wave gives none (reference default). */
const DEFAULT_SOAK_MINUTES = 60

/** What every applier path needs. */
export interface ApplyContext {
  readonly now: Timestamp
  readonly journal: Journal
  readonly manifests: VerifiedManifests
  /** Called after commit when a quarantine was inserted, to keep the in-memory set in step. */
  readonly onQuarantined: (channel: ChannelId, closure: ClosureHash) => Effect.Effect<void>
  /** The CP's gate-decision entries, each decision's payload encoded once (see {@link DeferEntries}). */
  readonly deferEntries: DeferEntries
}

type Deps = Storage | DispatchNotifier

/** Steps a rollout's aggregate with `event` and applies the resulting effects; an unknown rollout drops the event. */
export const processRolloutEvent = (
  ctx: ApplyContext,
  rolloutId: RolloutId,
  event: RolloutEvent
): Effect.Effect<void, StorageError, Storage> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const row = yield* storage.loadRollout(rolloutId)
    if (Option.isNone(row)) return yield* Effect.logWarning("rollout event for an unknown rollout dropped", { rolloutId, event: event._tag })
    ctx.journal.entries.push(rolloutEventEntry(ctx.now, rolloutId, event))
    const result = stepRollout(row.value, event, ctx.now)
    if (Either.isLeft(result)) return yield* Effect.logDebug("rollout reducer refused an event", result.left.message)
    for (const effect of result.right.effects) yield* applyRolloutEffect(ctx, effect)
  })

const applyRolloutEffect = (ctx: ApplyContext, effect: RolloutEffect): Effect.Effect<void, StorageError, Storage> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    switch (effect._tag) {
      case "RecordRolloutTransition":
        yield* storage.recordRolloutTransition(effect.rolloutId, effect.to, effect.at)
        ctx.journal.entries.push(
          effectEntry(ctx.now, effect.rolloutId, null, "RecordRolloutTransition", { from: effect.from, to: effect.to, at: formatRfc3339(effect.at) })
        )
        return
      case "UpdateCurrentWave":
        yield* storage.setCurrentWave(effect.rolloutId, effect.wave)
        return
      case "InsertQuarantineFromRollout":
        yield* quarantine(ctx, effect.channel, effect.closureHash, null)
        return
      case "SchedulePruning":
        return yield* Effect.logDebug("SchedulePruning is handled by the prune worker", effect)
    }
  })

const quarantine = (ctx: ApplyContext, channel: ChannelId, closure: ClosureHash, rolloutId: RolloutId | null) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const inserted = yield* storage.insertQuarantine({ channel, closureHash: closure, quarantinedAt: ctx.now, triggeringEventLogSeq: null })
    if (inserted) {
      ctx.journal.entries.push(effectEntry(ctx.now, rolloutId, null, "RemoteInsertQuarantine", { channel, closure }))
      ctx.journal.afterCommit.push(ctx.onQuarantined(channel, closure))
    }
  })

/** Failing enforce observations in a ProbeResult, for the compliance-wave gate's projection. */
const probeFailures = (host: HostId, rolloutId: RolloutId, at: Timestamp, effect: Extract<HostEffect, { _tag: "RemoteAppendEventLog" }>) => {
  const p = effect.payload
  if (p._tag !== "ProbeResult") return []
  const base = { rolloutId, hostname: host, probeName: p.probeName, observedAt: at, eventLogSeq: null }
  if (p.subResults !== null && p.subResults.length > 0) {
    return p.subResults
      .filter((s: ProbeSubResult) => s.status === "fail" && s.effectiveMode === "enforce")
      .map((s: ProbeSubResult): ProbeFailure => ({ ...base, controlId: s.controlId, framework: s.framework }))
  }
  return p.mode === "enforce" && p.status === "fail" ? [{ ...base, controlId: null, framework: null } satisfies ProbeFailure] : []
}

/** Carries out one effect of the host `step()` on the CP side. */
export const applyHostEffect = (ctx: ApplyContext, effect: HostEffect): Effect.Effect<void, StorageError, Deps> =>
  Effect.gen(function* () {
    const storage = yield* Storage
    switch (effect._tag) {
      case "RemoteAppendEventLog": {
        ctx.journal.entries.push(agentEventEntry(ctx.now, effect.host, effect.rolloutId, effect.payload))
        const failures = probeFailures(effect.host, effect.rolloutId, ctx.now, effect)
        if (failures.length > 0) yield* storage.insertProbeFailures(failures)
        return
      }
      case "RemoteInsertQuarantine":
        return yield* quarantine(ctx, effect.channel, effect.closure, null)
      case "RemoteQueueDispatch":
        return yield* queueDispatch(ctx, {
          _tag: "QueueDispatch",
          host: effect.host,
          rollout: effect.rolloutId,
          targetClosure: effect.targetClosure,
          soakDueAt: effect.soakDueAt
        })
      case "RemoteOpenRolloutRecord": {
        const manifest = ctx.manifests.set.rollouts.get(effect.channel)
        const host = manifestHost(manifest?.hostSet, effect.host)
        if (host === undefined) return yield* Effect.logWarning("RemoteOpenRolloutRecord for a host not in the manifest", effect)
        return yield* openHostRecord(ctx, effect.rolloutId, effect.channel, host)
      }
      case "RecordTransition":
        ctx.journal.entries.push(
          effectEntry(ctx.now, effect.rolloutId, effect.host, "RecordTransition", { from: effect.from, to: effect.to, at: formatRfc3339(effect.at) })
        )
        return
      case "EmitMetric":
        return yield* Effect.logDebug("metric", effect)
      case "EmitLog":
        return yield* Effect.log(effect.message).pipe(Effect.annotateLogs({ target: effect.target, level: effect.level }))
      case "LocalFireSwitch":
      case "LocalFireRollbackTo":
      case "LocalResetProbeCache":
      case "LocalEmitEvent":
        return yield* Effect.logWarning("agent-side effect reached the CP applier; dropped", { effect: effect._tag })
    }
  })

/** The soak of a policy wave, 60 minutes when the policy gives none. */
const soakMinutesFor = (ctx: ApplyContext, channel: ChannelId, waveIndex: number): number =>
  resolvePolicy(ctx.manifests, channel)?.waves[waveIndex]?.soakMinutes ?? DEFAULT_SOAK_MINUTES

/** Creates one host's Pending record at open time (soak computed from the policy wave) and joins it to the rollout. */
const openHostRecord = (
  ctx: ApplyContext,
  rolloutId: RolloutId,
  channel: ChannelId,
  host: { readonly hostname: HostId; readonly waveIndex: number; readonly targetClosure: ClosureHash }
) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const soakMinutes = soakMinutesFor(ctx, channel, host.waveIndex)
    const record: HostRolloutState = newPending({
      rolloutId,
      hostname: host.hostname,
      channel,
      targetClosure: host.targetClosure,
      dispatchedAt: ctx.now,
      soakDueAt: computeSoakDueAt(ctx.now, soakMinutes)
    })
    yield* storage.upsertHostRecord(record)
    yield* processRolloutEvent(ctx, rolloutId, { _tag: "HostJoined", rolloutId, hostId: host.hostname, wave: host.waveIndex, at: ctx.now })
  })

const openRollout = (ctx: ApplyContext, action: OpenRollout) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const manifest = ctx.manifests.set.rollouts.get(action.channel)
    if (manifest === undefined) return yield* Effect.logWarning("OpenRollout for a channel without a manifest", action)
    const predecessors = (yield* storage.listRollouts({ channel: action.channel, states: ACTIVE_ROLLOUT_STATES })).filter(
      (r) => r.rolloutId !== action.rolloutId
    )
    const created = yield* storage.openRollout({ rolloutId: action.rolloutId, channel: action.channel, targetRef: action.targetRef, openedAt: ctx.now })
    if (!created) return
    ctx.journal.entries.push(
      rolloutEventEntry(ctx.now, action.rolloutId, { _tag: "RolloutOpened", rolloutId: action.rolloutId, channel: action.channel, targetRef: action.targetRef, at: ctx.now })
    )
    for (const p of predecessors) {
      yield* processRolloutEvent(ctx, p.rolloutId, {
        _tag: "SuccessorOpened",
        supersededRolloutId: p.rolloutId,
        successorRolloutId: action.rolloutId,
        at: ctx.now
      })
    }
    for (const host of manifest.hostSet) yield* openHostRecord(ctx, action.rolloutId, action.channel, host)
    ctx.journal.entries.push(planActionEntry(ctx.now, action, { hosts: manifest.hostSet.map((h) => h.hostname) }))
  })

/**
 * The soak deadline of a dispatch. The reference fixes it when the rollout opens (spec §9.11), so
 * a later wave dispatched after the soak time has passed would converge with no soak at all — a
 * gate that never fires. We give a host a full soak window from its first dispatch: while its
 * record still carries the deadline fixed at opening (`dispatchedAt` + soak) and that leaves less
 * than a full window, the deadline becomes `now + soak of the host's policy wave` (once: the
 * record then carries the new deadline); a deadline that has passed is restarted the same way
 * (a host offline through its whole window). Only a Pending record no agent has acked is touched,
 * and it is updated in the same transaction, so the agent and the CP always hold one deadline.
 */
const dispatchSoakDueAt = (ctx: ApplyContext, action: QueueDispatch) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const channel = rolloutChannel(action.rollout)
    const wave = manifestHost(ctx.manifests.set.rollouts.get(channel)?.hostSet, action.host)?.waveIndex ?? 0
    const soakMinutes = soakMinutesFor(ctx, channel, wave)
    const full = computeSoakDueAt(ctx.now, soakMinutes)
    if (action.soakDueAt >= full) return action.soakDueAt
    const record = yield* storage.loadHostRecord(action.rollout, action.host)
    if (Option.isNone(record) || record.value.state !== "Pending" || record.value.dispatchAckedAt !== null) return action.soakDueAt
    const fixedAtOpening = record.value.dispatchedAt !== null && record.value.soakDueAt === computeSoakDueAt(record.value.dispatchedAt, soakMinutes)
    // Re-queues every tick must not keep moving a deadline an agent may already have taken: a
    // restarted deadline still ahead stands.
    if (!fixedAtOpening && action.soakDueAt > ctx.now) return action.soakDueAt
    yield* storage.upsertHostRecord({ ...record.value, soakDueAt: full })
    return full
  })

const queueDispatch = (ctx: ApplyContext, action: QueueDispatch) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const notifier = yield* DispatchNotifier
    yield* storage.enqueueDispatch({
      hostname: action.host,
      rolloutId: action.rollout,
      targetClosure: action.targetClosure,
      soakDueAt: yield* dispatchSoakDueAt(ctx, action),
      enqueuedAt: ctx.now
    })
    ctx.journal.afterCommit.push(notifier.kick(action.host))
    ctx.journal.deferredEntries.push(planActionEntry(ctx.now, action))
  })

/** Carries out one planner action. */
export const applyPlanAction = (ctx: ApplyContext, action: PlanAction): Effect.Effect<void, StorageError, Deps> => {
  switch (action._tag) {
    case "OpenRollout":
      return openRollout(ctx, action)
    case "QueueDispatch":
      return queueDispatch(ctx, action)
    case "DeferDispatch":
      return Effect.sync(() => {
        ctx.journal.deferredEntries.push(ctx.deferEntries.entry(ctx.now, action))
      })
  }
}
