/**
 * The simulated control plane as a process the driver can stop, start again on the same storage
 * (a restart) or on empty storage (a database wipe), while the agents keep running. Agents reach
 * whichever CP is current through one forwarding connection of the run's transport (an
 * {@link InProcessCp} for "http", the CP's AgentEndpoint for "direct"): while the CP is down their
 * requests fail as a refused connection would (CpUnavailable).
 *
 * Storage lives in "epochs": epoch 0 is the storage the run starts on; each wipe archives the
 * current epoch (its event log, host records, quarantines and dispatch observations) and starts
 * the next on a fresh, empty storage. Each CP incarnation runs in its own Scope; the storage
 * outlives it, in the simulation's scope.
 *
 * Invariant: at most one CP runs at a time; a wipe happens only while the CP is stopped; the
 * forwarding server never reaches a stopped CP.
 */
import { Chunk, Context, Effect, Exit, Layer, Option, Redacted, Ref, Scope } from "effect"
import { CpCredentials, InProcessCp, layerInProcessClient, makeDirectClient } from "../agent/index.js"
import { AgentEndpoint, type AgentEndpointService } from "../cp/agentEndpoint.js"
import type { HostId } from "../domain/ids.js"
import type { HostRolloutState } from "../domain/hostState.js"
import { EventLog, type StoredEventLogEntry } from "../ports/eventLog.js"
import type { StorageError } from "../ports/errors.js"
import { ControlPlaneClient, CpUnavailable } from "../ports/controlPlaneClient.js"
import { type QuarantineRecord, Storage } from "../ports/storage.js"
import { countChanges, makeChangeCounter } from "./changes.js"
import { type DispatchObservation, observeDispatches } from "./observer.js"
import type { SignedSampleFleet } from "./sampleFleet.js"
import { simCoreLayer, simCpLayer, simTokenOf, type SimTransport } from "./world.js"

/** The services of a running simulated CP (either transport). */
export type SimCpServices = Layer.Layer.Success<ReturnType<typeof simCoreLayer>>

/** One storage epoch as the invariants read it. */
export interface EpochData {
  /** 0 for the storage the run started on, n after the n-th wipe. */
  readonly index: number
  /** Its agent_event and plan_action entries, in seq order. */
  readonly log: ReadonlyArray<StoredEventLogEntry>
  readonly records: ReadonlyArray<HostRolloutState>
  readonly quarantines: ReadonlyArray<QuarantineRecord>
  readonly observations: ReadonlyArray<DispatchObservation>
}

/** The control-plane process. */
export interface CpProcess {
  /** The forwarding server in-process HTTP clients use ("http" transport; refuses every request under "direct"). */
  readonly server: Context.Tag.Service<InProcessCp>
  /** The forwarding endpoint: the running CP's AgentEndpoint, or CpUnavailable while it is down. */
  readonly endpoint: Effect.Effect<AgentEndpointService, CpUnavailable>
  /** The ControlPlaneClient of `host` over the run's transport, reaching whichever CP runs. */
  readonly clientFor: (host: HostId) => Layer.Layer<ControlPlaneClient>
  /** Whether a CP is running. */
  readonly running: Effect.Effect<boolean>
  /** The current storage epoch. */
  readonly epoch: Effect.Effect<number>
  /**
   * How many times what the step invariants read (records, rollouts, quarantines) may have
   * changed: equal counts mean an unchanged storage (see changes.ts; starts, stops and wipes count).
   */
  readonly changes: () => number
  /** Runs `effect` against the running CP (None while it is down). */
  readonly withCp: <A, E>(effect: Effect.Effect<A, E, SimCpServices>) => Effect.Effect<Option.Option<A>, E>
  /** Starts a CP on the current epoch's storage (no-op when one runs). */
  readonly start: Effect.Effect<void, StorageError>
  /** Stops the running CP (its scope is closed: every fiber interrupted, the log writer drained). */
  readonly stop: Effect.Effect<void>
  /** Archives the current epoch and moves to a fresh, empty storage; stops the CP first. */
  readonly wipe: Effect.Effect<void, StorageError>
  /** Every archived epoch, then the current one, read from their storage. */
  readonly epochs: Effect.Effect<ReadonlyArray<EpochData>, StorageError>
}

interface Epoch {
  readonly index: number
  readonly storage: Context.Context<Storage | EventLog>
  readonly observations: Ref.Ref<Chunk.Chunk<DispatchObservation>>
}

interface Running {
  readonly scope: Scope.CloseableScope
  readonly context: Context.Context<SimCpServices>
  /** The CP's HTTP app as a `fetch` ("http" transport only). */
  readonly fetch: typeof globalThis.fetch | null
}

/** Reads an epoch's data from its storage. */
const readEpoch = (epoch: Epoch): Effect.Effect<EpochData, StorageError> =>
  Effect.gen(function* () {
    const storage = Context.get(epoch.storage, Storage)
    const log = Context.get(epoch.storage, EventLog)
    const events = [...(yield* log.byKind("agent_event")), ...(yield* log.byKind("plan_action"))].sort((x, y) => x.seq - y.seq)
    return {
      index: epoch.index,
      log: events,
      records: yield* storage.allHostRecords,
      quarantines: yield* storage.listQuarantines,
      observations: Chunk.toReadonlyArray(yield* Ref.get(epoch.observations))
    }
  })

