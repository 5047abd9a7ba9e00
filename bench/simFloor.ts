/**
 * The Effect runtime's floor under the simulator's workload: what the timer wake-ups and CP
 * round trips of a simulated rollout cost when they do nothing else. One fiber per host sleeps on
 * the simulator's own virtual clock (driven by the simulator's own `advanceTo`, settling after
 * every instant) as often as a measured run's hosts did, spread over the same simulated length,
 * and after some of those wake-ups asks one consumer fiber through a bounded Queue and waits on a
 * reply Deferred (the shape of an agent's report reaching the CP reducer), as often as that run's
 * hosts reported events. No request body, no reducer, no storage, no spans: the figure is a lower
 * bound for any simulation built on these primitives, against which the real run's figure reads
 * as "runtime floor + our work".
 *
 * Invariant: the counts come from a measured run (they are arguments, never constants here); every
 * ask is answered, and the run fails if any fiber did not finish its wake-ups and asks.
 */
import { Deferred, Effect, Fiber, Queue } from "effect"
import { unit } from "../src/sim/rng.js"
import { makeVirtualClock } from "../src/sim/virtualClock.js"
import { cpuMs } from "./lib.js"

/** The workload of one floor run, per host, from a measured simulation. */
export interface FloorWorkload {
  readonly hosts: number
  /** Timer wake-ups per host (the measured run's clock sleeps ÷ hosts). */
  readonly sleepsPerHost: number
  /** CP round trips per host (the measured run's agent events ÷ hosts). */
  readonly asksPerHost: number
  /** The simulated length the wake-ups are spread over, in seconds. */
  readonly simulatedSeconds: number
}

/** What a floor run measured. */
export interface FloorResult {
  readonly wallMs: number
  readonly cpuMs: number
  readonly sleeps: number
  readonly asks: number
}

/** The consumer's queue: one slot per host, as every host has at most one ask in flight. */
const queueCapacity = (hosts: number) => Math.max(1, hosts)

/** Runs the floor workload once and measures it. */
export const runFloor = (workload: FloorWorkload): Promise<FloorResult> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const start = 1_000_000_000_000
      const virtual = makeVirtualClock(start)
      const sleeps = Math.max(1, Math.round(workload.sleepsPerHost))
      const asks = Math.min(sleeps, Math.round(workload.asksPerHost))
      // Whole simulated seconds, as the simulator's timers are; the mean sleep spreads the host's wake-ups over the run.
      const meanSleepSeconds = Math.max(1, workload.simulatedSeconds / sleeps)
      const requests = yield* Queue.bounded<Deferred.Deferred<number>>(queueCapacity(workload.hosts))
      let answered = 0
      const consumer = yield* Effect.fork(
        Effect.forever(
          Effect.flatMap(Queue.takeBetween(requests, 1, queueCapacity(workload.hosts)), (batch) =>
            Effect.forEach(batch, (reply) => Deferred.succeed(reply, ++answered), { discard: true })
          )
        )
      )
      const host = (index: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < sleeps; i++) {
            // The simulator's own seeded jitter, one draw per (host, sleep).
            yield* Effect.sleep(Math.max(1, Math.round(meanSleepSeconds * (0.5 + unit(index, `sleep/${i}`)))) * 1000)
            // The asks fall on evenly spaced wake-ups.
            if (Math.floor(((i + 1) * asks) / sleeps) > Math.floor((i * asks) / sleeps)) {
              const reply = yield* Deferred.make<number>()
              yield* Queue.offer(requests, reply)
              yield* Deferred.await(reply)
            }
          }
        }).pipe(Effect.withClock(virtual.clock))
      const wallStart = performance.now()
      const cpuStart = cpuMs()
      const fibers = yield* Effect.forEach(Array.from({ length: workload.hosts }, (_, i) => i), (i) => Effect.fork(host(i)))
      // Advance by at most a day of simulated time at once, until every host has done its work.
      while (fibers.some((fiber) => fiber.unsafePoll() === null)) {
        yield* virtual.advanceTo(virtual.now() + 86_400_000)
      }
      yield* Fiber.joinAll(fibers)
      const result = { wallMs: performance.now() - wallStart, cpuMs: cpuMs() - cpuStart, sleeps: virtual.sleeps(), asks: answered }
      yield* Fiber.interrupt(consumer)
      if (result.sleeps !== sleeps * workload.hosts || result.asks !== asks * workload.hosts) {
        return yield* Effect.dieMessage(`floor run incomplete: ${result.sleeps} sleeps, ${result.asks} asks`)
      }
      return result
    })
  )
