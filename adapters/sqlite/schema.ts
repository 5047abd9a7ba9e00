/**
 * The SQLite schema of the CP store and of the agent's outbound queue, as migrations from code
 * (`Migrator.fromRecord`), with every table name behind a prefix so the store can live in a host
 * application's database.
 *
 * Invariants: tables are STRICT (SQLite enforces column types); timestamps are INTEGER epoch
 * milliseconds (UTC), never SQL defaults; enum columns carry CHECK constraints listing exactly
 * the domain's values (HostState's 7 including Deferred, RolloutState's 8); foreign keys cascade
 * from a rollout to its host records, dispatches and probe failures; a migration, once
 * released, is never edited (add a new numbered one).
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { HOST_STATES } from "../../src/domain/hostState.js"
import { ROLLOUT_STATES } from "../../src/domain/rollout.js"
import { EventLogKind } from "../../src/ports/eventLog.js"
import { IN_FLIGHT_ROLLOUT_STATES } from "../../src/ports/storage.js"

/** The names of the CP tables under a prefix. */
export interface CpTables {
  readonly eventLog: string
  readonly rollouts: string
  readonly hostRecords: string
  readonly dispatchQueue: string
  readonly quarantines: string
  readonly probeFailures: string
  readonly tokenReplay: string
  readonly revocations: string
  readonly migrations: string
}

/** Valid prefixes: empty, or an SQL identifier start (letters, digits, underscores). */
export const isValidPrefix = (prefix: string): boolean => /^(?:[A-Za-z_][A-Za-z0-9_]*)?$/.test(prefix)

/** The CP table names under `prefix`. */
export const cpTables = (prefix: string): CpTables => ({
  eventLog: `${prefix}event_log`,
  rollouts: `${prefix}rollouts`,
  hostRecords: `${prefix}host_rollout_records`,
  dispatchQueue: `${prefix}dispatch_queue`,
  quarantines: `${prefix}quarantined_closures`,
  probeFailures: `${prefix}probe_failures`,
  tokenReplay: `${prefix}token_replay`,
  revocations: `${prefix}cert_revocations`,
  migrations: `${prefix}effect_fleet_migrations`
})

const list = (values: ReadonlyArray<string>) => values.map((v) => `'${v}'`).join(", ")

