/**
 * The Storage port: the CP's durable state (host rollout records, rollouts, the dispatch queue,
 * quarantines, the probe-failure projection, enrollment nonces and revocations).
 *
 * Invariants: every method is atomic, and `transaction` makes a group of calls (including
 * EventLog calls on the same backend) atomic as one unit; a failed call changes nothing; listing
 * methods return a deterministic order (documented per method); host records exist only for a
 * stored rollout (foreign key), so the reducer cannot create orphans.
 */
import { Context, Effect, Schema } from "effect"
import type { Option } from "effect"
import type { HostRolloutState, HostState } from "../domain/hostState.js"
import { ChannelId, ClosureHash, HostId, ProbeName, RolloutId } from "../domain/ids.js"
import type { ChannelRef } from "../domain/ids.js"
import type { RolloutRecord, RolloutState } from "../domain/rollout.js"
import { Timestamp } from "../domain/time.js"
import type { ProbeFailureCounts, QuarantineSet } from "../planner/types.js"
import type { StorageError } from "./errors.js"

/** The planner's inputs that Storage serves (defined once, in src/planner/types.ts). */
export type { ProbeFailureCounts, QuarantineSet }

/**
 * Host states that make a record "active" for a host (heartbeat synthesis and bootstrap).
 * Includes Failed, as the newer reference revision does: a Failed record whose rollback ack was
 * lost must still be found (spec §9.20).
 */
export const ACTIVE_HOST_STATES: ReadonlyArray<HostState> = ["Pending", "Activating", "Deferred", "Soaking", "Failed"]

/** Rollout states of `list_active` (used by the gates and supersession): all but Superseded and Pruned. */
export const ACTIVE_ROLLOUT_STATES: ReadonlyArray<RolloutState> = ["Opening", "Active", "Converging", "Terminal", "Reverted", "Failed"]

/** Rollout states of `list_in_flight` (the operator view): the active ones except Terminal. */
export const IN_FLIGHT_ROLLOUT_STATES: ReadonlyArray<RolloutState> = ["Opening", "Active", "Converging", "Reverted", "Failed"]

/** Rollout states that `pruneFinishedRollouts` may delete once old enough. */
export const PRUNABLE_ROLLOUT_STATES: ReadonlyArray<RolloutState> = ["Superseded", "Terminal", "Failed", "Reverted"]

/** One queued dispatch: the CP offers it to the host's long-poll; keyed by (hostname, rolloutId). */
export const DispatchEntry = Schema.Struct({
  hostname: HostId,
  rolloutId: RolloutId,
  targetClosure: ClosureHash,
  soakDueAt: Timestamp,
  enqueuedAt: Timestamp
}).annotations({ identifier: "DispatchEntry" })
/** One queued dispatch. */
export type DispatchEntry = typeof DispatchEntry.Type

/** One quarantined closure on a channel (append-only). */
export const QuarantineRecord = Schema.Struct({
  channel: ChannelId,
  closureHash: ClosureHash,
  quarantinedAt: Timestamp,
  /** The event-log entry that caused it, when known. */
  triggeringEventLogSeq: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "QuarantineRecord" })
/** One quarantined closure on a channel. */
export type QuarantineRecord = typeof QuarantineRecord.Type


/** One failing enforce-mode probe (or evidence control) observation, for the compliance-wave gate. */
export const ProbeFailure = Schema.Struct({
  rolloutId: RolloutId,
  hostname: HostId,
  probeName: ProbeName,
  /** The evidence control id, or null for a whole-probe failure. */
  controlId: Schema.NullOr(Schema.String),
  framework: Schema.NullOr(Schema.String),
  observedAt: Timestamp,
  eventLogSeq: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "ProbeFailure" })
/** One failing enforce-mode probe observation. */
export type ProbeFailure = typeof ProbeFailure.Type


/** An enrollment token nonce that has been used (replay protection). */
export const TokenNonce = Schema.Struct({
  nonce: Schema.NonEmptyString,
  hostname: HostId,
  firstSeenAt: Timestamp
}).annotations({ identifier: "TokenNonce" })
/** An enrollment token nonce that has been used. */
export type TokenNonce = typeof TokenNonce.Type

