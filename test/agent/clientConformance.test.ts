/**
 * One conformance suite over the in-process adapters of the ControlPlaneClient port: the same
 * scripted table of agent calls runs through the CP's full HTTP stack in-process
 * (`layerInProcessClient`) and through its AgentEndpoint directly (`layerDirectClient`), each on
 * a fresh CP at the same TestClock time. Each adapter must give the expected answer for every
 * row (statuses, Retry-After, values), and both must give identical answers (the direct client
 * answers exactly what a decoded HTTP reply would be).
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import { layerMemory } from "../../adapters/memory/index.js"
import { CpCredentials, InProcessCp, layerDirectClient, layerInProcessClient, layerInProcessServer } from "../../src/agent/index.js"
import { AgentEndpoint, CpReducer, type CpReducerService, DispatchNotifier, Http } from "../../src/cp/index.js"
import { layerBearerTokens } from "../../adapters/memory/agentAuth.js"
import type { AgentEventEnvelope, HostId, RolloutId, Timestamp } from "../../src/domain/index.js"
import { ControlPlaneClient, type ControlPlaneClientService, type CpError } from "../../src/ports/index.js"
import { VERIFIED } from "../http/support.js"
import { cpFor, publish, rolloutOf, settle, smallFleet, START, targetOf, tokenOf } from "./support.js"

const fleet = smallFleet(2)
const host = fleet.hosts[0]!
const other = fleet.hosts[1]!
const rollout = rolloutOf(fleet, host)
const at = (seconds: number) => (START + seconds * 1000) as Timestamp

/** An adapter under test: its client layer for `host`, over a CP that also serves the in-process HTTP app. */
interface Adapter {
  readonly name: string
  readonly client: (host: HostId) => Layer.Layer<ControlPlaneClient, never, AgentEndpoint | InProcessCp>
}
const adapters: ReadonlyArray<Adapter> = [
  { name: "in-process HTTP", client: (h) => layerInProcessClient({ credentials: CpCredentials.BearerToken({ token: Redacted.make(tokenOf(h)) }) }) },
  { name: "direct (AgentEndpoint)", client: (h) => layerDirectClient(h) }
]

/** The agent routes with the HTTP layer's defaults, beside the HTTP stack, over the same CP core. */
const endpointOver = <ROut, E, RIn>(cp: Layer.Layer<ROut, E, RIn>) =>
  AgentEndpoint.layer(Http.resolveHttpOptions()).pipe(Layer.provide(Http.HttpMetrics.layer), Layer.provideMerge(cp))

/** What a call answered, as plain data: the value, or the port error's fields. */
type Answer = { readonly ok: unknown } | { readonly error: { readonly _tag: string; readonly status?: number; readonly retryAfterSeconds?: number | null; readonly reason: string } }
const answer = <A>(call: Effect.Effect<A, CpError>): Effect.Effect<Answer> =>
  Effect.match(call, {
    onSuccess: (ok): Answer => ({ ok }),
    onFailure: (e): Answer =>
      e._tag === "CpRejected"
        ? { error: { _tag: e._tag, status: e.status, reason: e.reason } }
        : { error: { _tag: e._tag, retryAfterSeconds: e.retryAfterSeconds, reason: e.reason } }
  })

const envelope = (event: AgentEventEnvelope["event"], over: Partial<Pick<AgentEventEnvelope, "hostname" | "rolloutId">> = {}): AgentEventEnvelope => ({
  hostname: host,
  rolloutId: rollout,
  event,
  ...over
})
const ack = envelope({ _tag: "DispatchAck", currentClosureAtDispatch: "/nix/store/00000000000000000000000000000000-old" as never, receivedAt: at(1), seq: 1 })
const beat = (hostname: HostId, rolloutId: RolloutId | null = null) => ({ hostname, rolloutId, currentClosure: null, at: at(1) })

/**
 * The scripted calls on a fresh CP for `fleet` (not yet published): each row's name and answer.
 * The long-poll rows fork the poll and move the TestClock; their answer carries when it returned.
 */
