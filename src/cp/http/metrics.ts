/**
 * The HTTP layer's counters and the Prometheus text rendering of `/metrics`.
 *
 * Invariants: counters only grow and live in this service's Refs (one set per layer build, so
 * servers in one process never share counts); gauges are computed at scrape time from the
 * reducer and storage, never cached.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { HOST_STATES, type HostState } from "../../domain/hostState.js"
import { ROLLOUT_STATES, type RolloutState } from "../../domain/rollout.js"

/** How the events route disposed of an event (the `outcome` label). */
export type EventOutcomeLabel =
  | "applied"
  | "duplicate"
  | "rejected"
  | "unknown_record"
  | "not_ready"
  | "failed"
  | "queue_full"
  | "timeout"
  | "forbidden"

/** The counters' current values. */
export interface CounterSnapshot {
  readonly events: ReadonlyMap<EventOutcomeLabel, number>
  readonly heartbeats: number
  readonly rejections: ReadonlyMap<number, number>
}

/** The counters service. */
export interface HttpMetricsService {
  /** Counts one event by outcome. */
  readonly event: (outcome: EventOutcomeLabel) => Effect.Effect<void>
  /** Counts one answered heartbeat. */
  readonly heartbeat: Effect.Effect<void>
  /** Counts one rejected request by HTTP status. */
  readonly rejection: (status: number) => Effect.Effect<void>
  /** The current values. */
  readonly snapshot: Effect.Effect<CounterSnapshot>
}

const bump = <K>(map: ReadonlyMap<K, number>, key: K): ReadonlyMap<K, number> => new Map(map).set(key, (map.get(key) ?? 0) + 1)

/** The HTTP layer's counters. */
export class HttpMetrics extends Context.Tag("effect-fleet/HttpMetrics")<HttpMetrics, HttpMetricsService>() {
  /** Fresh counters at zero. */
  static readonly layer: Layer.Layer<HttpMetrics> = Layer.effect(
    HttpMetrics,
    Effect.map(Ref.make<CounterSnapshot>({ events: new Map(), heartbeats: 0, rejections: new Map() }), (ref) => ({
      event: (outcome) => Ref.update(ref, (s) => ({ ...s, events: bump(s.events, outcome) })),
      heartbeat: Ref.update(ref, (s) => ({ ...s, heartbeats: s.heartbeats + 1 })),
      rejection: (status) => Ref.update(ref, (s) => ({ ...s, rejections: bump(s.rejections, status) })),
      snapshot: Ref.get(ref)
    }))
  )
}

/** Scrape-time values. */
export interface Gauges {
  readonly ready: boolean
  readonly reducerBacklog: number
  readonly hostsByState: ReadonlyMap<HostState, number>
  readonly rolloutsByState: ReadonlyMap<RolloutState, number>
}

const EVENT_OUTCOMES: ReadonlyArray<EventOutcomeLabel> = [
  "applied",
  "duplicate",
  "rejected",
  "unknown_record",
  "not_ready",
  "failed",
  "queue_full",
  "timeout",
  "forbidden"
]

const family = (name: string, type: "counter" | "gauge", help: string, samples: ReadonlyArray<readonly [string, number]>): string =>
  [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels} ${v}`)].join("\n")

/** Renders the Prometheus text exposition (format 0.0.4). Every known label value is present, 0 when unseen. */
export const renderPrometheus = (counters: CounterSnapshot, gauges: Gauges): string =>
  [
    family(
      "effect_fleet_agent_events_total",
      "counter",
      "Agent events received, by how the CP disposed of them.",
      EVENT_OUTCOMES.map((o) => [`{outcome="${o}"}`, counters.events.get(o) ?? 0])
    ),
    family("effect_fleet_heartbeats_total", "counter", "Heartbeats answered.", [["", counters.heartbeats]]),
    family(
      "effect_fleet_http_rejections_total",
      "counter",
      "Requests refused, by HTTP status.",
      [...counters.rejections].sort(([a], [b]) => a - b).map(([status, n]) => [`{status="${status}"}`, n])
    ),
    family("effect_fleet_ready", "gauge", "1 once the CP has verified manifests.", [["", gauges.ready ? 1 : 0]]),
    family("effect_fleet_reducer_backlog", "gauge", "Inputs waiting in the reducer queue.", [["", gauges.reducerBacklog]]),
    family(
      "effect_fleet_host_records",
      "gauge",
      "Host rollout records of live rollouts, by state.",
      HOST_STATES.map((s) => [`{state="${s}"}`, gauges.hostsByState.get(s) ?? 0])
    ),
    family(
      "effect_fleet_rollouts",
      "gauge",
      "Stored rollouts, by state.",
      ROLLOUT_STATES.map((s) => [`{state="${s}"}`, gauges.rolloutsByState.get(s) ?? 0])
    )
  ].join("\n") + "\n"
