/**
 * RFC 8785 canonicalisation: the spec's C1–C6 corpus, the RFC's own examples and number
 * vectors, error cases, and properties (idempotence, key-order independence, round trip).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { canonicalHashFromBytes, sha256Hex } from "../../src/trust/hash.js"
import { canonicalize, canonicalizeText, type JsonValue } from "../../src/trust/jcs.js"
import { left, right } from "../support/either.js"
import { fixture, utf8 } from "./support.js"

const canon = (text: string): string => right(canonicalizeText(text))

/** Rebuilds a JSON value with every object's keys in a permuted order (own data properties only). */
const permuteKeys = (value: JsonValue, seed: number): JsonValue => {
  if (Array.isArray(value)) return value.map((v: JsonValue, i: number) => permuteKeys(v, seed + i))
  if (typeof value !== "object" || value === null) return value
  const entries = Object.entries(value as Record<string, JsonValue>)
  const rotated = entries.length === 0 ? entries : [...entries.slice(seed % entries.length), ...entries.slice(0, seed % entries.length)]
  const ordered = seed % 2 === 0 ? rotated.reverse() : rotated
  return Object.fromEntries(ordered.map(([k, v], i) => [k, permuteKeys(v, seed + i + 1)]))
}

/**
 * The keys of every object in compact JSON text, in textual order (one list per object, in the
 * order the objects close). Needed because `Object.keys` lists integer-like keys first.
 */
const keySequences = (text: string): Array<Array<string>> => {
  const done: Array<Array<string>> = []
  const stack: Array<Array<string> | null> = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1
      const top = stack[stack.length - 1]
      if (text[j + 1] === ":" && top !== undefined && top !== null) top.push(JSON.parse(text.slice(i, j + 1)) as string)
      i = j + 1
      continue
    }
    if (c === "{") stack.push([])
    else if (c === "[") stack.push(null)
    else if (c === "}" || c === "]") {
      const closed = stack.pop()
      if (closed !== undefined && closed !== null) done.push(closed)
    }
    i++
  }
  return done
}

describe("JCS corpus (spec C1–C6)", () => {
  it("C1: golden fixture canonicalises to the independently produced .canonical bytes", () => {
    expect(canon(fixture("jcs-golden.json"))).toBe(fixture("jcs-golden.canonical"))
  })

  it("C2: canonicalisation is idempotent on the golden fixture", () => {
    const once = canon(fixture("jcs-golden.json"))
    expect(canon(once)).toBe(once)
  })

  it("C3: input key order is irrelevant", () => {
    const parsed = JSON.parse(fixture("jcs-golden.json")) as JsonValue
    const original = canon(fixture("jcs-golden.json"))
    for (let seed = 0; seed < 6; seed++) {
      const shuffled = JSON.stringify(permuteKeys(parsed, seed), null, seed)
      expect(canon(shuffled)).toBe(original)
    }
  })

  it("C4: invalid JSON is rejected with a typed parse error", () => {
    for (const bad of ["{not json", "", "{\"a\":1,}", "[1 2]", "\uFEFF{}", "{'a':1}", "NaN"]) {
      expect(left(canonicalizeText(bad))._tag).toBe("JcsParseError")
    }
    expect(left(canonicalizeText(new Uint8Array([0x22, 0xc3, 0x28, 0x22])))._tag).toBe("JcsParseError")
  })

  it("C5: an already-canonical 69-byte document round-trips byte-identical", () => {
    const golden = fixture("stream-b-jcs-golden.json")
    expect(utf8(golden).length).toBe(69)
    expect(canon(golden)).toBe(golden)
  })

  describe("C6: RFC 8785 Appendix E corpus", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ["empty object", "{}", "{}"],
      ["empty array", "[]", "[]"],
      ["sorted keys stay", `{"a":1,"b":2}`, `{"a":1,"b":2}`],
      ["unsorted keys reorder", `{"b":2,"a":1}`, `{"a":1,"b":2}`],
      ["numeric keys sort as strings: \"1\" < \"10\" < \"2\"", `{"2":"two","10":"ten","1":"one"}`, `{"1":"one","10":"ten","2":"two"}`],
      ["arrays keep order, objects inside sort", `[56,{"d":true,"10":null,"1":[]}]`, `[56,{"1":[],"10":null,"d":true}]`],
      ["nested objects sort recursively", `{"outer":{"z":1,"a":2}}`, `{"outer":{"a":2,"z":1}}`],
      ["control characters escape", `{"k":"\\b\\t\\n\\f\\r\\u0000\\u001F"}`, `{"k":"\\b\\t\\n\\f\\r\\u0000\\u001f"}`],
      ["\\/ becomes /", `{"url":"http:\\/\\/example.com"}`, `{"url":"http://example.com"}`],
      ["literals", `{"t":true,"f":false,"n":null}`, `{"f":false,"n":null,"t":true}`],
      ["whitespace removed", ` [ 1 , { "a" : [ ] } ] `, `[1,{"a":[]}]`]
    ]
    for (const [name, input, expected] of cases) {
      it(`C6: ${name}`, () => {
        expect(canon(input)).toBe(expected)
        expect(canon(expected)).toBe(expected)
      })
    }

    it("C6: RFC 8785 §3.2.2 sample (numbers, escapes, literals)", () => {
      const input =
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], ' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}'
      expect(canon(input)).toBe(
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
      )
    })

    it("C6: RFC 8785 §3.2.3 sort by UTF-16 code units (not code points)", () => {
      const input =
        '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}'
      // (Object.keys would list the integer-like key "1" first, so read the order from the text.)
      expect(keySequences(canon(input))).toEqual([["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]])
      expect(canon(input)).toContain('"\u0080":"Control"')
    })
  })
})

