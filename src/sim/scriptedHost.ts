/**
 * A scripted host, the simulator's scale mode (`agents: "scripted"`): instead of a real agent
 * (reducer, workers, outbound queue, probe tickers), one fiber per host speaks the agent side of
 * the ControlPlaneClient protocol for a healthy host reporting the least a real agent reports:
 * a boot heartbeat (its bootstrap gives the records' seqs), then a long-poll; a dispatch is
 * verified against the signed fleet.resolved and rollout manifest exactly as an agent does
 * (src/agent/trust.ts), then reported as DispatchAck, ActivationStarted, ActivationCompleted after
 * its switch time, ProbeTopologyDeclared, and per enforce probe one ProbeObservedFirst and one
 * passing ProbeResult, then Converged once the dispatch's soak deadline has passed (again every
 * 20 s while the CP refuses it, as the agent's advance ticker would). It sends no periodic probe
 * results or heartbeats, never fails, and stops after its one rollout converged. Unavailable
 * calls are retried on the agent's backoff.
 *
 * Invariant: it reports only events a healthy real agent reports, in the same order, with seqs
 * contiguous from the CP's record, and Converged no earlier than the soak deadline; every
 * decision is the CP's.
 */
import { Clock, Duration, Effect, Either, Option, Schedule } from "effect"
import { cpBackoff, isUnavailable, SWITCH_METHOD, verifyDispatch, verifyFleet } from "../agent/index.js"
import type { AgentEventEnvelope } from "../domain/agentEvent.js"
import type { ClosureHash, HostId, ProbeName, RolloutId } from "../domain/ids.js"
import type { Timestamp } from "../domain/time.js"
import type { ControlPlaneClientService, CpError } from "../ports/controlPlaneClient.js"
import type { ProbeDeclaration } from "../ports/probeRunner.js"
import type { DispatchEntry } from "../ports/storage.js"
import { DEFAULT_FRESHNESS_WINDOW_SECS } from "../trust/sidecar.js"
import type { SignedSampleFleet } from "./sampleFleet.js"

/** What a scripted host needs. */
export interface ScriptedHostOptions {
  readonly signed: SignedSampleFleet
  readonly host: HostId
  /** The closure it runs before the rollout. */
  readonly prior: ClosureHash
  /** How long its switch takes, in seconds. */
  readonly activationSeconds: number
  /** Its declared probes (only enforce ones are reported). */
  readonly probes: Readonly<Record<ProbeName, ProbeDeclaration>>
  /** The long-poll wait it asks for, in seconds. */
  readonly dispatchWaitSeconds: number
  /** How often it tries Converged again while the CP refuses it, in seconds. */
  readonly convergeRetrySeconds: number
}

const nowStamp = Effect.map(Clock.currentTimeMillis, (ms) => ms as Timestamp)

/**
 * The agent's `retryUnavailable` (the same backoff, the same random draws: a schedule draws only
 * when stepped), but the schedule driver is built only after a first CpUnavailable: nearly every
 * call succeeds at once, and building it on every call was ~a third of a scripted host's Effect work.
 */
const retryUnavailable = <A, E>(call: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  const again = (driver: Schedule.ScheduleDriver<unknown, unknown>, error: E): Effect.Effect<A, E> =>
    Effect.zipRight(
      Effect.orDie(driver.next(error)),
      Effect.catchAll(call, (next) => (isUnavailable(next) ? again(driver, next) : Effect.fail(next)))
    )
  return Effect.catchAll(call, (first) => (isUnavailable(first) ? Effect.flatMap(Schedule.driver(cpBackoff), (driver) => again(driver, first)) : Effect.fail(first)))
}

