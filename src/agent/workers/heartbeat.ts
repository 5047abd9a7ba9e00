/**
 * The heartbeat worker (the advance ticker is in advance.ts).
 *
 * Heartbeat (spec §5.4, every 60 s): reports the running closure and merges the CP's snapshots of
 * this host's active records and of its current rollout's record (`BootstrapHost`; the reducer
 * keeps its own record when it is further, or level in the same state, so seq never goes
 * backwards). Decision: the running closure is reported only
 * when no event is waiting in the outbound queue and no activation is running; otherwise the
 * CP's recovery synthesis could invent an event at a seq the agent is about to send (the CP is
 * merely behind, not wrong); nor while the agent holds a record of that closure mid-way (see
 * `reportableClosure`). It also fetches the policies of channels the agent holds records
 * of but has no verified policy for (e.g. after a restart while fleet.resolved was unavailable).
 * A beat also runs as soon as a DispatchAck has been delivered, so the agent learns the CP's
 * soak deadline for the dispatch (the CP may have re-timed it while the ack was on its way), and
 * when a dispatch comes for a rollout the agent already moved past Pending (the snapshot shows
 * whether the CP lost the agent's transitions; the reducer then re-reports them).
 *
 * Invariant: a failed beat is logged and the next one runs on schedule; the loop never ends on
 * an error.
 */
import { Effect, Option, type Queue, type Ref } from "effect"
import type { HostState } from "../../domain/hostState.js"
import { now } from "../../ports/clock.js"
import type { ActivatorService } from "../../ports/activator.js"
import type { ControlPlaneClientService } from "../../ports/controlPlaneClient.js"
import type { OutboundQueueService } from "../../ports/outboundQueue.js"
import type { ResolvedAgentConfig } from "../config.js"
import { AgentInput } from "../input.js"
import type { PolicySource } from "../policySource.js"
import type { AgentState } from "../reducer.js"

/** What the heartbeat uses. */
export interface HeartbeatDeps {
  readonly config: ResolvedAgentConfig
  readonly client: ControlPlaneClientService
  readonly activator: ActivatorService
  readonly outbound: OutboundQueueService
  readonly policies: PolicySource
  /** True while the activation worker runs an intent. */
  readonly activationBusy: Ref.Ref<boolean>
  readonly state: Effect.Effect<AgentState>
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** Requests for a beat before the interval is up. */
  readonly beatNow: Queue.Dequeue<void>
  /** How many events the CP has accepted from this agent (see `AgentReducerDeps.acceptedEvents`). */
  readonly acceptedEvents: Effect.Effect<number>
}

/** States in which the agent's record of a rollout says more than the running closure would. */
const UNSETTLED: ReadonlySet<HostState> = new Set(["Activating", "Deferred", "Soaking", "Failed"])

/**
 * The closure to report: the running one, unless events are queued, an activation runs, or the
 * agent holds a record of that closure mid-way (see {@link UNSETTLED}).
 *
 * Decision: the CP synthesises from a reported closure what a record at that target must have
 * gone through — a record it holds Pending (its database was wiped) becomes Converged. For a host
 * still soaking, or failed under `halt` (still running the target), that is false: a failing
 * canary soaking through a wipe, or failed before it, would be recovered Converged and the rollout
 * would go on (issue 7). An agent holding such a record leaves the closure out; the reply's
 * snapshot shows the CP behind, and the reducer re-reports the record's real transitions.
 */
const reportableClosure = (deps: HeartbeatDeps) =>
  Effect.gen(function* () {
    const queued = yield* deps.outbound.size.pipe(Effect.orElseSucceed(() => 1))
    if (queued > 0 || (yield* deps.activationBusy.get)) return null
    const running = Option.getOrNull(yield* deps.activator.currentClosure)
    const { records } = yield* deps.state
    for (const record of records.values()) if (record.targetClosure === running && UNSETTLED.has(record.state)) return null
    return running
  })

/** Fetches the policies when a record's channel has none cached. */
const ensurePolicies = (deps: HeartbeatDeps) =>
  Effect.gen(function* () {
    const { policies, records } = yield* deps.state
    if ([...records.values()].every((r) => policies.has(r.channel))) return
    yield* deps.policies.refresh.pipe(Effect.catchAll((error) => Effect.logWarning("policy refresh failed", { reason: error.message })))
  })

/** One heartbeat. */
export const beat = (deps: HeartbeatDeps) =>
  Effect.gen(function* () {
    const currentClosure = yield* reportableClosure(deps)
    const at = yield* now
    const acceptedBefore = yield* deps.acceptedEvents
    const reply = yield* deps.client.heartbeat({ hostname: deps.config.hostname, rolloutId: null, currentClosure, at })
    for (const snapshot of reply.bootstrapRollouts) yield* deps.offer(AgentInput.BootstrapHost({ snapshot, boot: false, acceptedBefore }))
    if (reply.replayFrom !== null) yield* Effect.logInfo("the CP asked for a replay; the outbound queue already re-sends", { from: reply.replayFrom })
    yield* ensurePolicies(deps)
  }).pipe(Effect.withSpan("Agent.heartbeat"))

/** The heartbeat loop: a beat every interval (the boot handshake was the first one), or sooner when asked. */
export const heartbeatWorker = (deps: HeartbeatDeps): Effect.Effect<never> =>
  Effect.forever(
    Effect.zipRight(
      Effect.raceFirst(Effect.sleep(deps.config.heartbeatInterval), deps.beatNow.take),
      beat(deps).pipe(Effect.catchAllCause((cause) => Effect.logWarning("heartbeat failed; the next one runs on schedule", cause)))
    )
  )
