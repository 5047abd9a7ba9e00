/**
 * Wire-format tests of the domain schemas: spec state-machines §11 lines 51–56, timestamps, and
 * JSON round-trips of every wire type derived with `Arbitrary`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, ParseResult, Schema } from "effect"
import {
  AGENT_EVENT_KINDS,
  AgentEventEnvelope,
  type ChannelId,
  type ChannelRef,
  eventSeq,
  HostEvent,
  HostRolloutSnapshot,
  HostRolloutState,
  HostState,
  makeRolloutId,
  OnHealthFailure,
  OutboundAgentEvent,
  ProbeStatus,
  type RolloutId,
  RolloutRecord,
  rolloutChannel,
  rolloutRef,
  toOutbound,
  toRemoteEvent,
  Timestamp
} from "../../src/domain/index.js"
import { allEvents, at } from "../support/host.js"

const decodeJson = <A, I>(schema: Schema.Schema<A, I>) => (text: string) => Schema.decodeUnknownEither(Schema.parseJson(schema))(text)
const decode = Schema.decodeUnknownEither(Timestamp)
const encodeJson = <A, I>(schema: Schema.Schema<A, I>) => (value: A) => Schema.encodeSync(Schema.parseJson(schema))(value)

/** One wire example per kind, taken from the Local events (so every kind is covered). */
const wireExamples = () => {
  const seen = new Map<string, OutboundAgentEvent>()
  for (const e of allEvents(7)) {
    const payload = toOutbound(e)
    if (!seen.has(payload._tag)) seen.set(payload._tag, payload)
  }
  return [...seen.values()]
}

describe("proto wire tests", () => {
  it("51: the envelope key is rolloutId, never rollout_id", () => {
    const envelope = { hostname: "web-01", rolloutId: "stable@r1", event: { kind: "Converged", convergedAt: "2026-05-17T12:00:00Z", currentClosure: "c", seq: 3 } }
    const decoded = Schema.decodeUnknownSync(AgentEventEnvelope)(envelope)
    const json = encodeJson(AgentEventEnvelope)(decoded)
    expect(JSON.parse(json)).toHaveProperty("rolloutId", "stable@r1")
    expect(json).not.toContain("rollout_id")
    expect(Either.isLeft(Schema.decodeUnknownEither(AgentEventEnvelope)({ ...envelope, rolloutId: undefined, rollout_id: "stable@r1" }))).toBe(true)
  })

  it("52: every kind round-trips unchanged through JSON (ProbeResult with subResults), tagged by kind", () => {
    const examples = wireExamples()
    expect(examples.map((e) => e._tag).sort()).toEqual([...AGENT_EVENT_KINDS].sort())
    const probeResult = {
      _tag: "ProbeResult" as const,
      probeName: "http" as OutboundAgentEvent extends { probeName: infer P } ? P : never,
      mode: "enforce" as const,
      status: "fail" as const,
      observedAt: at(5),
      failureReason: "503",
      subResults: [{ controlId: "c1", status: "pass" as const, framework: "cis", article: null, effectiveMode: "observe" as const, overrideReason: "waiver" }],
      seq: 9
    }
    for (const payload of [...examples, probeResult]) {
      const json = encodeJson(OutboundAgentEvent)(payload)
      const parsed = JSON.parse(json) as Record<string, unknown>
      expect(parsed["kind"]).toBe(payload._tag)
      expect(parsed).not.toHaveProperty("_tag")
      expect(decodeJson(OutboundAgentEvent)(json)).toEqual(Either.right(payload))
    }
  })

  it("52: optional fields are omitted when null and accepted when missing or null", () => {
    const base = { kind: "ProbeResult", probeName: "http", mode: "enforce", status: "pass", observedAt: "2026-05-17T12:00:05Z", seq: 1 }
    const missing = Schema.decodeUnknownSync(OutboundAgentEvent)(base)
    const nulls = Schema.decodeUnknownSync(OutboundAgentEvent)({ ...base, failureReason: null, subResults: null })
    expect(missing).toEqual(nulls)
    expect(Object.keys(Schema.encodeSync(OutboundAgentEvent)(missing))).not.toContain("failureReason")
    const sub = Schema.decodeUnknownSync(OutboundAgentEvent)({ ...base, subResults: [{ controlId: "c", status: "pass", framework: "f" }] })
    expect(sub._tag === "ProbeResult" ? sub.subResults?.[0] : undefined).toEqual({ controlId: "c", status: "pass", framework: "f", article: null, effectiveMode: "enforce", overrideReason: null })
  })

  it("52: unknown JSON fields are ignored", () => {
    const decoded = Schema.decodeUnknownSync(OutboundAgentEvent)({ kind: "Converged", convergedAt: "2026-05-17T12:00:00Z", currentClosure: "c", seq: 3, futureField: 1 })
    expect(decoded).toEqual({ _tag: "Converged", convergedAt: at(0), currentClosure: "c", seq: 3 })
  })

  it("a probe named __proto__ is refused (probe maps are plain objects)", () => {
    const bad = { kind: "ProbeResult", probeName: "__proto__", mode: "enforce", status: "pass", observedAt: "2026-05-17T12:00:05Z", seq: 1 }
    const result = Schema.decodeUnknownEither(OutboundAgentEvent)(bad)
    expect(Either.isLeft(result)).toBe(true)
  })

  it("53: status serialises to pass/fail; policy to halt/rollback-and-halt", () => {
    expect(Schema.encodeSync(ProbeStatus)("pass")).toBe("pass")
    expect(Schema.encodeSync(ProbeStatus)("fail")).toBe("fail")
    expect(Schema.encodeSync(OnHealthFailure)("rollback-and-halt")).toBe("rollback-and-halt")
    expect(Either.isLeft(Schema.decodeUnknownEither(ProbeStatus)("Pass"))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(ProbeStatus)("unknown"))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(OnHealthFailure)("rollback_and_halt"))).toBe(true)
  })

  it("54: seq() returns the variant's seq", () => {
    for (const e of allEvents(42)) expect(eventSeq(e)).toBe(42)
  })

  it("55: HostState strings round-trip; legacy values and lowercase are rejected with a readable error", () => {
    for (const s of HostState.literals) expect(Schema.decodeUnknownSync(HostState)(Schema.encodeSync(HostState)(s))).toBe(s)
    for (const bad of ["pending", "Queued", "Dispatched", "ConfirmWindow", "Healthy", "Soaked"]) {
      const result = Schema.decodeUnknownEither(HostState)(bad)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(ParseResult.TreeFormatter.formatErrorSync(result.left)).toContain(`actual "${bad}"`)
    }
  })

  it("56: RolloutId splits on the first @", () => {
    const id = "a@b@c" as RolloutId
    expect(rolloutChannel(id)).toBe("a")
    expect(rolloutRef(id)).toBe("b@c")
    expect(rolloutChannel("plain" as RolloutId)).toBe("plain")
    expect(rolloutRef("plain" as RolloutId)).toBe("")
    expect(makeRolloutId("stable" as ChannelId, "r1" as ChannelRef)).toBe("stable@r1")
  })

  it("inbound conversion maps each wire kind to the Remote event of its row", () => {
    for (const e of allEvents(3).filter((x) => x._tag.startsWith("Remote"))) {
      expect(toRemoteEvent(toOutbound(e))).toEqual(e)
    }
  })
})

