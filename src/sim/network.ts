/**
 * Network faults on agent→CP requests, as a wrapping of the agent's ControlPlaneClient port.
 * Each request of a host gets a number (counted across agent restarts), and (seed, host, number)
 * decides its fault:
 * - `netDrop`: the request fails before reaching the CP (`CpUnavailable`); the agent retries;
 * - `netResponseLost`: the CP processes it, the agent sees `CpUnavailable` and retries: a
 *   duplicate delivery the CP must treat idempotently (a long-poll's dispatch is lost with it:
 *   the CP must queue it again);
 * - `netDuplicate`: delivered twice in a row (events and heartbeats only);
 * - `netDelay`: held 1–120 simulated seconds before it reaches the CP;
 * - `netReorder`: after it, an older event or heartbeat of the same host (one of its last 16) is
 *   delivered again (events and heartbeats only): the CP must ignore it, never regress.
 * The wrapper also records every event the CP acknowledged to the agent (2xx), with the CP
 * storage epoch that acknowledged it, for the no-lost-event invariant.
 *
 * Invariant: decisions are a pure function of (seed, host, request number); the wrapper never
 * changes a request or a reply, it only drops, delays, repeats or replays whole requests.
 */
import { Chunk, Duration, Effect, Either, Ref } from "effect"
import type { AgentEventEnvelope } from "../domain/agentEvent.js"
import type { HostId, RolloutId } from "../domain/ids.js"
import { type ControlPlaneClientService, type CpError, CpUnavailable } from "../ports/controlPlaneClient.js"
import type { HeartbeatRequest } from "../wire/schemas.js"
import { type NetworkFault, NETWORK_FAULTS } from "./faults.js"
import { between, unit } from "./rng.js"

/** The share of a host's requests each enabled network fault hits. */
export const NET_RATE = 0.08

/** How many past events and heartbeats a host keeps for `netReorder`. */
const HISTORY = 16

/** The kinds of request, for the faults that apply to them. */
export type RequestKind = "event" | "heartbeat" | "poll" | "read"

/** The fault (if any) of request `n` of `host`: each enabled fault owns a NET_RATE slice of [0, 1). */
export const networkFaultFor = (
  seed: number,
  host: string,
  n: number,
  enabled: ReadonlyArray<NetworkFault>,
  kind: RequestKind
): NetworkFault | null => {
  const active = NETWORK_FAULTS.filter((f) => enabled.includes(f))
  const slot = Math.floor(unit(seed, `${host}/net/${n}`) / NET_RATE)
  const fault = active[slot]
  if (fault === undefined) return null
  const pushOnly = fault === "netDuplicate" || fault === "netReorder"
  return pushOnly && kind !== "event" && kind !== "heartbeat" ? null : fault
}

/** An event the CP acknowledged (2xx) to an agent. */
export interface AckedEvent {
  /** The CP storage epoch that answered (0 until the first wipe). */
  readonly epoch: number
  readonly host: HostId
  readonly rolloutId: RolloutId
  readonly seq: number
  readonly kind: string
  /** Simulated epoch millis of the acknowledgement. */
  readonly at: number
}

/** What every host's wrapper reports to: injected-fault counts and acknowledged events. */
export interface NetworkRecorder {
  readonly injected: Ref.Ref<Readonly<Record<NetworkFault, number>>>
  readonly acks: Ref.Ref<Chunk.Chunk<AckedEvent>>
}

/** A fresh recorder. */
export const makeNetworkRecorder: Effect.Effect<NetworkRecorder> = Effect.all({
  injected: Ref.make<Readonly<Record<NetworkFault, number>>>({ netDrop: 0, netResponseLost: 0, netDuplicate: 0, netDelay: 0, netReorder: 0 }),
  acks: Ref.make(Chunk.empty<AckedEvent>())
})

type Replayable = { readonly _tag: "event"; readonly envelope: AgentEventEnvelope } | { readonly _tag: "heartbeat"; readonly request: HeartbeatRequest }

/** One host's network state, kept across its agent's restarts. */
export interface HostNetwork {
  readonly requests: Ref.Ref<number>
  readonly history: Ref.Ref<ReadonlyArray<Replayable>>
}