describe("JCS numbers (RFC 8785 Appendix B, ECMAScript serialisation)", () => {
  const fromBits = (hex: string): number => Buffer.from(hex, "hex").readDoubleBE(0)
  const vectors: ReadonlyArray<readonly [string, string]> = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"]
  ]
  for (const [bits, expected] of vectors) {
    it(`number ${bits} → ${expected}`, () => {
      expect(right(canonicalize([fromBits(bits)]))).toBe(`[${expected}]`)
      // Text input with the same value gives the same form.
      expect(canon(`[${expected}]`)).toBe(`[${expected}]`)
    })
  }

  it("1e21, 1e-7, -0 and 333333333.33333329 from text", () => {
    expect(canon("[1e21, 1E-7, -0, -0.0, 333333333.33333329, 1.0, 100e-2]")).toBe("[1e+21,1e-7,0,0,333333333.3333333,1,1]")
  })

  it("non-finite numbers have no canonical form", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(left(canonicalize({ n }))._tag).toBe("JcsCanonicalizeError")
    }
    // JSON.parse turns 1e400 into Infinity: valid JSON, but not canonicalisable.
    expect(left(canonicalizeText("[1e400]"))._tag).toBe("JcsCanonicalizeError")
  })
})

describe("JCS strings and values", () => {
  it("lone surrogates are rejected (I-JSON), in values and in keys; pairs are kept", () => {
    expect(left(canonicalizeText('"\\ud800"'))._tag).toBe("JcsCanonicalizeError")
    expect(left(canonicalizeText('{"\\udc00":1}'))._tag).toBe("JcsCanonicalizeError")
    expect(canon('"\\ud83d\\ude00"')).toBe('"😀"')
  })

  it("non-ASCII and DEL are written literally; only controls below U+0020 are escaped", () => {
    expect(canon('"\\u007f\\u00e9\\u2028"')).toBe('"\u007f\u00e9\u2028"')
  })

  it("invalid UTF-8 bytes are a parse error; valid UTF-8 bytes equal the text path", () => {
    expect(left(canonicalizeText(new Uint8Array([0x5b, 0xff, 0x5d])))._tag).toBe("JcsParseError")
    const text = fixture("jcs-golden.json")
    expect(right(canonicalizeText(utf8(text)))).toBe(canon(text))
  })

  it("values that are not JSON are rejected: undefined, functions, bigint, Dates, cycles", () => {
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    for (const bad of [undefined, () => 1, 10n, new Date(0), { a: [undefined] }, cyclic]) {
      expect(Either.isLeft(canonicalize(bad))).toBe(true)
    }
  })

  it("a shared (non-cyclic) sub-object is fine", () => {
    const shared = { b: 1 }
    expect(right(canonicalize({ x: shared, y: [shared] }))).toBe('{"x":{"b":1},"y":[{"b":1}]}')
  })

  it("a __proto__ key from JSON is an ordinary key", () => {
    expect(canon('{"z":1,"__proto__":{"a":2}}')).toBe('{"__proto__":{"a":2},"z":1}')
  })

  it("fleetResolvedHash is the lowercase sha256 of the canonical bytes, independent of formatting", () => {
    const text = fixture("signed-artifact.json")
    const hash = right(canonicalHashFromBytes(utf8(text)))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).toBe(sha256Hex(fixture("signed-artifact.canonical")))
    expect(right(canonicalHashFromBytes(JSON.stringify(JSON.parse(text))))).toBe(hash)
    expect(right(canonicalHashFromBytes(text.replace("h1", "h2")))).not.toBe(hash)
  })
})

describe("JCS properties", () => {
  const json = fc.jsonValue() as fc.Arbitrary<JsonValue>

  it.prop("idempotent: canonical text is a fixed point", [json], ([value]) => {
    const once = right(canonicalize(value))
    expect(canon(once)).toBe(once)
  })

  it.prop("key-order independent: permuting object keys never changes the canonical text", [json, fc.nat(50)], ([value, seed]) => {
    expect(right(canonicalize(permuteKeys(value, seed)))).toBe(right(canonicalize(value)))
  })

  it.prop("round trip: the canonical text parses back to an equal value with sorted keys", [json], ([value]) => {
    const text = right(canonicalize(value))
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)))
    for (const keys of keySequences(text)) expect(keys).toEqual([...keys].sort())
    expect(text).not.toMatch(/^\s|\s$/)
  })
})
