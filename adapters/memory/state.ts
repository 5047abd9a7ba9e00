/**
 * The in-memory CP database: one immutable value holding every table of the Storage and
 * EventLog ports, and the helpers the memory services share.
 *
 * Invariants: tables are persistent HashMaps / Chunks / append logs (never mutated in place); host records,
 * dispatches and probe failures only exist for a stored rollout; `lastSeq` is the highest event
 * seq ever assigned and the events chunk is in seq order.
 */
import { Chunk, Either, HashMap, HashSet } from "effect"
import type { HostRolloutState } from "../../src/domain/hostState.js"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import type { RolloutRecord } from "../../src/domain/rollout.js"
import { StorageError } from "../../src/ports/errors.js"
import type { StoredEventLogEntry } from "../../src/ports/eventLog.js"
import { type AppendLog, emptyAppendLog } from "./appendLog.js"
import type { DispatchEntry, ProbeFailure, QuarantineRecord, Revocation, TokenNonce } from "../../src/ports/storage.js"

/** Every table of the memory CP database. */
export interface CpState {
  readonly rollouts: HashMap.HashMap<RolloutId, RolloutRecord>
  readonly hostRecords: HashMap.HashMap<RolloutId, HashMap.HashMap<HostId, HostRolloutState>>
  readonly dispatches: HashMap.HashMap<HostId, HashMap.HashMap<RolloutId, DispatchEntry>>
  /** Keyed by `channel \0 closure`. */
  readonly quarantines: HashMap.HashMap<string, QuarantineRecord>
  readonly probeFailures: Chunk.Chunk<ProbeFailure>
  readonly nonces: HashMap.HashMap<string, TokenNonce>
  readonly revocations: HashMap.HashMap<HostId, Revocation>
  readonly events: AppendLog<StoredEventLogEntry>
  /** Dedup keys of the stored agent events (see `agentEventKey`). */
  readonly agentKeys: HashSet.HashSet<string>
  readonly lastSeq: number
}

/** An empty database. */
export const emptyCpState: CpState = {
  rollouts: HashMap.empty(),
  hostRecords: HashMap.empty(),
  dispatches: HashMap.empty(),
  quarantines: HashMap.empty(),
  probeFailures: Chunk.empty(),
  nonces: HashMap.empty(),
  revocations: HashMap.empty(),
  events: emptyAppendLog,
  agentKeys: HashSet.empty(),
  lastSeq: 0
}

/** Orders strings by UTF-16 code units (the same as SQLite's BINARY collation for our ids). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** A write refused by a constraint (as SQLite's foreign keys would). */
export const refuse = (operation: string, table: string, detail: string): Either.Either<never, StorageError> =>
  Either.left(new StorageError({ operation, table, reason: "Constraint", detail }))

/** Whether an event-log seq exists (seqs are contiguous from 1 in memory). */
export const seqExists = (state: CpState, seq: number | null): boolean => seq === null || (Number.isInteger(seq) && seq >= 1 && seq <= state.lastSeq)
