/**
 * The agent routes: events (answered only once persisted), heartbeat, dispatch long-poll and the
 * signed manifest.
 *
 * Invariants: a route acts only for the authenticated host (403 otherwise, before anything is
 * offered); every write goes through the reducer's queue (invariant 1); 204 on events means the
 * reducer applied and committed the event, or had already (duplicate).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Clock, type Deferred, Duration, Effect, Option } from "effect"
import { toRemoteEvent } from "../../domain/events.js"
import type { HostId } from "../../domain/ids.js"
import { Storage } from "../../ports/storage.js"
import { FleetApi } from "../../wire/api.js"
import { Conflict, Forbidden, NotFound, Unavailable } from "../../wire/errors.js"
import { AuthenticatedHost } from "../../wire/security.js"
import { HostEventOutcome, type HeartbeatReply, ReducerInput } from "../input.js"
import { DispatchNotifier } from "../notifier.js"
import { CpReducer } from "../reducer.js"
import { ask, storageUnavailable } from "./ask.js"
import type { ResolvedHttpOptions } from "./config.js"
import { HttpMetrics } from "./metrics.js"

/** The default longest dispatch long-poll, in seconds (`maxDispatchWaitSeconds` overrides it). */
export const MAX_DISPATCH_WAIT_SECONDS = 60

/** The authenticated host, or Forbidden when the request claims another one. */
const actingFor = (claimed: HostId) =>
  Effect.flatMap(AuthenticatedHost, (host) =>
    host === claimed ? Effect.succeed(host) : Effect.fail(new Forbidden({ reason: `authenticated as ${host}, not ${claimed}` }))
  )

/** The agent group's handlers. */
export const layerAgentHandlers = (options: ResolvedHttpOptions) =>
  HttpApiBuilder.group(FleetApi, "agent", (handlers) =>
    Effect.gen(function* () {
      const reducer = yield* CpReducer
      const storage = yield* Storage
      const notifier = yield* DispatchNotifier
      const metrics = yield* HttpMetrics
      const busy = (reason: string) => new Unavailable({ reason, retryAfterSeconds: options.busyRetryAfterSeconds })
      const queueFull = busy("reducer queue full")
      const timedOut = busy(`reducer did not reply within ${Duration.format(options.replyTimeout)}`)

      return handlers
        .handle("events", ({ payload }) =>
          Effect.gen(function* () {
            const host = yield* actingFor(payload.hostname).pipe(Effect.tapError(() => metrics.event("forbidden")))
            const outcome = yield* ask(reducer, options.replyTimeout, (reply: Deferred.Deferred<HostEventOutcome>) =>
              ReducerInput.HostEvent({ host, rolloutId: payload.rolloutId, event: toRemoteEvent(payload.event), reply })
            ).pipe(
              Effect.catchTags({
                QueueFull: () => Effect.zipRight(metrics.event("queue_full"), Effect.fail(queueFull)),
                ReplyTimeout: () => Effect.zipRight(metrics.event("timeout"), Effect.fail(timedOut))
              })
            )
            return yield* HostEventOutcome.$match(outcome, {
              Applied: () => metrics.event("applied"),
              Duplicate: () => metrics.event("duplicate"),
              UnknownRecord: () =>
                Effect.zipRight(
                  metrics.event("unknown_record"),
                  Effect.fail(new NotFound({ reason: `no record for host ${host} in rollout ${payload.rolloutId}` }))
                ),
              NotReady: ({ reason }) =>
                Effect.zipRight(
                  metrics.event("not_ready"),
                  Effect.fail(new Unavailable({ reason, retryAfterSeconds: options.notReadyRetryAfterSeconds }))
                ),
              Rejected: ({ error }) => Effect.zipRight(metrics.event("rejected"), Effect.fail(new Conflict({ error }))),
              Failed: ({ reason }) => Effect.zipRight(metrics.event("failed"), Effect.fail(busy(`event not persisted: ${reason}`)))
            })
          })
        )
        .handle("heartbeat", ({ payload }) =>
          Effect.gen(function* () {
            const host = yield* actingFor(payload.hostname)
            const reply = yield* ask(reducer, options.replyTimeout, (deferred: Deferred.Deferred<HeartbeatReply, string>) =>
              ReducerInput.HeartbeatReceived({
                host,
                rolloutId: payload.rolloutId,
                currentClosure: payload.currentClosure,
                at: payload.at,
                reply: deferred
              })
            ).pipe(
              Effect.catchTags({ QueueFull: () => Effect.fail(queueFull), ReplyTimeout: () => Effect.fail(timedOut) }),
              Effect.catchIf(
                (e): e is string => typeof e === "string",
                (reason) => Effect.fail(busy(`heartbeat not persisted: ${reason}`))
              )
            )
            yield* metrics.heartbeat
            return reply
          })
        )
        .handle("dispatch", ({ urlParams }) =>
          Effect.scoped(
            Effect.gen(function* () {
              const host = yield* AuthenticatedHost
              const waitMillis = Math.min(urlParams.wait ?? options.maxDispatchWaitSeconds, options.maxDispatchWaitSeconds) * 1000
              // Subscribe before the first look, so a kick between the look and the wait is not missed.
              const kicked = yield* notifier.subscribe(host)
              const deadline = (yield* Clock.currentTimeMillis) + waitMillis
              while (true) {
                const entry = yield* storage.takeDispatchForHost(host).pipe(Effect.mapError(storageUnavailable(options.busyRetryAfterSeconds)))
                if (Option.isSome(entry)) return entry.value
                const remaining = deadline - (yield* Clock.currentTimeMillis)
                if (remaining <= 0) return undefined
                yield* Effect.timeoutOption(kicked, remaining)
              }
            })
          )
        )
        .handle("manifest", ({ path }) =>
          Effect.flatMap(reducer.state, (state) => {
            const signed = state.manifests?.rolloutArtifacts.get(path.rolloutId)
            return signed === undefined
              ? Effect.fail(new NotFound({ reason: `no verified manifest for rollout ${path.rolloutId}` }))
              : Effect.succeed({ rolloutId: path.rolloutId, manifest: signed.artifact, signature: signed.signature })
          })
        )
        .handle("fleetResolved", () =>
          Effect.flatMap(reducer.state, (state) => {
            const fleet = state.manifests?.fleetArtifact
            return state.manifests === null || fleet === undefined
              ? Effect.fail(new NotFound({ reason: "no verified fleet.resolved bytes held" }))
              : Effect.succeed({ fleetHash: state.manifests.fleetHash, artifact: fleet.artifact, signature: fleet.signature })
          })
        )
    })
  )