/** The DDL of CP schema version 1. */
export const cpSchemaV1 = (t: CpTables): ReadonlyArray<string> => [
  `CREATE TABLE ${t.eventLog} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN (${list(EventLogKind.literals)})),
    rollout_id TEXT,
    host_id TEXT,
    agent_seq INTEGER CHECK (agent_seq >= 0),
    payload TEXT NOT NULL CHECK (json_valid(payload))
  ) STRICT`,
  `CREATE INDEX ${t.eventLog}_rollout ON ${t.eventLog} (rollout_id, seq) WHERE rollout_id IS NOT NULL`,
  `CREATE INDEX ${t.eventLog}_host ON ${t.eventLog} (host_id, seq) WHERE host_id IS NOT NULL`,
  `CREATE INDEX ${t.eventLog}_kind ON ${t.eventLog} (kind, seq)`,
  // The CP's dedup of agent events by (hostname, rolloutId, agent seq).
  `CREATE UNIQUE INDEX ${t.eventLog}_agent_event ON ${t.eventLog} (host_id, rollout_id, agent_seq) WHERE kind = 'agent_event'`,
  `CREATE TABLE ${t.rollouts} (
    rollout_id TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN (${list(ROLLOUT_STATES)})),
    current_wave INTEGER NOT NULL DEFAULT 0 CHECK (current_wave >= 0),
    opened_event_log_seq INTEGER REFERENCES ${t.eventLog} (seq) ON DELETE SET NULL,
    last_transition_event_log_seq INTEGER REFERENCES ${t.eventLog} (seq) ON DELETE SET NULL,
    opened_at INTEGER NOT NULL,
    terminal_at INTEGER,
    superseded_at INTEGER
  ) STRICT`,
  `CREATE INDEX ${t.rollouts}_channel_state ON ${t.rollouts} (channel, state)`,
  `CREATE INDEX ${t.rollouts}_in_flight ON ${t.rollouts} (state) WHERE state IN (${list(IN_FLIGHT_ROLLOUT_STATES)})`,
  `CREATE TABLE ${t.hostRecords} (
    rollout_id TEXT NOT NULL REFERENCES ${t.rollouts} (rollout_id) ON DELETE CASCADE,
    hostname TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN (${list(HOST_STATES)})),
    target_closure TEXT NOT NULL,
    current_closure_at_dispatch TEXT,
    current_closure TEXT,
    reverted_to TEXT,
    dispatched_at INTEGER NOT NULL,
    dispatch_acked_at INTEGER,
    activation_started_at INTEGER,
    activation_completed_at INTEGER,
    activation_failed_at INTEGER,
    probe_observed_first_at INTEGER,
    probe_failure_first_at INTEGER,
    soak_due_at INTEGER,
    converged_at INTEGER,
    failed_at INTEGER,
    policy_applied TEXT CHECK (policy_applied IN ('halt', 'rollback-and-halt')),
    reverted_at INTEGER,
    probes_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(probes_json)),
    last_event_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_event_seq >= 0),
    PRIMARY KEY (rollout_id, hostname)
  ) STRICT`,
  `CREATE INDEX ${t.hostRecords}_hostname ON ${t.hostRecords} (hostname)`,
  `CREATE INDEX ${t.hostRecords}_channel_state ON ${t.hostRecords} (channel, state)`,
  `CREATE TABLE ${t.dispatchQueue} (
    hostname TEXT NOT NULL,
    rollout_id TEXT NOT NULL REFERENCES ${t.rollouts} (rollout_id) ON DELETE CASCADE,
    target_closure TEXT NOT NULL,
    soak_due_at INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    PRIMARY KEY (hostname, rollout_id)
  ) STRICT`,
  `CREATE INDEX ${t.dispatchQueue}_rollout ON ${t.dispatchQueue} (rollout_id)`,
  `CREATE TABLE ${t.quarantines} (
    channel TEXT NOT NULL,
    closure_hash TEXT NOT NULL,
    quarantined_at INTEGER NOT NULL,
    triggering_event_log_seq INTEGER REFERENCES ${t.eventLog} (seq) ON DELETE SET NULL,
    PRIMARY KEY (channel, closure_hash)
  ) STRICT`,
  `CREATE TABLE ${t.probeFailures} (
    id INTEGER PRIMARY KEY,
    event_log_seq INTEGER REFERENCES ${t.eventLog} (seq) ON DELETE CASCADE,
    rollout_id TEXT NOT NULL REFERENCES ${t.rollouts} (rollout_id) ON DELETE CASCADE,
    host_id TEXT NOT NULL,
    probe_name TEXT NOT NULL,
    control_id TEXT,
    framework TEXT,
    observed_at INTEGER NOT NULL
  ) STRICT`,
  `CREATE INDEX ${t.probeFailures}_rollout_host ON ${t.probeFailures} (rollout_id, host_id, control_id)`,
  `CREATE INDEX ${t.probeFailures}_event_log_seq ON ${t.probeFailures} (event_log_seq)`,
  `CREATE TABLE ${t.tokenReplay} (
    nonce TEXT PRIMARY KEY NOT NULL,
    hostname TEXT NOT NULL,
    first_seen INTEGER NOT NULL
  ) STRICT`,
  `CREATE INDEX ${t.tokenReplay}_first_seen ON ${t.tokenReplay} (first_seen)`,
  `CREATE TABLE ${t.revocations} (
    hostname TEXT PRIMARY KEY NOT NULL,
    not_before INTEGER NOT NULL,
    reason TEXT,
    revoked_at INTEGER NOT NULL,
    revoked_by TEXT
  ) STRICT`
]

/** The names of the agent outbound-queue tables under a prefix. */
export interface OutboundTables {
  readonly queue: string
  readonly migrations: string
}

/** The outbound-queue table names under `prefix`. */
export const outboundTables = (prefix: string): OutboundTables => ({
  queue: `${prefix}outbound_queue`,
  migrations: `${prefix}effect_fleet_outbound_migrations`
})

/** The DDL of outbound-queue schema version 1: FIFO by `id`, unique per (rollout_id, seq). */
export const outboundSchemaV1 = (t: OutboundTables): ReadonlyArray<string> => [
  `CREATE TABLE ${t.queue} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    hostname TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (json_valid(event)),
    UNIQUE (rollout_id, seq)
  ) STRICT`
]

const runAll = (statements: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.forEach(statements, (s) => sql.unsafe(s), { discard: true }))

/** Runs the migrations (numbered `<id>_<name>`) not yet recorded in `table`. */
export const migrate = (table: string, migrations: Record<string, ReadonlyArray<string>>) =>
  Migrator.make({})({
    table,
    loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).map(([name, ddl]) => [name, runAll(ddl)])))
  })