describe("timestamps", () => {
  it("decode RFC 3339 with Z, with 0, 3, 6 or 9 fractional digits (truncated to ms)", () => {
    expect(decode("2026-05-17T12:00:00Z")).toEqual(Either.right(Date.UTC(2026, 4, 17, 12)))
    expect(decode("2026-05-17T12:00:00.123Z")).toEqual(Either.right(Date.UTC(2026, 4, 17, 12, 0, 0, 123)))
    expect(decode("2026-05-17T12:00:00.123456Z")).toEqual(Either.right(Date.UTC(2026, 4, 17, 12, 0, 0, 123)))
    expect(decode("2026-05-17T12:00:00.123456789Z")).toEqual(Either.right(Date.UTC(2026, 4, 17, 12, 0, 0, 123)))
  })

  it("reject offsets other than Z, missing zones, impossible dates and garbage with a readable error", () => {
    for (const bad of ["2026-05-17T12:00:00+02:00", "2026-05-17T12:00:00", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "yesterday", ""]) {
      const result = decode(bad)
      expect(Either.isLeft(result), bad).toBe(true)
      if (Either.isLeft(result)) expect(ParseResult.TreeFormatter.formatErrorSync(result.left)).toContain("RFC 3339")
    }
  })

  it("encode with millisecond precision", () => {
    expect(Schema.encodeSync(Timestamp)(at(0))).toBe("2026-05-17T12:00:00.000Z")
    expect(Schema.encodeSync(Timestamp)(at(1.5))).toBe("2026-05-17T12:00:01.500Z")
  })
})

describe("JSON round-trips (Arbitrary-derived)", () => {
  const roundTrips = <A, I>(name: string, schema: Schema.Schema<A, I>) =>
    it.prop(`${name} encodes to JSON and decodes back to an equal value`, [Arbitrary.make(schema)], ([value]) => {
      expect(decodeJson(schema)(encodeJson(schema)(value))).toEqual(Either.right(value))
    })

  roundTrips("OutboundAgentEvent", OutboundAgentEvent)
  roundTrips("AgentEventEnvelope", AgentEventEnvelope)
  roundTrips("HostEvent", HostEvent)
  roundTrips("HostRolloutState", HostRolloutState)
  roundTrips("HostRolloutSnapshot", HostRolloutSnapshot)
  roundTrips("RolloutRecord", RolloutRecord)

  it.prop("Timestamp: any instant in range round-trips through its text", [fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 })], ([ms]) => {
    const text = Schema.encodeSync(Timestamp)(ms as Timestamp)
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(decode(text)).toEqual(Either.right(ms))
  })
})
