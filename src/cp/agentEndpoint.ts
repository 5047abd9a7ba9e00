/**
 * The agent routes' logic, independent of any transport: report an event (answered only once
 * persisted), heartbeat, dispatch long-poll, the signed manifest and fleet.resolved. The HttpApi
 * handlers (src/cp/http/agentHandlers.ts) call it with the authenticated host; so can any other
 * transport (an in-process client, a lean HTTP fast path), which then answers exactly as HTTP does.
 *
 * Invariants: a method acts only for the authenticated host (Forbidden otherwise, before anything
 * is offered); every write goes through the reducer's queue (invariant 1); `postEvent` succeeds
 * only when the reducer applied and committed the event, or had already (duplicate); a full queue
 * or a late reply is `Unavailable` with Retry-After, never a silent drop.
 */
import { Clock, Context, type Deferred, Duration, Effect, Layer, Option } from "effect"
import type { AgentEventEnvelope } from "../domain/agentEvent.js"
import { toRemoteEvent } from "../domain/events.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import { type DispatchEntry, Storage } from "../ports/storage.js"
import { Conflict, Forbidden, NotFound, Unavailable } from "../wire/errors.js"
import type { HeartbeatRequest, HeartbeatResponse, SignedFleet, SignedManifest } from "../wire/schemas.js"
import { makeAsker, storageUnavailable } from "./http/ask.js"
import type { ResolvedHttpOptions } from "./http/config.js"
import { HttpMetrics } from "./http/metrics.js"
import { HostEventOutcome, type HeartbeatReply, ReducerInput } from "./input.js"
import { DispatchNotifier } from "./notifier.js"
import { CpReducer } from "./reducer.js"

/** The default longest dispatch long-poll, in seconds (`maxDispatchWaitSeconds` overrides it). */
export const MAX_DISPATCH_WAIT_SECONDS = 60

/** The settings the agent routes use (a subset of the HTTP layer's, with the same defaults). */
export type AgentEndpointOptions = Pick<
  ResolvedHttpOptions,
  "replyTimeout" | "busyRetryAfterSeconds" | "notReadyRetryAfterSeconds" | "maxDispatchWaitSeconds"
>

/** The agent routes, for an already authenticated host. */
export interface AgentEndpointService {
  /** Unavailable (503, Retry-After) until the CP holds verified manifests; every `/v1` route checks it first. */
  readonly readiness: Effect.Effect<void, Unavailable>
  /** Reports one event of `host`: succeeds once applied and persisted, or already held. */
  readonly postEvent: (host: HostId, envelope: AgentEventEnvelope) => Effect.Effect<void, Forbidden | NotFound | Conflict | Unavailable>
  /** A heartbeat of `host`: replay-from and, without a rollout, the bootstrap snapshots. */
  readonly heartbeat: (host: HostId, request: HeartbeatRequest) => Effect.Effect<HeartbeatResponse, Forbidden | Unavailable>
  /** Waits up to `waitSeconds` (capped) for `host`'s next dispatch; None when the wait ends without one. */
  readonly pollDispatch: (host: HostId, waitSeconds: number | undefined) => Effect.Effect<Option.Option<DispatchEntry>, Unavailable>
  /** The signed manifest of a rollout the CP verified. */
  readonly rolloutManifest: (rolloutId: RolloutId) => Effect.Effect<SignedManifest, NotFound>
  /** The signed fleet.resolved the CP verified. */
  readonly fleetResolved: Effect.Effect<SignedFleet, NotFound>
}

/** The authenticated host, or Forbidden when the request claims another one. */
const actingFor = (authenticated: HostId, claimed: HostId): Effect.Effect<HostId, Forbidden> =>
  authenticated === claimed ? Effect.succeed(authenticated) : Effect.fail(new Forbidden({ reason: `authenticated as ${authenticated}, not ${claimed}` }))

