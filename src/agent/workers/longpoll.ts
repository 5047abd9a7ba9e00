/**
 * The dispatch long-poll (spec §5.4): asks the CP for this host's next dispatch, checks it
 * against the signed manifest, and turns it into a `LocalActivate`.
 *
 * Invariants: a dispatch is acted on only after the dispatch names this host, its manifest
 * verifies and lists this host with the dispatched closure, and the channel's policy has been
 * offered to the reducer; `currentClosureAtDispatch` is the closure running now (the reference
 * put the target there, spec §9.8); `receivedAt` is the dispatch's `enqueuedAt` (as the
 * reference's `received_at: enqueued_at`, spec §5.4), so the DispatchAck names the dispatch it
 * answers on the CP's clock, however long verification waited. A dispatch dropped here is not
 * lost: the CP queues it again on its next plan tick while the host is Pending and unacked. A
 * dispatch of a rollout the agent already moved past Pending is not acted on: it asks for a
 * heartbeat, whose snapshot lets the reducer re-report the transitions a CP that lost them misses
 * (a dispatch queued before the CP took the agent's ack is stale, and says nothing by itself).
 * Errors back off; never a crash loop.
 */
import { Effect, Option, Schedule } from "effect"
import type { ActivatorService } from "../../ports/activator.js"
import type { ControlPlaneClientService, CpError } from "../../ports/controlPlaneClient.js"
import type { DispatchEntry } from "../../ports/storage.js"
import type { ResolvedAgentConfig } from "../config.js"
import { AgentInput } from "../input.js"
import type { PolicySource } from "../policySource.js"
import type { AgentState } from "../reducer.js"
import { cpBackoff, retryUnavailable } from "../retry.js"

/** What the long-poll uses. */
export interface LongPollDeps {
  readonly config: ResolvedAgentConfig
  readonly client: ControlPlaneClientService
  readonly activator: ActivatorService
  readonly policies: PolicySource
  readonly state: Effect.Effect<AgentState>
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** Asks the heartbeat worker for a beat now. */
  readonly requestBeat: Effect.Effect<void>
}

/** Verification is retried this many times while the CP is unavailable; then the dispatch waits for the CP's re-queue. */
const VERIFY_RETRIES = 3

/** Acts on one dispatch. */
export const handleDispatch = (deps: LongPollDeps, entry: DispatchEntry): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (entry.hostname !== deps.config.hostname) {
      return yield* Effect.logWarning("dispatch for another host ignored", { hostname: entry.hostname, rolloutId: entry.rolloutId })
    }
    const known = (yield* deps.state).records.get(entry.rolloutId)
    if (known !== undefined && known.state !== "Pending") {
      // The CP held the host Pending and unacked when it queued this: its storage may have lost the
      // agent's transitions (a wipe), or the ack was on its way. A beat now shows which; the reducer
      // brings a CP that is behind level from the beat's snapshot.
      yield* Effect.logDebug("dispatch of a rollout already acked; asking for a heartbeat", { rolloutId: entry.rolloutId, state: known.state })
      return yield* deps.requestBeat
    }
    const verified = yield* Effect.either(retryUnavailable(deps.policies.forDispatch(entry), VERIFY_RETRIES))
    if (verified._tag === "Left") {
      return yield* Effect.logError("dispatch not acted on", { rolloutId: entry.rolloutId, reason: verified.left.message })
    }
    const running = yield* deps.activator.currentClosure
    if (Option.isNone(running)) {
      yield* Effect.logWarning("the running closure is unreadable; recording the target as the closure at dispatch", { rolloutId: entry.rolloutId })
    }
    // Decision: the reference's value, not the agent's clock after verification (which may have
    // waited for a CP restart, or outlived the storage of the CP that queued the dispatch): an ack
    // dated before its rollout was opened in the CP's storage answers a dispatch of the storage
    // before a wipe (the simulator's dispatch-gate invariants tell these apart by it).
    const receivedAt = entry.enqueuedAt
    yield* deps.offer(
      AgentInput.HostEvent({
        rolloutId: entry.rolloutId,
        event: {
          _tag: "LocalActivate",
          currentClosureAtDispatch: Option.getOrElse(running, () => entry.targetClosure),
          receivedAt,
          targetClosure: entry.targetClosure,
          soakDueAt: entry.soakDueAt,
          seq: 0
        },
        dispatchedAt: entry.enqueuedAt
      })
    )
  }).pipe(Effect.withSpan("Agent.dispatch", { attributes: { rolloutId: entry.rolloutId } }))

/** The worker loop: poll, act, poll again at once; back off after errors. */
export const longPollWorker = (deps: LongPollDeps): Effect.Effect<never> =>
  Effect.gen(function* () {
    const backoff = yield* Schedule.driver(cpBackoff)
    const failed = (error: CpError) =>
      Effect.zipRight(Effect.logWarning("dispatch poll failed; backing off", { reason: error.message }), Effect.ignore(backoff.next(error)))
    return yield* Effect.forever(
      deps.client.pollDispatch(deps.config.dispatchWaitSeconds).pipe(
        Effect.matchEffect({
          onFailure: failed,
          onSuccess: (entry) => Effect.zipRight(backoff.reset, Option.match(entry, { onNone: () => Effect.void, onSome: (e) => handleDispatch(deps, e) }))
        }),
        Effect.catchAllCause((cause) => Effect.logError("dispatch poll: unexpected failure", cause))
      )
    )
  })
