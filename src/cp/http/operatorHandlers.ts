/**
 * The operator routes (fleet status, rollout status, trace, explain, metrics) and the health
 * probes.
 *
 * Invariant: read-only — these handlers only read storage, the event log and the reducer's
 * in-memory state; none offers an input or writes anything (explain runs the gates, never
 * `planNext`).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option } from "effect"
import type { HostRolloutState } from "../../domain/hostState.js"
import type { RolloutId } from "../../domain/ids.js"
import { toSnapshot } from "../../domain/snapshot.js"
import { explain } from "../../planner/explain.js"
import { EventLog } from "../../ports/eventLog.js"
import { ACTIVE_ROLLOUT_STATES, Storage } from "../../ports/storage.js"
import { FleetApi } from "../../wire/api.js"
import { NotFound, Unavailable } from "../../wire/errors.js"
import { CpReducer, loadFleetStateFrom } from "../reducer.js"
import { storageUnavailable } from "./ask.js"
import type { ResolvedHttpOptions } from "./config.js"
import { HttpMetrics, renderPrometheus } from "./metrics.js"
import { explanationView, rolloutSummaryView, traceEntry } from "./views.js"
import { now as currentTime } from "../../ports/clock.js"

/** Entries per trace page when the request sets no limit. */
export const DEFAULT_TRACE_LIMIT = 1000

const groupByRollout = (records: ReadonlyArray<HostRolloutState>): ReadonlyMap<RolloutId, ReadonlyArray<HostRolloutState>> => {
  const out = new Map<RolloutId, Array<HostRolloutState>>()
  for (const r of records) {
    const group = out.get(r.rolloutId)
    if (group === undefined) out.set(r.rolloutId, [r])
    else group.push(r)
  }
  return out
}

const countBy = <K extends string>(items: Iterable<{ readonly state: K }>): ReadonlyMap<K, number> => {
  const out = new Map<K, number>()
  for (const i of items) out.set(i.state, (out.get(i.state) ?? 0) + 1)
  return out
}

/** The operator group's handlers. */
export const layerOperatorHandlers = (options: ResolvedHttpOptions) =>
  HttpApiBuilder.group(FleetApi, "operator", (handlers) =>
    Effect.gen(function* () {
      const reducer = yield* CpReducer
      const storage = yield* Storage
      const eventLog = yield* EventLog
      const metrics = yield* HttpMetrics
      const unavailable = storageUnavailable(options.busyRetryAfterSeconds)

      return handlers
        .handle("fleetStatus", () =>
          Effect.gen(function* () {
            const state = yield* reducer.state
            const rollouts = yield* storage.listRollouts()
            const byRollout = groupByRollout(yield* storage.allHostRecords)
            return {
              ready: state.manifests !== null,
              fleetHash: state.manifests?.fleetHash ?? null,
              rollouts: rollouts.map((r) => rolloutSummaryView(r, byRollout.get(r.rolloutId) ?? []))
            }
          }).pipe(Effect.mapError(unavailable))
        )
        .handle("rollout", ({ path }) =>
          Effect.gen(function* () {
            const rollout = yield* storage.loadRollout(path.rolloutId).pipe(Effect.mapError(unavailable))
            if (Option.isNone(rollout)) return yield* new NotFound({ reason: `no rollout ${path.rolloutId}` })
            const records = yield* storage.hostRecordsForRollout(path.rolloutId).pipe(Effect.mapError(unavailable))
            return { ...rolloutSummaryView(rollout.value, records), hosts: records.map(toSnapshot) }
          })
        )
        .handle("trace", ({ path, urlParams }) =>
          Effect.gen(function* () {
            const limit = urlParams.limit ?? DEFAULT_TRACE_LIMIT
            const query = urlParams.afterSeq === undefined ? { limit } : { limit, afterSeq: urlParams.afterSeq }
            const entries = yield* eventLog.byRollout(path.rolloutId, query).pipe(Effect.mapError(unavailable))
            // A pruned rollout keeps its audit trail: 404 only when neither the row nor any entry exists.
            if (entries.length === 0 && urlParams.afterSeq === undefined) {
              const rollout = yield* storage.loadRollout(path.rolloutId).pipe(Effect.mapError(unavailable))
              if (Option.isNone(rollout)) return yield* new NotFound({ reason: `no rollout ${path.rolloutId}` })
            }
            const last = entries[entries.length - 1]
            return {
              rolloutId: path.rolloutId,
              entries: entries.map(traceEntry),
              nextAfterSeq: entries.length === limit && last !== undefined ? last.seq : null
            }
          })
        )
        .handle("explain", ({ path, urlParams }) =>
          Effect.gen(function* () {
            const { manifests, quarantines } = yield* reducer.state
            if (manifests === null) {
              return yield* new Unavailable({ reason: "no verified manifests yet", retryAfterSeconds: options.notReadyRetryAfterSeconds })
            }
            const fleetState = yield* loadFleetStateFrom(storage, manifests).pipe(Effect.mapError(unavailable))
            const now = (yield* currentTime)
            const explanation = explain(path.hostname, manifests.set, fleetState, quarantines, now, urlParams.rolloutId)
            if (explanation === null) {
              return yield* new NotFound({
                reason: `no record for host ${path.hostname}${urlParams.rolloutId === undefined ? " in a current rollout" : ` in rollout ${urlParams.rolloutId}`}`
              })
            }
            return explanationView(explanation)
          })
        )
        .handle("metrics", () =>
          Effect.gen(function* () {
            const state = yield* reducer.state
            const rollouts = yield* storage.listRollouts()
            const live = new Set(rollouts.filter((r) => ACTIVE_ROLLOUT_STATES.includes(r.state)).map((r) => r.rolloutId))
            const records = (yield* storage.allHostRecords).filter((r) => live.has(r.rolloutId))
            return renderPrometheus(yield* metrics.snapshot, {
              ready: state.manifests !== null,
              // Queue.size counts a waiting taker (the idle reducer fiber) as -1.
              reducerBacklog: Math.max(0, yield* reducer.backlog),
              hostsByState: countBy(records),
              rolloutsByState: countBy(rollouts)
            })
          }).pipe(Effect.mapError(unavailable))
        )
    })
  )

/** The health group's handlers: liveness always, readiness once manifests are verified. */
export const layerHealthHandlers = (options: ResolvedHttpOptions) =>
  HttpApiBuilder.group(FleetApi, "health", (handlers) =>
    Effect.map(CpReducer, (reducer) =>
      handlers.handle("healthz", () => Effect.succeed({ ok: true, version: options.version })).handle("readyz", () =>
        Effect.flatMap(reducer.state, ({ manifests }) =>
          manifests === null
            ? Effect.fail(
                new Unavailable({
                  reason: "control plane not ready: awaiting verified manifests",
                  retryAfterSeconds: options.notReadyRetryAfterSeconds
                })
              )
            : Effect.succeed({ ready: true, fleetHash: manifests.fleetHash })
        )
      )
    )
  )
