/**
 * Memory EventLog: the audit log as a Chunk in seq order inside the memory CP database, so
 * `Storage.transaction` covers it.
 *
 * Invariants: payloads are stored as the JSON round-trip of what was given (the same value the
 * SQLite adapter would read back); a batch with one unencodable payload writes nothing; an agent
 * event key is stored at most once.
 */
import { Chunk, Effect, Either, HashSet, Option, Schema } from "effect"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import { StorageError } from "../../src/ports/errors.js"
import {
  agentEventKey,
  agentKeyString,
  type EventLogEntry,
  type EventLogKind,
  EventLogPayloadJson,
  type EventLogQuery,
  type EventLogService,
  type StoredEventLogEntry
} from "../../src/ports/eventLog.js"
import { type MemoryDb, ok } from "./db.js"
import type { CpState } from "./state.js"

const encodePayload = Schema.encodeEither(EventLogPayloadJson)

/** Copies each entry with its payload JSON round-tripped, or fails on the first that is not JSON. */
const normalise = (operation: string, entries: ReadonlyArray<EventLogEntry>): Either.Either<Array<EventLogEntry>, StorageError> =>
  Either.all(
    entries.map((entry, index) =>
      Either.mapBoth(encodePayload(entry.payload), {
        onLeft: (error) => new StorageError({ operation, table: "event_log", reason: "Encode", detail: `entry ${index}: ${error.message}` }),
        onRight: (text): EventLogEntry => ({ ...entry, payload: JSON.parse(text) as unknown })
      })
    )
  )

const appendAll = (state: CpState, entries: ReadonlyArray<EventLogEntry>) => {
  let { agentKeys, events, lastSeq } = state
  const seqs: Array<Option.Option<number>> = []
  for (const entry of entries) {
    const key = agentEventKey(entry)
    if (key !== null && HashSet.has(agentKeys, key)) {
      seqs.push(Option.none())
      continue
    }
    if (key !== null) agentKeys = HashSet.add(agentKeys, key)
    lastSeq += 1
    events = Chunk.append(events, { seq: lastSeq, ...entry })
    seqs.push(Option.some(lastSeq))
  }
  return ok(seqs, { ...state, agentKeys, events, lastSeq })
}

const select = (events: Chunk.Chunk<StoredEventLogEntry>, keep: (e: StoredEventLogEntry) => boolean, query: EventLogQuery = {}) => {
  const after = Math.max(0, Math.floor(query.afterSeq ?? 0))
  // Seqs are contiguous from 1 (see state.ts), so the entries after `after` start at index `after`.
  const found = Chunk.toReadonlyArray(Chunk.filter(Chunk.drop(events, after), (e) => e.seq > after && keep(e)))
  return query.limit === undefined ? found : found.slice(0, Math.max(0, query.limit))
}

/** Builds the EventLog service over a memory database. */
export const makeMemoryEventLog = (db: MemoryDb<CpState>): EventLogService => {
  const appendBatch = (operation: string, entries: ReadonlyArray<EventLogEntry>) =>
    Either.match(normalise(operation, entries), {
      onLeft: (error) => Effect.fail(error),
      onRight: (normalised) => db.write((s) => appendAll(s, normalised))
    })
  return {
    append: Effect.fn("EventLog.append")((entry: EventLogEntry) =>
      Effect.map(appendBatch("EventLog.append", [entry]), (seqs) => Option.flatten(Option.fromNullable(seqs[0])))
    ),
    appendBatch: Effect.fn("EventLog.appendBatch")((entries: ReadonlyArray<EventLogEntry>) => appendBatch("EventLog.appendBatch", entries)),
    byRollout: Effect.fn("EventLog.byRollout")((rolloutId: RolloutId, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.rolloutId === rolloutId, query))
    ),
    byHost: Effect.fn("EventLog.byHost")((hostname: HostId, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.hostname === hostname, query))
    ),
    byKind: Effect.fn("EventLog.byKind")((kind: EventLogKind, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.kind === kind, query))
    ),
    hasAgentEvent: Effect.fn("EventLog.hasAgentEvent")((key) =>
db.read((s) => HashSet.has(s.agentKeys, agentKeyString(key)))
    ),
    lastSeq: Effect.withSpan(db.read((s) => s.lastSeq), "EventLog.lastSeq")
  }
}
