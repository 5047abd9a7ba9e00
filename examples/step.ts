/**
 * README example: drive one host through a rollout with the pure host reducer.
 *
 * Invariant: this file is quoted verbatim in README.md and executed by test/readme.test.ts, so the
 * README's example always compiles and does what it says.
 */
import { Either } from "effect"
import { type ChannelId, type ClosureHash, type HostEvent, type HostId, newPending, type RolloutId, step, ts } from "effect-fleet"

// readme:start
const policy = { onHealthFailure: "rollback-and-halt" } as const
let host = newPending({
  rolloutId: "stable@3f2a9c1" as RolloutId,
  hostname: "web-01" as HostId,
  channel: "stable" as ChannelId,
  targetClosure: "/nix/store/abc-nixos-system" as ClosureHash,
  dispatchedAt: ts("2026-05-17T12:00:00Z"),
  soakDueAt: ts("2026-05-17T12:10:00Z")
})

const events: ReadonlyArray<HostEvent> = [
  { _tag: "RemoteDispatchAck", currentClosureAtDispatch: "/nix/store/old-nixos-system" as ClosureHash, receivedAt: ts("2026-05-17T12:00:05Z"), seq: 1 },
  { _tag: "RemoteActivationCompleted", observedCurrentClosure: host.targetClosure, exitCode: 0, completedAt: ts("2026-05-17T12:01:00Z"), seq: 2 },
  { _tag: "RemoteConverged", currentClosure: host.targetClosure, convergedAt: ts("2026-05-17T12:10:00Z"), seq: 3 }
]

for (const event of events) {
  const result = step(host, event, ts("2026-05-17T12:10:00Z"), policy)
  if (Either.isLeft(result)) throw new Error(result.left.message) // typed TransitionError
  host = result.right.state // effects describe what to do: log, quarantine, record transitions
  console.log(`${event._tag} -> ${host.state}`, result.right.effects.map((e) => e._tag).join(", "))
}
// readme:end

/** The final state, for the test that runs this example. */
export const finalState = host