/** A fresh host network state. */
export const makeHostNetwork: Effect.Effect<HostNetwork> = Effect.all({ requests: Ref.make(0), history: Ref.make<ReadonlyArray<Replayable>>([]) })

/** What a host's wrapper needs. */
export interface NetworkOptions {
  readonly seed: number
  readonly host: HostId
  readonly faults: ReadonlyArray<NetworkFault>
  readonly state: HostNetwork
  readonly recorder: NetworkRecorder
  /** The current CP storage epoch. */
  readonly epoch: Effect.Effect<number>
}

const lost = (what: string) => new CpUnavailable({ reason: `simulated network: ${what}`, retryAfterSeconds: null })

/** Wraps `client` with the seeded network faults of `options` (and records acknowledged events). */
export const withNetworkFaults = (client: ControlPlaneClientService, options: NetworkOptions): ControlPlaneClientService => {
  const { host, recorder, seed, state } = options
  const count = (fault: NetworkFault) => Ref.update(recorder.injected, (c) => ({ ...c, [fault]: c[fault] + 1 }))
  const redeliver = (old: Replayable): Effect.Effect<unknown, CpError> =>
    old._tag === "event" ? client.postEvent(old.envelope) : client.heartbeat(old.request)

  const send = <A>(kind: RequestKind, run: Effect.Effect<A, CpError>, replayable: Replayable | null): Effect.Effect<A, CpError> =>
    Effect.gen(function* () {
      const n = yield* Ref.getAndUpdate(state.requests, (k) => k + 1)
      const fault = networkFaultFor(seed, host, n, options.faults, kind)
      const history = yield* Ref.get(state.history)
      if (replayable !== null) yield* Ref.set(state.history, [...history, replayable].slice(-HISTORY))
      switch (fault) {
        case null:
          return yield* run
        case "netDrop":
          yield* count(fault)
          return yield* Effect.fail(lost("request dropped"))
        case "netDelay":
          yield* count(fault)
          yield* Effect.sleep(Duration.seconds(between(seed, `${host}/net/${n}/delay`, 1, 120)))
          return yield* run
        case "netResponseLost":
          yield* count(fault)
          yield* Effect.either(run)
          return yield* Effect.fail(lost("response lost"))
        case "netDuplicate": {
          yield* count(fault)
          const first = yield* Effect.either(run)
          yield* Effect.either(run)
          return yield* first
        }
        case "netReorder": {
          const result = yield* Effect.either(run)
          const old = history[between(seed, `${host}/net/${n}/reorder`, 0, Math.max(0, history.length - 1))]
          if (old !== undefined) {
            yield* count(fault)
            yield* Effect.either(redeliver(old))
          }
          return yield* result
        }
      }
    })

  /** Delivers an event (through `deliver`) and records its acknowledgement. */
  const recordingAck = (deliver: (envelope: AgentEventEnvelope) => Effect.Effect<void, CpError>) => (envelope: AgentEventEnvelope) =>
    Effect.gen(function* () {
      const before = yield* options.epoch
      const result = yield* Effect.either(deliver(envelope))
      if (Either.isLeft(result)) return yield* result
      const after = yield* options.epoch
      // Acknowledged by one epoch for sure only when no wipe happened during the call.
      if (before === after) {
        const at = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const ack: AckedEvent = { epoch: after, host, rolloutId: envelope.rolloutId, seq: envelope.event.seq, kind: envelope.event._tag, at }
        yield* Ref.update(recorder.acks, Chunk.append(ack))
      }
    })

  // Without network faults, every request goes through as is: only acknowledgements are recorded.
  if (options.faults.length === 0) return { ...client, postEvent: recordingAck(client.postEvent) }
  return {
    postEvent: recordingAck((envelope) => send("event", client.postEvent(envelope), { _tag: "event", envelope })),
    heartbeat: (request) => send("heartbeat", client.heartbeat(request), { _tag: "heartbeat", request }),
    pollDispatch: (wait) => send("poll", client.pollDispatch(wait), null),
    rolloutManifest: (rolloutId) => send("read", client.rolloutManifest(rolloutId), null),
    fleetResolved: send("read", client.fleetResolved, null)
  }
}
