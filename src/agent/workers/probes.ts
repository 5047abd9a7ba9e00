/**
 * The probe worker (spec §7): on every reset it stops the running tickers, declares the probe
 * topology for the rollout, and starts one ticker per probe that is not disabled. A ticker runs
 * its probe at once, then every max(intervalSeconds, minimum) while the record is Soaking, and
 * reports each run. Decision: a ticker ends once its record has left Soaking — `step()` refuses
 * probe events in every other state, so later runs could only be dropped (the reference kept
 * probing until the next reset; with thousands of converged agents that is most of their work).
 *
 * Invariants: tickers of an earlier reset never outlive the next reset (one FiberSet, cleared
 * first); per probe, `ProbeObservedFirst` is sent on its first run, `ProbeFailureFirst` on a run
 * that fails after a pass (or fails first), and `ProbeResult` on every run, in that order;
 * the ProbeRunner does the I/O and never fails (an error is a `fail` outcome).
 */
import { Duration, Effect, FiberSet, Queue } from "effect"
import type { ProbeName, RolloutId } from "../../domain/ids.js"
import type { ProbeStatus } from "../../domain/probe.js"
import { now } from "../../ports/clock.js"
import type { ProbeDeclaration, ProbeRunnerService } from "../../ports/probeRunner.js"
import type { AgentInput } from "../input.js"
import { emitEvent } from "./activation.js"

/** What the probe worker uses. */
export interface ProbeWorkerDeps {
  readonly resets: Queue.Dequeue<RolloutId>
  readonly runner: ProbeRunnerService
  readonly offer: (input: AgentInput) => Effect.Effect<void>
  /** The declared probes, sorted by name. */
  readonly probes: ReadonlyArray<readonly [ProbeName, ProbeDeclaration]>
  readonly minInterval: Duration.Duration
  /** Holds the running tickers (lives in the agent's scope). */
  readonly tickers: FiberSet.FiberSet
  /** False once the rollout's record has left Soaking (its probe events are refused from then on). */
  readonly stillSoaking: (rolloutId: RolloutId) => Effect.Effect<boolean>
}


/** One probe's ticker for one rollout. */
const ticker = (deps: ProbeWorkerDeps, rolloutId: RolloutId, probeName: ProbeName, declaration: ProbeDeclaration) => {
  const mode = declaration.mode
  const period = Duration.max(Duration.seconds(declaration.intervalSeconds), deps.minInterval)
  const run = (previous: ProbeStatus | null): Effect.Effect<void> =>
    Effect.gen(function* () {
      const outcome = yield* deps.runner.run(probeName, declaration)
      const at = yield* now
      if (previous === null) yield* emitEvent(deps.offer, rolloutId, { _tag: "LocalProbeObservedFirst", probeName, mode, observedAt: at, seq: 0 })
      if (outcome.status === "fail" && previous !== "fail") {
        yield* emitEvent(deps.offer, rolloutId, { _tag: "LocalProbeFailureFirst", probeName, mode, firstFailedAt: at, seq: 0 })
      }
      yield* emitEvent(deps.offer, rolloutId, {
        _tag: "LocalProbeResult",
        probeName,
        mode,
        status: outcome.status,
        observedAt: at,
        failureReason: outcome.failureReason,
        subResults: outcome.subResults,
        seq: 0
      })
      if (declaration.runOnce) return
      yield* Effect.sleep(period)
      if (!(yield* deps.stillSoaking(rolloutId))) return
      return yield* run(outcome.status)
    })
  return run(null).pipe(Effect.withSpan("Agent.probe", { attributes: { probe: probeName, rolloutId } }))
}

/** Handles one reset: stop the tickers, declare the topology, start the enabled probes. */
const reset = (deps: ProbeWorkerDeps, rolloutId: RolloutId) =>
  Effect.gen(function* () {
    yield* FiberSet.clear(deps.tickers)
    // As the reference: with no declarations there is nothing to declare and no event is sent.
    if (deps.probes.length === 0) return
    yield* emitEvent(deps.offer, rolloutId, {
      _tag: "LocalProbeTopologyDeclared",
      probes: deps.probes.map(([probeName, d]) => ({ probeName, kind: d.kind, mode: d.mode })),
      declaredAt: yield* now,
      seq: 0
    })
    for (const [name, declaration] of deps.probes) {
      if (declaration.mode !== "disabled") yield* FiberSet.run(deps.tickers, ticker(deps, rolloutId, name, declaration))
    }
  })

/** The worker loop (never ends; interrupt it to stop). */
export const probeWorker = (deps: ProbeWorkerDeps): Effect.Effect<never> =>
  Effect.forever(
    Effect.flatMap(Queue.take(deps.resets), (rolloutId) =>
      reset(deps, rolloutId).pipe(Effect.catchAllCause((cause) => Effect.logError("probe worker: reset failed", cause)))
    )
  )
