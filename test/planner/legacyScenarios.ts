/**
 * The legacy v0.1 fixture scenarios (spec §6 "Legacy fixture triples", §7), rewritten as v0.2
 * planner data: fleet + observed rows in, expected wave promotions and planner actions out
 * (now = 2026-04-24T10:00Z, exact ordered equality, as the originals).
 *
 * Ported (the planner still decides these under v0.2):
 *   rollout/pending_to_planning, rollout/planning_to_executing, rollout/wave_active_to_soaking,
 *   rollout/wave_soaking_to_promoted, rollout/all_waves_converged (v0.2: nothing left to plan),
 *   rollout/onfailure_halt (v0.2: halting has no action; the failed host holds the wave, so the
 *   next wave is deferred by wave-promotion), rollout/channel_unknown (v0.2: a rollout whose
 *   channel has no manifest is invisible), host/queued_to_dispatched,
 *   budgets_edges/edge_predecessor_blocks (v0.2 reason text "not yet Converged"),
 *   budgets_edges/edge_predecessor_done_dispatch.
 *
 * Not ported, because v0.2 moved the decision out of the planner:
 *   rollout/onfailure_rollback_and_halt and host/host_failed_triggers_halt (`rollback_host` is the
 *   agent's host reducer acting on `onHealthFailure`; their planner side is onfailure_halt),
 *   host/offline_host_skipped (agents pull: v0.2 has no online flag, the dispatch waits in the
 *   queue), host/healthy_soak_elapsed, host/healthy_soak_not_elapsed and
 *   host/confirmwindow_timeout_reverted (soak and confirm window live in the host reducer),
 *   host/healthy_to_soaked (`converge_rollout` is the rollout reducer's RolloutTerminal).
 */
import type { HostState } from "../../src/domain/index.js"
import type { FleetSpec } from "./builders.js"

/** One observed rollout row. */
export interface ObservedRollout {
  readonly channel: string
  readonly ref: string
  readonly currentWave?: number
  readonly terminal?: boolean
}

/** One expected planner action, compactly. */
export type ExpectedAction =
  | { readonly open: string }
  | { readonly queue: string; readonly rollout: string }
  | { readonly defer: string; readonly rollout: string; readonly gate: string; readonly reason: string }

/** A legacy scenario as v0.2 data. */
export interface LegacyScenario {
  readonly name: string
  /** What the v0.1 fixture expected, for reference. */
  readonly legacy: string
  readonly fleet: FleetSpec
  /** The verified manifests: channel → ref. */
  readonly manifests: Readonly<Record<string, string>>
  readonly rollouts: ReadonlyArray<ObservedRollout>
  /** `[rolloutId, host, state]` rows. */
  readonly hosts: ReadonlyArray<readonly [string, string, HostState]>
  readonly expectedAdvances: ReadonlyArray<readonly [string, number]>
  readonly expectedActions: ReadonlyArray<ExpectedAction>
}

const twoWaves: FleetSpec = {
  hosts: { h1: { channel: "stable" }, h2: { channel: "stable" }, h3: { channel: "stable" } },
  waves: { stable: [["h1"], ["h2"], ["h3"]] }
}

