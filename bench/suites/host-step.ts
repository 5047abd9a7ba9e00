/**
 * Host `step()` throughput: full happy paths of 100k hosts (dispatch ack, activation started and
 * completed, probe topology, first observation, three probe results, converged), on the CP mirror
 * (Remote events) and on the agent (Local events), events pre-built so only `step()` is timed.
 *
 * Invariant: every transition is checked to succeed, so a broken reducer cannot post a figure.
 */
import { Either } from "effect"
import type { ChannelId, ClosureHash, HostEvent, HostId, HostRolloutState, ProbeName, RolloutId, Timestamp } from "../../src/domain/index.js"
import { newPending } from "../../src/domain/index.js"
import { step } from "../../src/machine/index.js"
import { type BenchRow, type BenchSuite, si, timed } from "../lib.js"

const HOSTS = 100_000
const T0 = Date.UTC(2026, 4, 17, 12) as Timestamp
const t = (s: number) => (T0 + s * 1000) as Timestamp
const TARGET = "/nix/store/target-system" as ClosureHash
const PRIOR = "/nix/store/prior-system" as ClosureHash
const HTTP = "http" as ProbeName

const happyPath = (side: "Local" | "Remote"): ReadonlyArray<HostEvent> => {
  const probe = { probeName: HTTP, mode: "enforce" as const }
  const result = (seq: number, s: number): HostEvent => ({
    _tag: `${side}ProbeResult`,
    ...probe,
    status: "pass",
    observedAt: t(s),
    failureReason: null,
    subResults: null,
    seq
  })
  const ack = { currentClosureAtDispatch: PRIOR, receivedAt: t(1), seq: 1 }
  return [
    side === "Local" ? { _tag: "LocalActivate", ...ack, targetClosure: TARGET, soakDueAt: t(600) } : { _tag: "RemoteDispatchAck", ...ack },
    { _tag: `${side}ActivationStarted`, startedAt: t(2), switchMethod: "switch", seq: 2 },
    { _tag: `${side}ActivationCompleted`, observedCurrentClosure: TARGET, exitCode: 0, completedAt: t(30), seq: 3 },
    { _tag: `${side}ProbeTopologyDeclared`, probes: [{ ...probe, kind: "http" }], declaredAt: t(31), seq: 4 },
    { _tag: `${side}ProbeObservedFirst`, ...probe, observedAt: t(40), seq: 5 },
    result(6, 40),
    result(7, 300),
    result(8, 599),
    side === "Local"
      ? { _tag: "LocalConvergedReached", convergedAt: t(600), currentClosure: TARGET, seq: 9 }
      : { _tag: "RemoteConverged", convergedAt: t(600), currentClosure: TARGET, seq: 9 }
  ] as ReadonlyArray<HostEvent>
}

const hosts = (): Array<HostRolloutState> =>
  Array.from({ length: HOSTS }, (_, i) =>
    newPending({
      rolloutId: "stable@r1" as RolloutId,
      hostname: `host-${i}` as HostId,
      channel: "stable" as ChannelId,
      targetClosure: TARGET,
      dispatchedAt: T0,
      soakDueAt: t(600)
    })
  )

const policy = { onHealthFailure: "rollback-and-halt" } as const

const runPaths = (side: "Local" | "Remote"): number => {
  const events = happyPath(side)
  const states = hosts()
  let transitions = 0
  for (let h = 0; h < states.length; h++) {
    let state = states[h] as HostRolloutState
    for (const event of events) {
      const result = step(state, event, T0, policy)
      if (Either.isLeft(result)) throw new Error(`benchmark path broken: ${result.left.message}`)
      state = result.right.state
      transitions++
    }
    if (state.state !== "Converged") throw new Error(`host ${h} ended ${state.state}`)
  }
  return transitions
}

const measure = async (side: "Local" | "Remote"): Promise<BenchRow> => {
  runPaths(side) // warm-up: let the JIT settle
  const rates: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const { value, ms } = await timed(() => runPaths(side))
    rates.push(value / (ms / 1000))
  }
  const best = Math.max(...rates)
  const median = [...rates].sort((a, b) => a - b)[2] as number
  return {
    benchmark: `host step(), ${side === "Local" ? "agent (Local)" : "CP mirror (Remote)"} happy paths, ${HOSTS / 1000}k hosts × 9 events`,
    result: `${si(median)} transitions/s (median of 5; best ${si(best)})`,
    target: ">= 2 M transitions/s",
    met: median >= 2_000_000
  }
}

/** The host reducer throughput suite. */
export const suite: BenchSuite = {
  name: "host-step",
  run: async () => [await measure("Remote"), await measure("Local")]
}