/** Runs a scripted host over `client` until its rollout converged (fork it; interrupt it to stop). */
export const runScriptedHost = (client: ControlPlaneClientService, options: ScriptedHostOptions) => {
  const { host, signed } = options
  const seqs = new Map<RolloutId, number>()
  const enforce = Object.entries(options.probes).filter(([, d]) => d.mode === "enforce") as Array<[ProbeName, ProbeDeclaration]>

  /** Reports one event of `rolloutId` with the next seq; retried while the CP is unavailable. */
  const report = (rolloutId: RolloutId, event: (seq: number) => AgentEventEnvelope["event"]): Effect.Effect<void, CpError> =>
    Effect.suspend(() => {
      const seq = (seqs.get(rolloutId) ?? 0) + 1
      return Effect.tap(retryUnavailable(client.postEvent({ hostname: host, rolloutId, event: event(seq) })), () =>
        Effect.sync(() => seqs.set(rolloutId, seq))
      )
    })

  /** The agent's trust step: the dispatch matches the signed manifest of a verified fleet. */
  const verified = (entry: DispatchEntry) =>
    Effect.gen(function* () {
      const now = yield* nowStamp
      const fleet = verifyFleet(yield* retryUnavailable(client.fleetResolved), signed.trust, now, DEFAULT_FRESHNESS_WINDOW_SECS)
      if (Either.isLeft(fleet)) return Option.some(fleet.left.message)
      const manifest = yield* retryUnavailable(client.rolloutManifest(entry.rolloutId))
      const checked = verifyDispatch(entry, manifest, fleet.right, { trust: signed.trust, now, windowSecs: DEFAULT_FRESHNESS_WINDOW_SECS, hostname: host })
      return Either.isLeft(checked) ? Option.some(checked.left.message) : Option.none()
    })

  const converge = (entry: DispatchEntry): Effect.Effect<void, CpError> =>
    Effect.gen(function* () {
      const now = yield* nowStamp
      if (now < entry.soakDueAt) yield* Effect.sleep(Duration.millis(entry.soakDueAt - now))
      const done = yield* Effect.either(
        report(entry.rolloutId, (seq) => ({ _tag: "Converged", convergedAt: Math.max(entry.soakDueAt, now) as Timestamp, currentClosure: entry.targetClosure, seq }))
      )
      if (Either.isRight(done)) return
      yield* Effect.sleep(Duration.seconds(options.convergeRetrySeconds))
      return yield* converge({ ...entry, soakDueAt: (yield* nowStamp) })
    })

  const roll = (entry: DispatchEntry) =>
    Effect.gen(function* () {
      const { rolloutId, targetClosure } = entry
      yield* report(rolloutId, (seq) => ({ _tag: "DispatchAck", currentClosureAtDispatch: options.prior, receivedAt: entry.enqueuedAt, seq }))
      const startedAt = yield* nowStamp
      yield* report(rolloutId, (seq) => ({ _tag: "ActivationStarted", startedAt, switchMethod: SWITCH_METHOD, seq }))
      yield* Effect.sleep(Duration.seconds(options.activationSeconds))
      const completedAt = yield* nowStamp
      yield* report(rolloutId, (seq) => ({ _tag: "ActivationCompleted", observedCurrentClosure: targetClosure, exitCode: 0, completedAt, seq }))
      yield* report(rolloutId, (seq) => ({
        _tag: "ProbeTopologyDeclared",
        probes: Object.entries(options.probes).map(([probeName, d]) => ({ probeName: probeName as ProbeName, kind: d.kind, mode: d.mode })),
        declaredAt: completedAt,
        seq
      }))
      for (const [probeName] of enforce) {
        yield* report(rolloutId, (seq) => ({ _tag: "ProbeObservedFirst", probeName, mode: "enforce", observedAt: completedAt, seq }))
        yield* report(rolloutId, (seq) => ({ _tag: "ProbeResult", probeName, mode: "enforce", status: "pass", observedAt: completedAt, failureReason: null, subResults: null, seq }))
      }
      yield* converge(entry)
    })

  return Effect.gen(function* () {
    const boot = yield* retryUnavailable(client.heartbeat({ hostname: host, rolloutId: null, currentClosure: options.prior, at: yield* nowStamp }))
    for (const record of boot.bootstrapRollouts) seqs.set(record.rolloutId, record.lastEventSeq)
    while (true) {
      const polled = yield* retryUnavailable(client.pollDispatch(options.dispatchWaitSeconds))
      if (Option.isNone(polled)) continue
      const refused = yield* verified(polled.value)
      if (Option.isSome(refused)) return yield* Effect.logError("scripted host: dispatch refused", host, refused.value)
      return yield* roll(polled.value)
    }
  }).pipe(Effect.catchAll((error) => Effect.logError("scripted host: the CP refused a report", host, error.message)))
}