/** The scenarios. */
export const LEGACY_SCENARIOS: ReadonlyArray<LegacyScenario> = [
  {
    name: "rollout/pending_to_planning",
    legacy: "open_rollout stable r2",
    fleet: { hosts: { h1: { channel: "stable" } } },
    manifests: { stable: "r2" },
    rollouts: [],
    hosts: [],
    expectedAdvances: [],
    expectedActions: [{ open: "stable@r2" }]
  },
  {
    name: "rollout/planning_to_executing",
    legacy: "dispatch_host h1, dispatch_host h2",
    fleet: { hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } } },
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1" }],
    hosts: [
      ["stable@r1", "h1", "Pending"],
      ["stable@r1", "h2", "Pending"]
    ],
    expectedAdvances: [],
    expectedActions: [
      { queue: "h1", rollout: "stable@r1" },
      { queue: "h2", rollout: "stable@r1" }
    ]
  },
  {
    name: "rollout/wave_active_to_soaking",
    legacy: "promote_wave 1",
    fleet: twoWaves,
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1", currentWave: 0 }],
    hosts: [
      ["stable@r1", "h1", "Converged"],
      ["stable@r1", "h2", "Pending"],
      ["stable@r1", "h3", "Pending"]
    ],
    expectedAdvances: [["stable@r1", 1]],
    expectedActions: [
      { queue: "h2", rollout: "stable@r1" },
      { defer: "h3", rollout: "stable@r1", gate: "wave-promotion", reason: "wave-promotion: host_wave=2 > current_wave=1" }
    ]
  },
  {
    name: "rollout/wave_soaking_to_promoted",
    legacy: "promote_wave 2",
    fleet: twoWaves,
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1", currentWave: 1 }],
    hosts: [
      ["stable@r1", "h1", "Converged"],
      ["stable@r1", "h2", "Deferred"],
      ["stable@r1", "h3", "Pending"]
    ],
    expectedAdvances: [["stable@r1", 2]],
    expectedActions: [{ queue: "h3", rollout: "stable@r1" }]
  },
  {
    name: "rollout/all_waves_converged",
    legacy: "converge_rollout",
    fleet: twoWaves,
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1", currentWave: 2 }],
    hosts: [
      ["stable@r1", "h1", "Converged"],
      ["stable@r1", "h2", "Converged"],
      ["stable@r1", "h3", "Converged"]
    ],
    expectedAdvances: [],
    expectedActions: []
  },
  {
    name: "rollout/onfailure_halt",
    legacy: 'halt_rollout "host h1 failed (policy: halt)"',
    fleet: twoWaves,
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1", currentWave: 0 }],
    hosts: [
      ["stable@r1", "h1", "Failed"],
      ["stable@r1", "h2", "Pending"],
      ["stable@r1", "h3", "Pending"]
    ],
    expectedAdvances: [],
    expectedActions: [
      { defer: "h2", rollout: "stable@r1", gate: "wave-promotion", reason: "wave-promotion: host_wave=1 > current_wave=0" },
      { defer: "h3", rollout: "stable@r1", gate: "wave-promotion", reason: "wave-promotion: host_wave=2 > current_wave=0" }
    ]
  },
  {
    name: "rollout/channel_unknown",
    legacy: "channel_unknown gone",
    fleet: { hosts: { h1: { channel: "stable" } } },
    manifests: { stable: "r1" },
    rollouts: [
      { channel: "stable", ref: "r1", terminal: true },
      { channel: "gone", ref: "r1" }
    ],
    hosts: [
      ["stable@r1", "h1", "Converged"],
      ["gone@r1", "g1", "Pending"]
    ],
    expectedAdvances: [],
    expectedActions: []
  },
  {
    name: "host/queued_to_dispatched",
    legacy: "dispatch_host h1",
    fleet: { hosts: { h1: { channel: "stable" } } },
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1" }],
    hosts: [["stable@r1", "h1", "Pending"]],
    expectedAdvances: [],
    expectedActions: [{ queue: "h1", rollout: "stable@r1" }]
  },
  {
    name: "budgets_edges/edge_predecessor_blocks",
    legacy: "skip h1 \"host-edge: gating host 'h2' not yet Soaked/Converged\", dispatch_host h2",
    fleet: { hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } }, edges: [["h1", "h2"]] },
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1" }],
    hosts: [
      ["stable@r1", "h1", "Pending"],
      ["stable@r1", "h2", "Pending"]
    ],
    expectedAdvances: [],
    expectedActions: [
      { defer: "h1", rollout: "stable@r1", gate: "host-edge", reason: "host-edge: gating host 'h2' not yet Converged" },
      { queue: "h2", rollout: "stable@r1" }
    ]
  },
  {
    name: "budgets_edges/edge_predecessor_done_dispatch",
    legacy: "dispatch_host h1",
    fleet: { hosts: { h1: { channel: "stable" }, h2: { channel: "stable" } }, edges: [["h1", "h2"]] },
    manifests: { stable: "r1" },
    rollouts: [{ channel: "stable", ref: "r1" }],
    hosts: [
      ["stable@r1", "h1", "Pending"],
      ["stable@r1", "h2", "Converged"]
    ],
    expectedAdvances: [],
    expectedActions: [{ queue: "h1", rollout: "stable@r1" }]
  }
]
