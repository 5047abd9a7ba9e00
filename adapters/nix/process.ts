/**
 * Runs one external command for the nix adapter and the exec probe, through @effect/platform's
 * Command (the CommandExecutor of NodeContext), with a time limit.
 *
 * Invariants: the child never outlives the call: on timeout or interruption it gets SIGTERM, then
 * SIGKILL after a short grace, with its whole process group; stdin is closed at once (no command
 * waits for input); stdout is kept up to {@link STDOUT_LIMIT} bytes (head) and stderr only as its
 * last `tailBytes` (default {@link STDERR_TAIL_BYTES}), so a chatty child cannot grow memory; the
 * tail captured so far is reported even when the command timed out.
 */
import { Command } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Data, Duration, Effect, Option, Ref, Stream } from "effect"

/** How much of stderr a failure report keeps: its last 4 KiB. */
export const STDERR_TAIL_BYTES = 4096
/** How much of stdout is kept (the head); nix prints a few store paths, probes print nothing we read. */
export const STDOUT_LIMIT = 65_536
/** How long a child gets between SIGTERM and SIGKILL when it is stopped early. */
const KILL_GRACE = Duration.seconds(2)

/** A command that ran to completion (any exit code). */
export interface ProcessOutput {
  readonly exitCode: number
  /** The first {@link STDOUT_LIMIT} bytes of stdout, as UTF-8. */
  readonly stdout: string
  /** The last bytes of stderr, as UTF-8. */
  readonly stderrTail: string
}

/** A command that did not run to completion: it could not start, timed out, or died by a signal. */
export class ProcessFailed extends Data.TaggedError("ProcessFailed")<{
  readonly reason: "spawn" | "timeout" | "crashed"
  /** One line for a human: what was run and what went wrong. */
  readonly detail: string
  /** The stderr captured before it stopped. */
  readonly stderrTail: string
}> {}

/** How to run a command. */
export interface RunOptions {
  readonly timeout: Duration.DurationInput
  /** Extra environment variables (the agent's own environment is kept). */
  readonly env?: Readonly<Record<string, string>>
  /** How many trailing stderr bytes to keep (default {@link STDERR_TAIL_BYTES}). */
  readonly tailBytes?: number
}

const decoder = new TextDecoder("utf-8", { fatal: false })

/** Appends `chunk` to `kept` and keeps only the last `limit` bytes. */
const keepTail = (kept: Uint8Array, chunk: Uint8Array, limit: number): Uint8Array => {
  if (chunk.length >= limit) return chunk.slice(chunk.length - limit)
  const total = kept.length + chunk.length
  const from = Math.max(0, total - limit)
  const out = new Uint8Array(total - from)
  if (from < kept.length) out.set(kept.subarray(from), 0)
  out.set(chunk, Math.max(0, kept.length - from))
  return out
}

/** Appends `chunk` to `kept` up to `limit` bytes in all. */
const keepHead = (kept: Uint8Array, chunk: Uint8Array, limit: number): Uint8Array => {
  if (kept.length >= limit) return kept
  const take = chunk.subarray(0, limit - kept.length)
  const out = new Uint8Array(kept.length + take.length)
  out.set(kept, 0)
  out.set(take, kept.length)
  return out
}

/** Decodes a byte tail; a multi-byte character cut at the front becomes U+FFFD. */
export const decodeTail = (bytes: Uint8Array): string => decoder.decode(bytes)

/** `argv` as one line, for messages. */
export const showArgv = (argv: ReadonlyArray<string>): string => argv.join(" ")

/**
 * Runs `argv` (no shell) and waits for it to exit, within `options.timeout`. A non-zero exit is a
 * normal {@link ProcessOutput}; only a failure to start, a timeout or a death by signal fails.
 */
export const runProcess = (
  argv: readonly [string, ...Array<string>],
  options: RunOptions
): Effect.Effect<ProcessOutput, ProcessFailed, CommandExecutor.CommandExecutor> =>
  Effect.gen(function* () {
    const limit = options.tailBytes ?? STDERR_TAIL_BYTES
    const stderr = yield* Ref.make<Uint8Array>(new Uint8Array(0))
    const stdout = yield* Ref.make<Uint8Array>(new Uint8Array(0))
    const [command, ...args] = argv
    const base = Command.make(command, ...args).pipe(Command.stdin(Stream.empty))
    const cmd = options.env === undefined ? base : Command.env(base, options.env)
    const failed = (reason: ProcessFailed["reason"], detail: string) =>
      Effect.flatMap(Ref.get(stderr), (tail) => new ProcessFailed({ reason, detail, stderrTail: decodeTail(tail) }))

    const run = Effect.scoped(
      Effect.gen(function* () {
        const proc = yield* Command.start(cmd).pipe(
          Effect.catchAll((error) => failed("spawn", `cannot start ${showArgv(argv)}: ${error.message}`))
        )
        // Registered after start, so it runs before the executor's own release: escalate to
        // SIGKILL when SIGTERM is not enough, so the release never waits on a stubborn child.
        yield* Effect.addFinalizer(() =>
          Effect.flatMap(proc.isRunning, (running) =>
            running
              ? proc.kill("SIGTERM").pipe(
                  Effect.timeout(KILL_GRACE),
                  Effect.catchAll(() => proc.kill("SIGKILL").pipe(Effect.timeout(KILL_GRACE)))
                )
              : Effect.void
          ).pipe(Effect.ignore)
        )
        const [code] = yield* Effect.all(
          [
            proc.exitCode,
            Stream.runForEach(proc.stdout, (chunk) => Ref.update(stdout, (kept) => keepHead(kept, chunk, STDOUT_LIMIT))),
            Stream.runForEach(proc.stderr, (chunk) => Ref.update(stderr, (kept) => keepTail(kept, chunk, limit)))
          ],
          { concurrency: "unbounded" }
        ).pipe(Effect.catchAll((error) => failed("crashed", `${showArgv(argv)}: ${error.message}`)))
        return code
      })
    )
    const code = yield* Effect.timeoutOption(run, options.timeout)
    if (Option.isNone(code)) {
      return yield* failed("timeout", `${showArgv(argv)} timed out after ${Duration.format(Duration.decode(options.timeout))}`)
    }
    return {
      exitCode: code.value,
      stdout: decoder.decode(yield* Ref.get(stdout)),
      stderrTail: decodeTail(yield* Ref.get(stderr))
    }
  })
