/**
 * Memory EventLog: the audit log as an append log (appendLog.ts) in seq order inside the memory CP database, so
 * `Storage.transaction` covers it.
 *
 * Invariants: payloads are stored as the JSON round-trip of what was given (the same value the
 * SQLite adapter would read back; plain data is copied without the JSON text, strings shared, and
 * deep-frozen plain data is kept as is, since nobody can change it); a batch with one unencodable payload writes nothing; an agent
 * event key is stored at most once.
 */
import { Effect, Either, HashSet, Option, Schema } from "effect"
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
import { type AppendLog, appendAllTo, filterFrom } from "./appendLog.js"
import { type MemoryDb, ok } from "./db.js"
import type { CpState } from "./state.js"

const encodePayload = Schema.encodeEither(EventLogPayloadJson)

/** Thrown by {@link plainCopy} for a value it leaves to the JSON round trip. */
const NOT_PLAIN = Symbol("not plain JSON")

/**
 * `JSON.parse(JSON.stringify(value))` for plain data (null, booleans, numbers, strings, arrays and
 * plain objects), without the text: strings are shared, not copied. Anything else (toJSON, class
 * instances, bigints, cycles or very deep nesting) throws {@link NOT_PLAIN}.
 */
const plainCopy = (value: unknown, depth: number): unknown => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value
    case "number":
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null
    case "object": {
      if (value === null) return null
      if (depth > 64) throw NOT_PLAIN
      if (Array.isArray(value)) {
        const out: Array<unknown> = new Array(value.length)
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          out[i] = item === undefined || typeof item === "function" || typeof item === "symbol" ? null : plainCopy(item, depth + 1)
        }
        return out
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if ((proto !== Object.prototype && proto !== null) || "toJSON" in value) throw NOT_PLAIN
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(value)) {
        const item: unknown = (value as Record<string, unknown>)[key]
        if (item === undefined || typeof item === "function" || typeof item === "symbol") continue
        out[key] = plainCopy(item, depth + 1)
      }
      return out
    }
    default:
      throw NOT_PLAIN
  }
}

/**
 * Whether `value` is deep-frozen plain JSON data that its own JSON round trip would reproduce
 * (no -0, no non-finite number, no undefined or function member, no toJSON, not too deep).
 * Nobody can change such a value, so storing it as is cannot be told from storing a copy.
 */
const isFrozenPlain = (value: unknown, depth: number): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0)
    case "object": {
      if (value === null) return true
      if (depth > 64 || !Object.isFrozen(value)) return false
      if (Array.isArray(value)) {
        for (const item of value) if (!isFrozenPlain(item, depth + 1)) return false
        return true
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if ((proto !== Object.prototype && proto !== null) || "toJSON" in value) return false
      for (const key of Object.keys(value)) if (!isFrozenPlain((value as Record<string, unknown>)[key], depth + 1)) return false
      return true
    }
    default:
      return false
  }
}

/**
 * The JSON round trip of a payload, or why it is not JSON. A deep-frozen plain payload is kept
 * as is: the CP logs every DeferDispatch of a host with one shared frozen payload per decision
 * (src/cp/auditEntries.ts), and a copy per entry held ~2,000 payloads per plan tick of a
 * 2,000-host canary wave.
 */
const roundTrip = (payload: unknown): Either.Either<unknown, { readonly message: string }> => {
  if (typeof payload === "object" && payload !== null && isFrozenPlain(payload, 0)) return Either.right(payload)
  try {
    return Either.right(plainCopy(payload, 0))
  } catch (error) {
    if (error !== NOT_PLAIN) throw error
    return Either.map(encodePayload(payload), (text) => JSON.parse(text) as unknown)
  }
}

/** Copies each entry with its payload JSON round-tripped, or fails on the first that is not JSON. */
const normalise = (operation: string, entries: ReadonlyArray<EventLogEntry>): Either.Either<Array<EventLogEntry>, StorageError> => {
  const out: Array<EventLogEntry> = []
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as EventLogEntry
    const payload = roundTrip(entry.payload)
    if (Either.isLeft(payload)) {
      return Either.left(new StorageError({ operation, table: "event_log", reason: "Encode", detail: `entry ${index}: ${payload.left.message}` }))
    }
    out.push({ ...entry, payload: payload.right })
  }
  return Either.right(out)
}

const appendAll = (state: CpState, entries: ReadonlyArray<EventLogEntry>) => {
  let { agentKeys, lastSeq } = state
  const added: Array<StoredEventLogEntry> = []
  const seqs: Array<Option.Option<number>> = []
  for (const entry of entries) {
    const key = agentEventKey(entry)
    if (key !== null && HashSet.has(agentKeys, key)) {
      seqs.push(Option.none())
      continue
    }
    if (key !== null) agentKeys = HashSet.add(agentKeys, key)
    lastSeq += 1
    added.push({ seq: lastSeq, ...entry })
    seqs.push(Option.some(lastSeq))
  }
  return ok(seqs, { ...state, agentKeys, events: appendAllTo(state.events, added), lastSeq })
}

const select = (events: AppendLog<StoredEventLogEntry>, keep: (e: StoredEventLogEntry) => boolean, query: EventLogQuery = {}) => {
  const after = Math.max(0, Math.floor(query.afterSeq ?? 0))
  // Seqs are contiguous from 1 (see state.ts), so the entries after `after` start at index `after`.
  const found = filterFrom(events, after, (e) => e.seq > after && keep(e))
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
    append: (entry: EventLogEntry) =>
      Effect.map(appendBatch("EventLog.append", [entry]), (seqs) => Option.flatten(Option.fromNullable(seqs[0]))),
    appendBatch: (entries: ReadonlyArray<EventLogEntry>) => appendBatch("EventLog.appendBatch", entries),
    byRollout: (rolloutId: RolloutId, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.rolloutId === rolloutId, query)),
    byHost: (hostname: HostId, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.hostname === hostname, query)),
    byKind: (kind: EventLogKind, query?: EventLogQuery) =>
      db.read((s) => select(s.events, (e) => e.kind === kind, query)),
    hasAgentEvent: (key) =>
db.read((s) => HashSet.has(s.agentKeys, agentKeyString(key))),
    lastSeq: db.read((s) => s.lastSeq)
  }
}