/** The agent routes over the CP core. */
export class AgentEndpoint extends Context.Tag("effect-fleet/AgentEndpoint")<AgentEndpoint, AgentEndpointService>() {
  /**
   * The routes over the reducer, storage and notifier in context; outcomes are counted in
   * HttpMetrics. Scoped: the reply-timeout sweeper of its reducer asks (src/cp/http/ask.ts) lives
   * in the layer's scope.
   */
  static readonly layer = (
    options: AgentEndpointOptions
  ): Layer.Layer<AgentEndpoint, never, CpReducer | Storage | DispatchNotifier | HttpMetrics> =>
    Layer.scoped(
      AgentEndpoint,
      Effect.gen(function* () {
        const reducer = yield* CpReducer
        const asker = yield* makeAsker(reducer, options.replyTimeout)
        const storage = yield* Storage
        const notifier = yield* DispatchNotifier
        const metrics = yield* HttpMetrics
        const busy = (reason: string) => new Unavailable({ reason, retryAfterSeconds: options.busyRetryAfterSeconds })
        const queueFull = busy("reducer queue full")
        const timedOut = busy(`reducer did not reply within ${Duration.format(options.replyTimeout)}`)
        const notReady = new Unavailable({
          reason: "control plane not ready: awaiting verified manifests",
          retryAfterSeconds: options.notReadyRetryAfterSeconds
        })

        /** The answer to the reducer's outcome (counted by outcome). */
        const eventAnswer = (host: HostId, rolloutId: RolloutId, outcome: HostEventOutcome): Effect.Effect<void, NotFound | Conflict | Unavailable> => {
          switch (outcome._tag) {
            case "Applied":
              return metrics.event("applied")
            case "Duplicate":
              return metrics.event("duplicate")
            case "UnknownRecord":
              return Effect.zipRight(metrics.event("unknown_record"), Effect.fail(new NotFound({ reason: `no record for host ${host} in rollout ${rolloutId}` })))
            case "NotReady":
              return Effect.zipRight(
                metrics.event("not_ready"),
                Effect.fail(new Unavailable({ reason: outcome.reason, retryAfterSeconds: options.notReadyRetryAfterSeconds }))
              )
            case "Rejected":
              return Effect.zipRight(metrics.event("rejected"), Effect.fail(new Conflict({ error: outcome.error })))
            case "Failed":
              return Effect.zipRight(metrics.event("failed"), Effect.fail(busy(`event not persisted: ${outcome.reason}`)))
          }
        }

        // Written without Effect.gen and with one match per step: this runs once per agent event.
        const postEvent = (authenticated: HostId, envelope: AgentEventEnvelope): Effect.Effect<void, Forbidden | NotFound | Conflict | Unavailable> =>
          authenticated !== envelope.hostname
            ? Effect.zipRight(metrics.event("forbidden"), Effect.asVoid(actingFor(authenticated, envelope.hostname)))
            : Effect.matchEffect(
                asker.ask((reply: Deferred.Deferred<HostEventOutcome>) =>
                  ReducerInput.HostEvent({ host: authenticated, rolloutId: envelope.rolloutId, event: toRemoteEvent(envelope.event), reply })
                ),
                {
                  onFailure: (e) =>
                    e._tag === "QueueFull"
                      ? Effect.zipRight(metrics.event("queue_full"), Effect.fail(queueFull))
                      : Effect.zipRight(metrics.event("timeout"), Effect.fail(timedOut)),
                  onSuccess: (outcome) => eventAnswer(authenticated, envelope.rolloutId, outcome)
                }
              )

        const heartbeat = (authenticated: HostId, request: HeartbeatRequest) =>
          Effect.gen(function* () {
            const host = yield* actingFor(authenticated, request.hostname)
            const reply = yield* asker.ask((deferred: Deferred.Deferred<HeartbeatReply, string>) =>
              ReducerInput.HeartbeatReceived({
                host,
                rolloutId: request.rolloutId,
                currentClosure: request.currentClosure,
                at: request.at,
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

        const unavailable = storageUnavailable(options.busyRetryAfterSeconds)
        // Subscribed before the first look, so a kick between the look and the wait is not missed.
        const pollDispatch = (host: HostId, waitSeconds: number | undefined) =>
          notifier.listening(host, (kicked) =>
            Effect.gen(function* () {
              const waitMillis = Math.min(waitSeconds ?? options.maxDispatchWaitSeconds, options.maxDispatchWaitSeconds) * 1000
              const deadline = (yield* Clock.currentTimeMillis) + waitMillis
              while (true) {
                const entry = yield* Effect.mapError(storage.takeDispatchForHost(host), unavailable)
                if (Option.isSome(entry)) return entry
                const remaining = deadline - (yield* Clock.currentTimeMillis)
                if (remaining <= 0) return Option.none<DispatchEntry>()
                yield* Effect.timeoutOption(kicked, remaining)
              }
            })
          )

        const rolloutManifest = (rolloutId: RolloutId) =>
          Effect.flatMap(reducer.state, (state) => {
            const signed = state.manifests?.rolloutArtifacts.get(rolloutId)
            return signed === undefined
              ? Effect.fail(new NotFound({ reason: `no verified manifest for rollout ${rolloutId}` }))
              : Effect.succeed({ rolloutId, manifest: signed.artifact, signature: signed.signature })
          })

        const fleetResolved = Effect.flatMap(reducer.state, (state) => {
          const fleet = state.manifests?.fleetArtifact
          return state.manifests === null || fleet === undefined
            ? Effect.fail(new NotFound({ reason: "no verified fleet.resolved bytes held" }))
            : Effect.succeed({ fleetHash: state.manifests.fleetHash, artifact: fleet.artifact, signature: fleet.signature })
        })

        return {
          readiness: Effect.flatMap(reducer.state, (s) => (s.manifests !== null ? Effect.void : Effect.fail(notReady))),
          postEvent,
          heartbeat,
          pollDispatch,
          rolloutManifest,
          fleetResolved
        } satisfies AgentEndpointService
      })
    )
}
