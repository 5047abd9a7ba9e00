/**
 * Test builders for host rollout records and the 24 host events.
 *
 * Invariant: builders only construct data; they never call the reducer, so a test that uses
 * them still checks the reducer's own behaviour.
 */
import {
  type ChannelId,
  type ClosureHash,
  type HostEvent,
  type HostId,
  type HostRolloutState,
  type HostState,
  newPending,
  type ProbeName,
  type RolloutId,
  ts
} from "../../src/domain/index.js"

/** A fixed base instant for tests. */
export const T0 = ts("2026-05-17T12:00:00Z")
/** `T0` plus whole seconds. */
export const at = (seconds: number) => ts(T0 + seconds * 1000)

export const ROLLOUT = "stable@r1" as RolloutId
export const HOST = "web-01" as HostId
export const CHANNEL = "stable" as ChannelId
export const TARGET = "target-closure" as ClosureHash
export const PRIOR = "prior-closure" as ClosureHash
export const probe = (name: string) => name as ProbeName

/** A Pending record dispatched at T0 with a soak deadline at T0 + 600 s. */
export const pending = (overrides: Partial<HostRolloutState> = {}): HostRolloutState => ({
  ...newPending({ rolloutId: ROLLOUT, hostname: HOST, channel: CHANNEL, targetClosure: TARGET, dispatchedAt: T0, soakDueAt: at(600) }),
  ...overrides
})

/** A record in the given state with plausible fields for it (prior closure known, seq as given). */
export const inState = (state: HostState, lastEventSeq = 0): HostRolloutState =>
  pending({ state, lastEventSeq, currentClosureAtDispatch: state === "Pending" ? null : PRIOR })

/** Every one of the 24 host events with seq `seq`, plausible payloads, Converged claiming the target after soak. */
export const allEvents = (seq: number): ReadonlyArray<HostEvent> => {
  const dispatchAck = { currentClosureAtDispatch: PRIOR, receivedAt: at(1), seq }
  const started = { startedAt: at(2), switchMethod: "switch", seq }
  const completed = { observedCurrentClosure: TARGET, exitCode: 0, completedAt: at(3), seq }
  const deferred = { component: "systemd", deferredAt: at(3), seq }
  const failed = { exitCode: 1, stderrTail: "boom", failedAt: at(4), seq }
  const topology = { probes: [{ probeName: probe("http"), kind: "http", mode: "enforce" as const }], declaredAt: at(4), seq }
  const observed = { probeName: probe("http"), mode: "enforce" as const, observedAt: at(5), seq }
  const result = { ...observed, status: "pass" as const, failureReason: null, subResults: null }
  const failureFirst = { probeName: probe("http"), mode: "enforce" as const, firstFailedAt: at(5), seq }
  const sustained = {
    failedAt: at(200),
    sustainedDurationSecs: 120,
    failingProbes: ["http"],
    policyApplied: "rollback-and-halt" as const,
    seq
  }
  const rollback = { revertedToClosure: PRIOR, exitCode: 0, completedAt: at(300), seq }
  const converged = { convergedAt: at(900), currentClosure: TARGET, seq }
  return [
    { _tag: "LocalActivate", ...dispatchAck, targetClosure: TARGET, soakDueAt: at(600) },
    { _tag: "RemoteDispatchAck", ...dispatchAck },
    { _tag: "LocalActivationStarted", ...started },
    { _tag: "RemoteActivationStarted", ...started },
    { _tag: "LocalActivationCompleted", ...completed },
    { _tag: "RemoteActivationCompleted", ...completed },
    { _tag: "LocalActivationDeferred", ...deferred },
    { _tag: "RemoteActivationDeferred", ...deferred },
    { _tag: "LocalActivationFailed", ...failed },
    { _tag: "RemoteActivationFailed", ...failed },
    { _tag: "LocalProbeTopologyDeclared", ...topology },
    { _tag: "RemoteProbeTopologyDeclared", ...topology },
    { _tag: "LocalProbeObservedFirst", ...observed },
    { _tag: "RemoteProbeObservedFirst", ...observed },
    { _tag: "LocalProbeResult", ...result },
    { _tag: "RemoteProbeResult", ...result },
    { _tag: "LocalProbeFailureFirst", ...failureFirst },
    { _tag: "RemoteProbeFailureFirst", ...failureFirst },
    { _tag: "LocalSustainedFailureCrossed", ...sustained },
    { _tag: "RemoteFailed", ...sustained },
    { _tag: "LocalRollbackCompleted", ...rollback },
    { _tag: "RemoteRollbackComplete", ...rollback },
    { _tag: "LocalConvergedReached", ...converged },
    { _tag: "RemoteConverged", ...converged }
  ]
}

/** The one event of `allEvents` with the given tag. */
export const event = <T extends HostEvent["_tag"]>(tag: T, seq: number): Extract<HostEvent, { _tag: T }> =>
  allEvents(seq).find((e) => e._tag === tag) as Extract<HostEvent, { _tag: T }>

/**
 * The spec's §5.6 legality table: for each state, patterns of the event variants legal in it
 * (each stands for its Local and Remote twin). Written from the spec, not from the reducer.
 */
export const LEGAL: Record<HostState, ReadonlyArray<RegExp>> = {
  Pending: [/^(LocalActivate|RemoteDispatchAck)$/],
  Activating: [/ActivationStarted$/, /ActivationCompleted$/, /ActivationDeferred$/, /ActivationFailed$/],
  Deferred: [/ActivationCompleted$/, /ActivationFailed$/],
  Soaking: [
    /ProbeTopologyDeclared$/,
    /ProbeObservedFirst$/,
    /ProbeResult$/,
    /ProbeFailureFirst$/,
    /^(LocalSustainedFailureCrossed|RemoteFailed)$/,
    /^(LocalConvergedReached|RemoteConverged)$/
  ],
  Converged: [],
  Failed: [/^(LocalRollbackCompleted|RemoteRollbackComplete)$/],
  Reverted: []
}

/** The event variants the spec table makes legal in a state. */
export const legalTags = (state: HostState): ReadonlyArray<HostEvent["_tag"]> =>
  allEvents(1)
    .map((e) => e._tag)
    .filter((tag) => LEGAL[state].some((r) => r.test(tag)))