/**
 * Makes the CP process for `signed`; `makeStorage(epoch)` gives each epoch's storage layer (each
 * build must be a fresh, empty database). Storage is held by the caller's scope; the running CP
 * is stopped when that scope closes. The CP is not started. `observe: false` records no dispatch
 * observations (each one copies the fleet's records: O(hosts) per dispatch; for benchmarks) and
 * counts no storage changes (only starts, stops and wipes).
 * `transport` (default "direct") chooses how agents reach it; only "http" builds the HTTP stack.
 */
export const makeCpProcess = (
  signed: SignedSampleFleet,
  makeStorage: (epoch: number) => Layer.Layer<Storage | EventLog, StorageError>,
  options: { readonly observe?: boolean; readonly transport?: SimTransport } = {}
) =>
  Effect.gen(function* () {
    const transport = options.transport ?? "direct"
    const outer = yield* Effect.scope
    const changes = makeChangeCounter()
    const openEpoch = (index: number) =>
      Effect.gen(function* () {
        const built = yield* Layer.buildWithScope(makeStorage(index), outer)
        const observations = yield* Ref.make(Chunk.empty<DispatchObservation>())
        // Unobserved runs (benchmarks) check nothing, so they count no changes either.
        const storage =
          options.observe === false
            ? built
            : Context.add(built, Storage, observeDispatches(countChanges(Context.get(built, Storage), changes), observations))
        const epoch: Epoch = { index, storage, observations }
        return epoch
      })
    const current = yield* Ref.make<Epoch>(yield* openEpoch(0))
    const archived = yield* Ref.make<ReadonlyArray<EpochData>>([])
    const running = yield* Ref.make<Running | null>(null)

    const stop = Effect.flatMap(Ref.getAndSet(running, null), (r) => (r === null ? Effect.void : Scope.close(r.scope, Exit.void))).pipe(
      Effect.ensuring(Effect.sync(changes.bump))
    )
    yield* Effect.addFinalizer(() => stop)

    const start = Effect.gen(function* () {
      if ((yield* Ref.get(running)) !== null) return
      const epoch = yield* Ref.get(current)
      const scope = yield* Scope.make()
      const storage = Layer.succeedContext(epoch.storage)
      const built: Effect.Effect<Omit<Running, "scope">, StorageError> =
        transport === "http"
          ? Effect.map(Layer.buildWithScope(simCpLayer(signed, storage), scope), (context) => ({ context, fetch: Context.get(context, InProcessCp).fetch }))
          : Effect.map(Layer.buildWithScope(simCoreLayer(signed, storage), scope), (context) => ({ context, fetch: null }))
      const cp = yield* built.pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
      yield* Ref.set(running, { scope, ...cp })
      changes.bump()
    })

    const wipe = Effect.gen(function* () {
      yield* stop
      const old = yield* Ref.get(current)
      const data = yield* readEpoch(old)
      yield* Ref.update(archived, (a) => [...a, data])
      yield* Ref.set(current, yield* openEpoch(old.index + 1))
      changes.bump()
    })

    const server: Context.Tag.Service<InProcessCp> = {
      fetch: (input, init) =>
        Effect.runPromise(Ref.get(running)).then((r) =>
          r === null || r.fetch === null ? Promise.reject(new TypeError("simulated: control plane down")) : r.fetch(input, init)
        )
    }
    const down = new CpUnavailable({ reason: "simulated: control plane down", retryAfterSeconds: null })
    const endpoint = Effect.flatMap(Ref.get(running), (r) => (r === null ? Effect.fail(down) : Effect.succeed(Context.get(r.context, AgentEndpoint))))
    const clientFor = (host: HostId): Layer.Layer<ControlPlaneClient> =>
      transport === "http"
        ? layerInProcessClient({ credentials: CpCredentials.BearerToken({ token: Redacted.make(simTokenOf(host)) }) }).pipe(
            Layer.provide(Layer.succeed(InProcessCp, server))
          )
        : Layer.succeed(ControlPlaneClient, makeDirectClient(host, endpoint))

    const process: CpProcess = {
      server,
      endpoint,
      clientFor,
      running: Effect.map(Ref.get(running), (r) => r !== null),
      epoch: Effect.map(Ref.get(current), (e) => e.index),
      changes: changes.count,
      withCp: <A, E>(effect: Effect.Effect<A, E, SimCpServices>) =>
        Effect.flatMap(Ref.get(running), (r) => (r === null ? Effect.succeed(Option.none<A>()) : Effect.asSome(Effect.provide(effect, r.context)))),
      start,
      stop,
      wipe,
      epochs: Effect.gen(function* () {
        const done = yield* Ref.get(archived)
        return [...done, yield* readEpoch(yield* Ref.get(current))]
      })
    }
    return process
  })
