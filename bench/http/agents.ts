/**
 * Simulated agents for the HTTP benchmark: each host of the sample fleet posts its own happy-path
 * events (DispatchAck, ActivationStarted, ActivationCompleted, then ProbeResults while Soaking)
 * and heartbeats with its own bearer token, through autocannon.
 *
 * Invariants: a host has at most one request in flight (hosts are lent from an idle pool and
 * returned on the response), so its events reach the CP in seq order; every request carries a
 * new seq, so no event is a duplicate unless a run asks for duplicates; a host's phase advances
 * only on a 2xx, so a refused event is followed by the same kind again (with a higher seq, which
 * `step()` accepts), never by one that would be illegal for its record. A request that gets no
 * answer at all (client timeout) keeps its host out of the pool for the rest of the run, since
 * the CP may still apply it.
 */
import autocannon from "autocannon"
import type { HostId, RolloutId } from "../../src/domain/ids.js"
import { PROTOCOL_HEADER, PROTOCOL_HEADER_VALUE } from "../../src/wire/protocol.js"

/** One simulated agent and what the CP has accepted from it so far. */
export interface SimHost {
  readonly hostname: HostId
  readonly rolloutId: RolloutId
  readonly token: string
  readonly targetClosure: string
  /** The closure the host ran before the rollout (reported in its DispatchAck). */
  readonly previousClosure: string
  /** 0: next is DispatchAck, 1: ActivationStarted, 2: ActivationCompleted, 3+: ProbeResult (Soaking). */
  phase: number
  /** The last seq sent. */
  seq: number
  /** The last seq the CP answered 2xx to (0 before any). */
  appliedSeq: number
}

/** Seconds without an answer after which autocannon gives a request up (and reconnects). */
const TIMEOUT_SECONDS = 30

/** The phase from which a host is Soaking on the CP. */
export const SOAKING_PHASE = 3

/** What one autocannon run measured. */
export interface LoadResult {
  /** 2xx responses. */
  readonly ok: number
  /** Responses by non-2xx status. */
  readonly refused: ReadonlyMap<number, number>
  /** Connection errors and timeouts (requests that got no response). */
  readonly errors: number
  readonly timeouts: number
  /** Wall time of the run, seconds. */
  readonly seconds: number
  /** 2xx latency percentiles, milliseconds (autocannon's histogram, 1 ms resolution). */
  readonly p50: number
  readonly p99: number
  readonly max: number
}

/** How a run drives the CP. */
export interface LoadOptions {
  readonly baseUrl: string
  /** Concurrent keep-alive connections (requests in flight at most). */
  readonly connections: number
  /** Stop after this many requests (every one answered), or after `duration` seconds. */
  readonly stop: { readonly amount: number } | { readonly duration: number }
}

/** A FIFO of idle host indices: hosts are lent out one request at a time. */
interface IdlePool {
  readonly take: () => number
  readonly give: (i: number) => void
}

const idlePool = (indices: ReadonlyArray<number>): IdlePool => {
  const ring = Int32Array.from(indices)
  let head = 0
  let size = indices.length
  return {
    take: () => {
      if (size === 0) throw new Error("idle pool empty: more connections than hosts")
      const i = ring[head] as number
      head = (head + 1) % ring.length
      size--
      return i
    },
    give: (i) => {
      ring[(head + size) % ring.length] = i
      size++
    }
  }
}

const headersFor = (token: string) => ({
  authorization: `Bearer ${token}`,
  "content-type": "application/json",
  [PROTOCOL_HEADER]: PROTOCOL_HEADER_VALUE
})

/** The JSON of the host's next event at its current phase, with a fresh seq. */
export const nextEventJson = (h: SimHost, at: string): string => {
  h.seq++
  const event =
    h.phase === 0
      ? { kind: "DispatchAck", currentClosureAtDispatch: h.previousClosure, receivedAt: at, seq: h.seq }
      : h.phase === 1
        ? { kind: "ActivationStarted", startedAt: at, switchMethod: "switch", seq: h.seq }
        : h.phase === 2
          ? { kind: "ActivationCompleted", observedCurrentClosure: h.targetClosure, exitCode: 0, completedAt: at, seq: h.seq }
          : { kind: "ProbeResult", probeName: "http", mode: "enforce", status: "pass", observedAt: at, seq: h.seq }
  return JSON.stringify({ hostname: h.hostname, rolloutId: h.rolloutId, event })
}

