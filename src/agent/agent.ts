/**
 * The agent runtime as one layer: `layer(config)` starts the reducer, the applier's queues and
 * the workers (outbound drainer, activation, probes), runs the boot handshake, then starts the
 * dispatch long-poll, the heartbeat and the advance ticker — every one a fiber in the layer's
 * scope. Idle agents do not wake: the advance ticker sleeps until a record can advance, the
 * drainer until an event is queued, and probe tickers stop once their record has left Soaking.
 *
 * Invariants: closing the layer's scope interrupts every fiber of the agent (nothing outlives
 * it; events already written to the OutboundQueue stay there for the next start); no dispatch
 * is taken before the handshake has rehydrated the CP's records; every queue is bounded.
 */
import { Context, Deferred, Effect, FiberSet, Layer, Queue, Ref } from "effect"
import type { HostId, RolloutId } from "../domain/ids.js"
import { Activator } from "../ports/activator.js"
import { ControlPlaneClient } from "../ports/controlPlaneClient.js"
import { OutboundQueue } from "../ports/outboundQueue.js"
import { ProbeRunner } from "../ports/probeRunner.js"
import { type AgentConfig, resolveAgentConfig } from "./config.js"
import { type ActivationIntent, AgentInput } from "./input.js"
import { makePolicySource } from "./policySource.js"
import { type AgentState, makeAgentReducer } from "./reducer.js"
import { bootHandshake, type HandshakeOutcome } from "./recovery.js"
import { activationWorker } from "./workers/activation.js"
import { makeDrainer } from "./workers/drainer.js"
import { advanceTicker } from "./workers/advance.js"
import { heartbeatWorker } from "./workers/heartbeat.js"
import { longPollWorker } from "./workers/longpoll.js"
import { probeWorker } from "./workers/probes.js"

/** Activation intents waiting: 4, the reference's; one per dispatch ack or failure, run one at a time. */
const ACTIVATION_QUEUE_CAPACITY = 4
/** Probe resets waiting: 4, the reference's; sliding, since only the latest reset matters and the reducer must never wait on it. */
const PROBE_RESET_CAPACITY = 4
/** Drainer kicks, early-heartbeat requests and record changes: 1 each; a kick is a flag, one pending wakes the worker. */
const KICK_CAPACITY = 1

/** A running agent, as tests, the simulator and embedding applications see it. */
export interface AgentService {
  readonly hostname: HostId
  /** The agent's records and cached policies. */
  readonly state: Effect.Effect<AgentState>
  /** Waits for the boot handshake; the long-poll, heartbeat and advance ticker run from then on. */
  readonly ready: Effect.Effect<HandshakeOutcome>
  /** Waits until every input offered to the reducer before the call has been processed. */
  readonly barrier: Effect.Effect<void>
  /** Runs outbound drain passes now until the queue is empty (backing off while the CP is unavailable). */
  readonly flush: Effect.Effect<void>
  /** Events dropped since start because the CP refused them for good (400/404/409/413). */
  readonly droppedEvents: Effect.Effect<number>
}

/** The agent runtime. */
export class Agent extends Context.Tag("effect-fleet/Agent")<Agent, AgentService>() {}