const script = (client: ControlPlaneClientService) =>
  Effect.gen(function* () {
    const rows: Array<readonly [string, Answer]> = []
    const row = (name: string, call: Effect.Effect<unknown, CpError>) => Effect.map(answer(call), (a) => void rows.push([name, a]))
    yield* row("not ready: heartbeat", client.heartbeat(beat(host)))
    yield* row("not ready: fleet.resolved", client.fleetResolved)
    yield* publish(fleet)
    yield* row("heartbeat bootstrap", client.heartbeat(beat(host)))
    yield* row("heartbeat for another host", client.heartbeat(beat(other)))
    yield* row("manifest of an unknown rollout", client.rolloutManifest("nope@0000000" as RolloutId))
    yield* row("manifest", client.rolloutManifest(rollout))
    yield* row("fleet.resolved", client.fleetResolved)
    yield* row("dispatch queued at publish", client.pollDispatch(0))
    // Nothing is queued now; the CP's next plan tick (15 s) re-queues the unacked dispatch.
    const short = yield* Effect.fork(answer(client.pollDispatch(10)))
    yield* settle
    yield* TestClock.adjust("10 seconds")
    yield* settle
    rows.push(["long-poll that ends without a dispatch (after 10 s)", yield* Fiber.join(short)])
    const long = yield* Effect.fork(answer(client.pollDispatch(60)))
    yield* settle
    yield* TestClock.adjust("5 seconds")
    yield* settle
    const woken = yield* Fiber.poll(long)
    rows.push(["long-poll woken by the re-queued dispatch (5 s later)", Option.isSome(woken) && Exit.isSuccess(woken.value) ? woken.value.value : { ok: "still waiting" }])
    yield* Fiber.interrupt(long)
    yield* row("event applied", client.postEvent(ack))
    yield* row("event duplicate", client.postEvent(ack))
    yield* row("event for another host", client.postEvent(envelope(ack.event, { hostname: other })))
    yield* row("event of an unknown record", client.postEvent(envelope(ack.event, { rolloutId: "nope@0000000" as RolloutId })))
    yield* row("illegal event", client.postEvent(envelope({ _tag: "Converged", convergedAt: at(20), currentClosure: targetOf(fleet, host), seq: 2 })))
    yield* row("heartbeat with the rollout", client.heartbeat(beat(host, rollout)))
    return rows
  })

/** A reducer that takes no input: every offer is refused (a full queue), or accepted and never answered. */
const stuckReducer = (accepts: boolean) =>
  Layer.succeed(CpReducer, {
    offer: () => Effect.succeed(accepts),
    state: Effect.succeed({ manifests: VERIFIED, quarantines: new Map(), lastHeartbeatAt: new Map(), lastReportedClosure: new Map(), lastPlanAt: null }),
    backlog: Effect.succeed(0),
    barrier: Effect.void
  } satisfies CpReducerService)
/** The full HTTP stack and the endpoint over a stuck reducer. */
const stuckCp = (accepts: boolean) =>
  endpointOver(
    Http.layerServe({}).pipe(
      Layer.provideMerge(layerInProcessServer),
      Layer.provide(layerBearerTokens({ [tokenOf(host)]: host })),
      Layer.provideMerge(Layer.mergeAll(stuckReducer(accepts), DispatchNotifier.layer, layerMemory))
    )
  )

/** The busy rows, over a reducer with a full queue and one that never replies. */
const busyScript = (full: ControlPlaneClientService, silent: ControlPlaneClientService) =>
  Effect.gen(function* () {
    const rows: Array<readonly [string, Answer]> = []
    rows.push(["event, reducer queue full", yield* answer(full.postEvent(ack))])
    rows.push(["heartbeat, reducer queue full", yield* answer(full.heartbeat(beat(host)))])
    const waiting = yield* Effect.fork(answer(silent.postEvent(ack)))
    yield* settle
    yield* TestClock.adjust("5 seconds")
    yield* settle
    rows.push(["event, no reply within 5 s", yield* Fiber.join(waiting)])
    return rows
  })

