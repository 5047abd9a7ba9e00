/**
 * Request spans: by default every request gets the platform's `http.server <METHOD>` span;
 * `traceRequests: false` drops that span only (service-method spans stay).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type CpHttpOptions } from "../../src/cp/http/index.js"
import { raw, recordingTracer, serverLayer } from "./support.js"

/** The span names recorded while the server answers one `GET /healthz`. */
const spansOfHealthz = (http: CpHttpOptions) => {
  const names: Array<string> = []
  return Effect.gen(function* () {
    const health = yield* raw("GET", "/healthz", { token: null, protocol: null })
    expect(health.status).toBe(200)
    return names
  }).pipe(Effect.provide(serverLayer({ http }).pipe(Layer.provide(Layer.setTracer(recordingTracer(names))))))
}

describe("request spans", () => {
  it.effect("on by default: a request gets an http.server span", () =>
    Effect.map(spansOfHealthz({}), (names) => expect(names).toContain("http.server GET"))
  )

  it.effect("traceRequests: false answers the same without the http.server span", () =>
    Effect.map(spansOfHealthz({ traceRequests: false }), (names) => {
      expect(names).toContain("http.client GET")
      expect(names).not.toContain("http.server GET")
    })
  )
})