/** A ProbeResult at a seq the CP already applied: answered 204 as a duplicate, nothing written. */
export const duplicateEventJson = (h: SimHost, at: string): string =>
  JSON.stringify({
    hostname: h.hostname,
    rolloutId: h.rolloutId,
    event: { kind: "ProbeResult", probeName: "http", mode: "enforce", status: "pass", observedAt: at, seq: h.appliedSeq }
  })

/**
 * The heartbeat the agent sends (no rollout named, as the agent's heartbeat worker does) with the
 * closure it runs: the target once Soaking, the previous one before (so the CP has no recovery
 * to synthesise: its view matches the agent's).
 */
export const heartbeatJson = (h: SimHost, at: string): string =>
  JSON.stringify({ hostname: h.hostname, currentClosure: h.phase >= SOAKING_PHASE ? h.targetClosure : h.previousClosure, at })

/** The figures of an autocannon result. */
const summarize = (result: autocannon.Result): LoadResult => {
  const refused = new Map<number, number>()
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    const status = Number(code)
    if ((status < 200 || status >= 300) && (stat.count ?? 0) > 0) refused.set(status, stat.count ?? 0)
  }
  return {
    ok: result["2xx"],
    refused,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max
  }
}

/** The autocannon options every run shares: target, connections, stop condition, timeout. */
const runOptions = (url: string, options: LoadOptions) => ({
  url,
  connections: options.connections,
  ...("amount" in options.stop ? { amount: options.stop.amount } : { duration: options.stop.duration }),
  timeout: TIMEOUT_SECONDS,
  excludeErrorStats: true
})

interface Lent {
  host?: number
}

/**
 * Runs autocannon against `path`, lending each request one idle host of `eligible` and building
 * its body with `body`; `onOk` runs on the host after a 2xx.
 */
export const drive = async (
  hosts: ReadonlyArray<SimHost>,
  eligible: ReadonlyArray<number>,
  path: string,
  body: (h: SimHost, at: string) => string,
  onOk: (h: SimHost) => void,
  options: LoadOptions
): Promise<LoadResult> => {
  const pool = idlePool(eligible)
  const request: autocannon.Request = {
    method: "POST",
    path,
    setupRequest: (req, context) => {
      const i = pool.take()
      ;(context as Lent).host = i
      const h = hosts[i] as SimHost
      return { ...req, headers: headersFor(h.token), body: body(h, new Date().toISOString()) }
    },
    onResponse: (status, _body, context) => {
      const i = (context as Lent).host
      if (i === undefined) return
      const h = hosts[i] as SimHost
      if (status >= 200 && status < 300) onOk(h)
      pool.give(i)
    }
  }
  return summarize(await autocannon({ ...runOptions(options.baseUrl, options), requests: [request] }))
}

/** Unauthenticated `GET /healthz`: the cost of a request through the HTTP stack that touches nothing. */
export const runHealthz = async (options: LoadOptions): Promise<LoadResult> =>
  summarize(await autocannon(runOptions(`${options.baseUrl}/healthz`, options)))

/** Posts every host's next legal event (a distinct seq each time). */
export const runEvents = (hosts: ReadonlyArray<SimHost>, options: LoadOptions): Promise<LoadResult> =>
  drive(
    hosts,
    hosts.map((_, i) => i),
    "/v1/agent/events",
    nextEventJson,
    (h) => {
      h.appliedSeq = h.seq
      h.phase++
    },
    options
  )

/** Re-posts an already applied event of each host that has one (labelled duplicate-only). */
export const runDuplicates = (hosts: ReadonlyArray<SimHost>, options: LoadOptions): Promise<LoadResult> =>
  drive(
    hosts,
    hosts.flatMap((h, i) => (h.appliedSeq > 0 ? [i] : [])),
    "/v1/agent/events",
    duplicateEventJson,
    () => {},
    options
  )

/** Heartbeats of every host. */
export const runHeartbeats = (hosts: ReadonlyArray<SimHost>, options: LoadOptions): Promise<LoadResult> =>
  drive(
    hosts,
    hosts.map((_, i) => i),
    "/v1/agent/heartbeat",
    heartbeatJson,
    () => {},
    options
  )