/** A host identity revocation: certificates issued before `notBefore` are refused. */
export const Revocation = Schema.Struct({
  hostname: HostId,
  notBefore: Timestamp,
  reason: Schema.NullOr(Schema.String),
  revokedAt: Timestamp,
  revokedBy: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Revocation" })
/** A host identity revocation. */
export type Revocation = typeof Revocation.Type

/** What `openRollout` needs: the record is created in Opening, wave 0. */
export interface NewRollout {
  readonly rolloutId: RolloutId
  readonly channel: ChannelId
  readonly targetRef: ChannelRef
  readonly openedAt: Timestamp
}

/** Restricts `listRollouts`; an omitted field does not restrict. */
export interface RolloutFilter {
  readonly channel?: ChannelId
  readonly states?: ReadonlyArray<RolloutState>
}

/** A rollout's record counts (see `hostRecordCounts`). */
export interface HostRecordCounts {
  /** Records of the rollout. */
  readonly total: number
  /** Those in the Converged state. */
  readonly converged: number
}

/** Host rollout records: one per (rollout, host), the CP mirror of each agent's state. */
export interface HostRecordStore {
  /** The record of one host in one rollout. */
  readonly loadHostRecord: (rolloutId: RolloutId, hostname: HostId) => Effect.Effect<Option.Option<HostRolloutState>, StorageError>
  /** Inserts or replaces a record (every field). The rollout must exist (else `Constraint`). */
  readonly upsertHostRecord: (record: HostRolloutState) => Effect.Effect<void, StorageError>
  /** Upserts many records in one transaction (all or none). */
  readonly upsertHostRecords: (records: ReadonlyArray<HostRolloutState>) => Effect.Effect<void, StorageError>
  /** Every record of a rollout, ordered by hostname. */
  readonly hostRecordsForRollout: (rolloutId: RolloutId) => Effect.Effect<ReadonlyArray<HostRolloutState>, StorageError>
  /**
   * How many records a rollout has, and how many of them are Converged (zeros for an unknown
   * rollout): the reducer's "has every host converged?" check, without reading the records.
   */
  readonly hostRecordCounts: (rolloutId: RolloutId) => Effect.Effect<HostRecordCounts, StorageError>
  /** The host's records in {@link ACTIVE_HOST_STATES}, ordered by rollout id (primary-key order). */
  readonly activeHostRecordsForHost: (hostname: HostId) => Effect.Effect<ReadonlyArray<HostRolloutState>, StorageError>
  /** Every record, ordered by (rollout id, hostname). */
  readonly allHostRecords: Effect.Effect<ReadonlyArray<HostRolloutState>, StorageError>
}

/** Rollouts: one per `channel@ref`, with state, wave cursor and timestamps. */
export interface RolloutStore {
  /** Creates the rollout in Opening at wave 0; `false` (and no change) when it already exists. */
  readonly openRollout: (rollout: NewRollout) => Effect.Effect<boolean, StorageError>
  /** The rollout's record (its state, wave and timestamps). */
  readonly loadRollout: (rolloutId: RolloutId) => Effect.Effect<Option.Option<RolloutRecord>, StorageError>
  /** Rollouts matching the filter, newest first (`openedAt` descending, then rollout id). */
  readonly listRollouts: (filter?: RolloutFilter) => Effect.Effect<ReadonlyArray<RolloutRecord>, StorageError>
  /**
   * Moves a rollout to `to` unless it is already there (`false` then, or when it does not
   * exist). Moving to Terminal sets `terminalAt`, to Superseded sets `supersededAt`.
   */
  readonly recordRolloutTransition: (rolloutId: RolloutId, to: RolloutState, at: Timestamp) => Effect.Effect<boolean, StorageError>
  /** Raises `currentWave` to `wave`; never lowers it (`false` when unchanged or missing). */
  readonly setCurrentWave: (rolloutId: RolloutId, wave: number) => Effect.Effect<boolean, StorageError>
  /**
   * Deletes rollouts in {@link PRUNABLE_ROLLOUT_STATES} whose `terminalAt ?? supersededAt ??
   * openedAt` is before `cutoff`, with their host records, dispatches and probe failures, in one
   * transaction. Returns how many rollouts were deleted.
   */
  readonly pruneFinishedRollouts: (cutoff: Timestamp) => Effect.Effect<number, StorageError>
}

/** The dispatch queue the hosts' long-polls take from. */
export interface DispatchStore {
  /** Inserts or replaces the (hostname, rolloutId) dispatch (the planner re-queues every tick). */
  readonly enqueueDispatch: (entry: DispatchEntry) => Effect.Effect<void, StorageError>
  /** Removes and returns the host's oldest dispatch (by `enqueuedAt`, then rollout id), atomically. */
  readonly takeDispatchForHost: (hostname: HostId) => Effect.Effect<Option.Option<DispatchEntry>, StorageError>
  /** The host's queued dispatches, oldest first, without removing them. */
  readonly dispatchesForHost: (hostname: HostId) => Effect.Effect<ReadonlyArray<DispatchEntry>, StorageError>
  /** Removes one dispatch; `false` when there was none. */
  readonly removeDispatch: (hostname: HostId, rolloutId: RolloutId) => Effect.Effect<boolean, StorageError>
}

/** Quarantined closures (the quarantine gate's input). */
export interface QuarantineStore {
  /** Records a quarantine; `false` (and no change) when the (channel, closure) is already there. */
  readonly insertQuarantine: (record: QuarantineRecord) => Effect.Effect<boolean, StorageError>
  /** Every quarantine, ordered by (channel, closure). */
  readonly listQuarantines: Effect.Effect<ReadonlyArray<QuarantineRecord>, StorageError>
  /** Every quarantine as the planner's {@link QuarantineSet}. */
  readonly loadQuarantines: Effect.Effect<QuarantineSet, StorageError>
}

/** The probe-failure projection (the compliance-wave gate's input). */
export interface ProbeFailureStore {
  /** Appends failure observations in one transaction. The rollout must exist. */
  readonly insertProbeFailures: (failures: ReadonlyArray<ProbeFailure>) => Effect.Effect<void, StorageError>
  /** Distinct failing enforce probes per rollout and host (hosts with none are absent). */
  readonly probeFailureCounts: Effect.Effect<ProbeFailureCounts, StorageError>
}

/** Enrollment nonces and host identity revocations. */
export interface IdentityStore {
  /** Records a token nonce; `false` when it was already used (a replay). */
  readonly recordTokenNonce: (nonce: TokenNonce) => Effect.Effect<boolean, StorageError>
  /** Deletes nonces first seen before `cutoff`; returns how many. */
  readonly pruneTokenNonces: (cutoff: Timestamp) => Effect.Effect<number, StorageError>
  /** Inserts or replaces the host's revocation. */
  readonly upsertRevocation: (revocation: Revocation) => Effect.Effect<void, StorageError>
  /** The host's revocation, if any. */
  readonly loadRevocation: (hostname: HostId) => Effect.Effect<Option.Option<Revocation>, StorageError>
}

/** The Storage service: every store above plus `transaction`. Every method fails only with {@link StorageError}. */
export interface StorageService extends HostRecordStore, RolloutStore, DispatchStore, QuarantineStore, ProbeFailureStore, IdentityStore {
  /**
   * Runs `effect` as one transaction: every Storage and EventLog call on this backend inside it
   * commits together or not at all (nested calls use savepoints). Other fibers' calls wait until
   * it ends, so never wait inside a transaction for another fiber that uses this storage.
   */
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
}

/** The CP's durable state. Adapters: `layerMemory` (effect-fleet/memory), `layerSqlite` (effect-fleet/sqlite). */
export class Storage extends Context.Tag("effect-fleet/Storage")<Storage, StorageService>() {}

/** Marks a rollout Terminal (sets `terminalAt`); `false` when it already was or does not exist. */
export const markRolloutTerminal = (rolloutId: RolloutId, at: Timestamp): Effect.Effect<boolean, StorageError, Storage> =>
  Effect.flatMap(Storage, (storage) => storage.recordRolloutTransition(rolloutId, "Terminal", at))

/** Marks a rollout Superseded (sets `supersededAt`); `false` when it already was or does not exist. */
export const supersedeRollout = (rolloutId: RolloutId, at: Timestamp): Effect.Effect<boolean, StorageError, Storage> =>
  Effect.flatMap(Storage, (storage) => storage.recordRolloutTransition(rolloutId, "Superseded", at))

/** Groups quarantine records into the planner's {@link QuarantineSet}. */
export const toQuarantineSet = (records: ReadonlyArray<QuarantineRecord>): QuarantineSet => {
  const set = new Map<ChannelId, Set<ClosureHash>>()
  for (const r of records) {
    const closures = set.get(r.channel) ?? new Set<ClosureHash>()
    closures.add(r.closureHash)
    set.set(r.channel, closures)
  }
  return set
}