const runScript = (adapter: Adapter) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(START)
    const main = yield* Effect.flatMap(ControlPlaneClient, script).pipe(Effect.provide(adapter.client(host).pipe(Layer.provideMerge(endpointOver(cpFor(fleet))))))
    // Each client's CP lives as long as the scope: built, not just provided (providing closes it at once).
    const clientOn = (accepts: boolean) => Effect.map(Layer.build(adapter.client(host).pipe(Layer.provide(stuckCp(accepts)))), Context.get(ControlPlaneClient))
    const busy = yield* Effect.scoped(Effect.flatMap(Effect.all([clientOn(false), clientOn(true)]), ([full, silent]) => busyScript(full, silent)))
    return [...main, ...busy]
  })

const rejected = (status: number) => ({ error: expect.objectContaining({ _tag: "CpRejected", status }) })
const unavailable = (retryAfterSeconds: number | null, reason: string | RegExp = /.*/) => ({
  error: { _tag: "CpUnavailable", retryAfterSeconds, reason: typeof reason === "string" ? reason : expect.stringMatching(reason) }
})

describe("ControlPlaneClient conformance (in-process adapters)", () => {
  for (const adapter of adapters) {
    it.effect(`${adapter.name}: every scripted call gets the expected answer`, () =>
      Effect.gen(function* () {
        const rows = new Map(yield* runScript(adapter))
        expect(rows.get("not ready: heartbeat")).toEqual(unavailable(30, "control plane not ready: awaiting verified manifests"))
        expect(rows.get("not ready: fleet.resolved")).toEqual(unavailable(30, "control plane not ready: awaiting verified manifests"))
        expect(rows.get("heartbeat bootstrap")).toEqual({
          ok: expect.objectContaining({ bootstrapRollouts: [expect.objectContaining({ hostname: host, rolloutId: rollout, state: "Pending" })] })
        })
        expect(rows.get("heartbeat for another host")).toEqual(rejected(403))
        expect(rows.get("manifest of an unknown rollout")).toEqual(rejected(404))
        expect(rows.get("manifest")).toEqual({ ok: expect.objectContaining({ rolloutId: rollout, manifest: expect.any(Uint8Array) }) })
        expect(rows.get("fleet.resolved")).toEqual({ ok: expect.objectContaining({ artifact: expect.any(Uint8Array), signature: expect.any(Uint8Array) }) })
        expect(rows.get("dispatch queued at publish")).toEqual({ ok: Option.some(expect.objectContaining({ hostname: host, rolloutId: rollout })) })
        expect(rows.get("long-poll that ends without a dispatch (after 10 s)")).toEqual({ ok: Option.none() })
        expect(rows.get("long-poll woken by the re-queued dispatch (5 s later)")).toEqual({ ok: Option.some(expect.objectContaining({ hostname: host })) })
        expect(rows.get("event applied")).toEqual({ ok: undefined })
        expect(rows.get("event duplicate")).toEqual({ ok: undefined })
        expect(rows.get("event for another host")).toEqual(rejected(403))
        expect(rows.get("event of an unknown record")).toEqual(rejected(404))
        expect(rows.get("illegal event")).toEqual(rejected(409))
        expect(rows.get("heartbeat with the rollout")).toEqual({ ok: expect.objectContaining({ receivedAt: expect.any(Number) }) })
        expect(rows.get("event, reducer queue full")).toEqual(unavailable(1, "reducer queue full"))
        expect(rows.get("heartbeat, reducer queue full")).toEqual(unavailable(1, "reducer queue full"))
        expect(rows.get("event, no reply within 5 s")).toEqual(unavailable(1, /did not reply within 5s/))
      })
    )
  }

  it.effect("both adapters answer every scripted call identically (values, statuses, reasons, Retry-After)", () =>
    Effect.gen(function* () {
      const [http, direct] = yield* Effect.forEach(adapters, runScript)
      expect(direct).toStrictEqual(http)
      expect(direct!.length).toBeGreaterThan(15)
    })
  )
})
