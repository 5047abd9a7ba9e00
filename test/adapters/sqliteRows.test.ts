/**
 * The SQLite write fast paths agree with the Schema row codecs they stand in for, and the
 * chunking that splits multi-row statements keeps every row once and in order.
 */
import { expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import { chunks, MAX_CHUNK } from "../../adapters/sqlite/exec.js"
import { EVENT_LOG_COLUMNS, eventLogParams, HOST_RECORD_COLUMNS, HostRecordRow, hostRecordParams, NewEventLogRow } from "../../adapters/sqlite/rows.js"
import { HostRolloutState } from "../../src/domain/index.js"
import { EventLogEntry } from "../../src/ports/eventLog.js"

const encodeHost = Schema.encodeSync(HostRecordRow)
const encodeEntry = Schema.encodeEither(NewEventLogRow)
const entries = Arbitrary.make(EventLogEntry).chain((e) => FastCheck.jsonValue().map((payload) => ({ ...e, payload })))

it.prop("hostRecordParams equals the Schema encoding, column by column", { record: HostRolloutState }, ({ record }) => {
  const row = encodeHost(record) as Record<string, unknown>
  expect(hostRecordParams(record)).toEqual(HOST_RECORD_COLUMNS.map((c) => row[c]))
})

it.prop("eventLogParams equals the Schema encoding for JSON payloads", { entry: entries }, ({ entry }) => {
  const row = Either.getOrThrow(encodeEntry(entry)) as Record<string, unknown>
  expect(eventLogParams(entry)).toEqual(Either.right(EVENT_LOG_COLUMNS.map((c) => row[c])))
})

it.prop("eventLogParams refuses what the Schema refuses", { entry: Arbitrary.make(EventLogEntry) }, ({ entry }) => {
  for (const payload of [BigInt(7), undefined, () => 1, { nested: BigInt(1) }]) {
    const bad = { ...entry, payload }
    expect(Either.isLeft(eventLogParams(bad))).toBe(true)
    expect(Either.isLeft(encodeEntry(bad))).toBe(true)
  }
})

it.prop("chunks keep every item once, in order, in at most log2(MAX_CHUNK) + 1 shapes", { n: FastCheck.integer({ min: 0, max: 3000 }) }, ({ n }) => {
  const items = Array.from({ length: n }, (_, i) => i)
  const parts = chunks(items)
  expect(parts.flat()).toEqual(items)
  for (const part of parts) expect([MAX_CHUNK, 128, 64, 32, 16, 8, 4, 2, 1]).toContain(part.length)
})