/** The agent: reducer, applier and workers over the CP client, the Activator, the ProbeRunner and the OutboundQueue. */
export const layer = (config: AgentConfig): Layer.Layer<Agent, never, ControlPlaneClient | Activator | ProbeRunner | OutboundQueue> =>
  Layer.scoped(
    Agent,
    Effect.gen(function* () {
      const cfg = resolveAgentConfig(config)
      const client = yield* ControlPlaneClient
      const activator = yield* Activator
      const runner = yield* ProbeRunner
      const outbound = yield* OutboundQueue
      const scope = yield* Effect.scope

      const activations = yield* Queue.bounded<ActivationIntent>(ACTIVATION_QUEUE_CAPACITY)
      const probeResets = yield* Queue.sliding<RolloutId>(PROBE_RESET_CAPACITY)
      const kicks = yield* Queue.sliding<void>(KICK_CAPACITY)
      const beatNow = yield* Queue.sliding<void>(KICK_CAPACITY)
      const recordsChanged = yield* Queue.sliding<void>(KICK_CAPACITY)
      const activationBusy = yield* Ref.make(false)
      const tickers = yield* FiberSet.make()
      // Events the CP accepted, counted before each leaves the outbound queue (see AgentReducerDeps.acceptedEvents).
      const accepted = yield* Ref.make(0)
      const acceptedEvents = Ref.get(accepted)
      const requestBeat = Queue.offer(beatNow, undefined).pipe(Effect.asVoid)

      const requiredProbes = cfg.probes.filter(([, d]) => d.mode === "enforce").map(([name]) => name)
      const reducer = yield* makeAgentReducer({
        hostname: cfg.hostname,
        requiredProbes,
        acceptedEvents,
        outbound,
        activations,
        probeResets,
        kick: Queue.offer(kicks, undefined).pipe(Effect.asVoid),
        recordsChanged: Queue.offer(recordsChanged, undefined).pipe(Effect.asVoid)
      })
      const offer = reducer.offer
      const drainer = yield* makeDrainer({
        outbound,
        client,
        kicks,
        interval: cfg.drainInterval,
        onAccepted: () => Ref.update(accepted, (n) => n + 1),
        onDelivered: (entry) => (entry.event._tag === "DispatchAck" ? requestBeat : Effect.void),
        // A refused Converged: the reducer takes the CP's Soaking record back from the next beat's snapshot, asked for now.
        onRefused: (entry) =>
          entry.event._tag === "Converged"
            ? Effect.zipRight(
                reducer.offer(AgentInput.ConvergedRefused({ rolloutId: entry.rolloutId, seq: entry.event.seq })),
                Queue.offer(beatNow, undefined)
              ).pipe(Effect.asVoid)
            : Effect.void
      })
      const policies = makePolicySource(cfg, client, offer)

      yield* Effect.forkScoped(drainer.worker)
      yield* Effect.forkScoped(activationWorker({ intents: activations, activator, offer, busy: activationBusy }))
      // A probe ticker stops once its record has left Soaking: probe events are refused from then on.
      const stillSoaking = (rolloutId: RolloutId) =>
        Effect.map(reducer.state, (s) => {
          const record = s.records.get(rolloutId)
          return record === undefined || record.state === "Soaking"
        })
      yield* Effect.forkScoped(
        probeWorker({ resets: probeResets, runner, offer, probes: cfg.probes, minInterval: cfg.minProbeInterval, tickers, stillSoaking })
      )

      const ready = yield* Deferred.make<HandshakeOutcome>()
      const start = Effect.gen(function* () {
        const outcome = yield* bootHandshake({ config: cfg, client, activator, outbound, reducer, drainer, policies, acceptedEvents })
        const state = reducer.state
        yield* Effect.forkIn(longPollWorker({ config: cfg, client, activator, policies, state, offer, requestBeat }), scope)
        yield* Effect.forkIn(
          heartbeatWorker({ config: cfg, client, activator, outbound, policies, activationBusy, state, offer, beatNow, acceptedEvents }),
          scope
        )
        yield* Effect.forkIn(advanceTicker({ interval: cfg.advanceInterval, state, offer, recordsChanged, requiredProbes }), scope)
        yield* Deferred.succeed(ready, outcome)
      })
      yield* Effect.forkIn(start, scope)
      yield* Effect.logInfo("agent started", { hostname: cfg.hostname, probes: cfg.probes.length })

      return {
        hostname: cfg.hostname,
        state: reducer.state,
        ready: Deferred.await(ready),
        barrier: reducer.barrier,
        flush: drainer.drainFully,
        droppedEvents: drainer.dropped
      } satisfies AgentService
    })
  )
