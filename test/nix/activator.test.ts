/**
 * The real-nix Activator against real nix (Debian's nix-bin): toy system closures built with
 * nix-build, a profile and current-system link under a temp dir, real `nix-store --realise`,
 * `nix-env --set` / `--rollback` / `--list-generations` and the closures' own
 * switch-to-configuration. Skipped, with the reason printed, only when nix is not installed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { layerNix, type NixActivatorConfig } from "../../adapters/nix/index.js"
import type { ClosureHash } from "../../src/domain/ids.js"
import { ActivationOutcome, Activator, failureReport } from "../../src/ports/activator.js"
import { activatorConformance } from "../ports/hostConformance.js"
import {
  bootInto,
  buildToy,
  currentGeneration,
  generations,
  makeToyHost,
  nixAvailable,
  setProfile,
  SKIP_REASON,
  switchCalls,
  type ToyHost,
  toyConfig,
  writeScript
} from "./toyHost.js"

if (!nixAvailable) console.warn(SKIP_REASON)

/** Runs `body` with an Activator over `host`. */
const withActivator = <A, E>(host: ToyHost, body: Effect.Effect<A, E, Activator>, overrides: NixActivatorConfig = {}) =>
  Effect.provide(body, layerNix(toyConfig(host, overrides)))

/** Switches to `running` (which must work), then to `target`, and returns why that failed. */
const failureAfter = (running: ClosureHash, target: ClosureHash) =>
  Effect.gen(function* () {
    const activator = yield* Activator
    yield* activator.fireSwitch(running)
    return yield* Effect.flip(activator.fireSwitch(target))
  })

/** Kills a child's whole process group (it was spawned detached); a group already gone is fine. */
const killGroup = (child: ReturnType<typeof spawn>) => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
  } catch {
    // already exited
  }
}

/** A toy host running a base closure, with A and B built for it (same critical components). */
const hostWithAB = () => {
  const host = makeToyHost()
  const base = buildToy(host, { name: "toy-base" })
  bootInto(host, base)
  return { host, base, A: buildToy(host, { name: "toy-a" }), B: buildToy(host, { name: "toy-b" }) }
}

describe.skipIf(!nixAvailable)("nix Activator on real nix", () => {
  it.live("§6.1 + §6.2: switch to A, then B, then roll back: generations and switch calls follow", () => {
    const { A, B, base, host } = hostWithAB()
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        expect(yield* activator.currentClosure).toEqual(Option.some(base))
        expect(generations(host)).toEqual([])

        expect(yield* activator.fireSwitch(A)).toEqual(ActivationOutcome.FiredAndPolled({ observed: A }))
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
        expect(generations(host)).toEqual([{ number: 1, current: true }])

        // `init` differs between A and B (it embeds the closure's path) but is not compared.
        expect(yield* activator.detectDeferral(B)).toEqual(Option.none())
        expect(yield* activator.fireSwitch(B)).toEqual(ActivationOutcome.FiredAndPolled({ observed: B }))
        expect(yield* activator.currentClosure).toEqual(Option.some(B))
        expect(generations(host)).toEqual([
          { number: 1, current: false },
          { number: 2, current: true }
        ])

        expect(yield* activator.fireRollback).toBe(A)
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
        expect(currentGeneration(host)).toBe(1)
        expect(switchCalls(host)).toEqual([
          ["switch", A],
          ["switch", B],
          ["switch", A]
        ])
      })
    )
  })

  for (const component of ["kernel", "systemd", "dbus"] as const) {
    it.live(`§6.1 step 5: a changed ${component} stages the closure with \`boot\` → DeferredPendingReboot`, () => {
      const { A, host } = hostWithAB()
      const changed = buildToy(host, { name: `toy-new-${component}`, [component]: `${component}-2` })
      return withActivator(
        host,
        Effect.gen(function* () {
          const activator = yield* Activator
          yield* activator.fireSwitch(A)
          expect(yield* activator.detectDeferral(changed)).toEqual(Option.some(component))
          expect(yield* activator.fireSwitch(changed)).toEqual(ActivationOutcome.DeferredPendingReboot({ component }))
          // Staged, not switched: the profile moved on, the running system did not.
          expect(yield* activator.currentClosure).toEqual(Option.some(A))
          expect(currentGeneration(host)).toBe(2)
          expect(switchCalls(host)).toEqual([
            ["switch", A],
            ["boot", changed]
          ])
        })
      )
    })
  }

  it.live("§6.1 step 6: a failing switch is SwitchFailed with its exit code and the last 4 KiB of stderr; rollback recovers", () => {
    const { A, host } = hostWithAB()
    const broken = buildToy(host, { name: "toy-broken", failWith: "3", noiseLines: "400" })
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        const failure = yield* failureAfter(A, broken)
        expect(failure._tag).toBe("SwitchFailed")
        if (failure._tag !== "SwitchFailed") return
        expect(failure.phase).toBe("switch-to-configuration")
        expect(failure.exitCode).toBe(3)
        const tail = failure.stderrTail ?? ""
        expect(tail.endsWith("toy switch failed\n")).toBe(true)
        expect(tail).toContain("noise line 399")
        expect(tail).not.toContain("noise line 0 ")
        expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096)
        expect(Buffer.byteLength(tail)).toBeGreaterThan(3000)
        const report = failureReport(failure)
        expect(report.exitCode).toBe(3)
        expect(report.stderrTail.startsWith("switch failed at phase switch-to-configuration\n")).toBe(true)
        expect(report.stderrTail.endsWith("toy switch failed\n")).toBe(true)
        // The profile was set before the switch (as NixOS does); the running system is unchanged.
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
        expect(currentGeneration(host)).toBe(2)
        expect(yield* activator.fireRollback).toBe(A)
        expect(currentGeneration(host)).toBe(1)
        expect(switchCalls(host).map(([action, path]) => `${action} ${basename(path)}`)).toEqual([
          `switch ${basename(A)}`,
          `switch ${basename(broken)}`,
          `switch ${basename(A)}`
        ])
      })
    )
  })

  it.live("§6.1 step 2: a closure nix cannot realise is RealiseFailed with nix-store's stderr; nothing changes", () => {
    const { base, host } = hostWithAB()
    const missing = "/nix/store/00000000000000000000000000000000-effect-fleet-missing" as ClosureHash
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        const failure = yield* Effect.flip(activator.fireSwitch(missing))
        expect(failure._tag).toBe("RealiseFailed")
        expect(failureReport(failure).exitCode).toBe(-1)
        expect(failureReport(failure).stderrTail).toContain("nix-store")
        expect(failureReport(failure).stderrTail).toContain(missing)
        expect(generations(host)).toEqual([])
        expect(switchCalls(host)).toEqual([])
        expect(yield* activator.currentClosure).toEqual(Option.some(base))
      })
    )
  })

  it.live("bad input: a target that names no store path is RealiseFailed and nothing runs", () => {
    const { base, host } = hostWithAB()
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        for (const target of ["../etc", "a/b", "/etc/passwd", "/nix/store", "/nix/store/../etc"]) {
          const failure = yield* Effect.flip(activator.fireSwitch(target as ClosureHash))
          expect(failure).toMatchObject({ _tag: "RealiseFailed", reason: `${JSON.stringify(target)} is not a closure in /nix/store` })
          expect((yield* Effect.flip(activator.detectDeferral(target as ClosureHash)))._tag).toBe("RealiseFailed")
        }
        expect(generations(host)).toEqual([])
        expect(switchCalls(host)).toEqual([])
        expect(yield* activator.currentClosure).toEqual(Option.some(base))
      })
    )
  })

  it.live("§6.1 step 2: a refused signature is SignatureMismatch (last 500 bytes); a wrong first stdout line is RealiseFailed", () => {
    const { A, host } = hostWithAB()
    const unsigned = writeScript(
      host,
      "nix-store-unsigned",
      `i=0; while [ $i -lt 100 ]; do echo "copying path, attempt $i" >&2; i=$((i+1)); done
echo "error: cannot add path '$3' because it LACKS A VALID SIGNATURE" >&2; exit 1`
    )
    const confused = writeScript(host, "nix-store-confused", `echo /nix/store/something-else`)
    return Effect.gen(function* () {
      const signature = yield* Effect.flip(Effect.flatMap(Activator, (a) => a.fireSwitch(A))).pipe(
        Effect.provide(layerNix(toyConfig(host, { commands: { nixStore: unsigned } })))
      )
      expect(signature._tag).toBe("SignatureMismatch")
      expect(failureReport(signature).exitCode).toBe(-2)
      expect(Buffer.byteLength(failureReport(signature).stderrTail)).toBeLessThanOrEqual(500)
      expect(failureReport(signature).stderrTail).toContain("LACKS A VALID SIGNATURE")
      const wrongPath = yield* Effect.flip(Effect.flatMap(Activator, (a) => a.fireSwitch(A))).pipe(
        Effect.provide(layerNix(toyConfig(host, { commands: { nixStore: confused } })))
      )
      expect(wrongPath._tag).toBe("RealiseFailed")
      expect(failureReport(wrongPath).stderrTail).toContain("/nix/store/something-else")
      expect(generations(host)).toEqual([])
    })
  })

  it.live("§6.1 step 1: a held switch lock is RealiseFailed; a free one lets the switch through", () => {
    const { A, host } = hostWithAB()
    writeFileSync(host.switchLock, "")
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        const holder = yield* Effect.acquireRelease(
          Effect.async<ReturnType<typeof spawn>>((resume) => {
            // Its own process group, so killing the group also kills the `sleep` that inherits the lock.
            const child = spawn("flock", ["--exclusive", host.switchLock, "sh", "-c", "echo locked; exec sleep 30"], {
              stdio: ["ignore", "pipe", "ignore"],
              detached: true
            })
            child.stdout.once("data", () => resume(Effect.succeed(child)))
          }),
          (child) => Effect.sync(() => killGroup(child))
        )
        const held = yield* Effect.flip(activator.fireSwitch(A))
        expect(held._tag).toBe("RealiseFailed")
        expect(failureReport(held).stderrTail).toContain("switch lock held")
        expect(generations(host)).toEqual([])
        yield* Effect.async<void>((resume) => {
          holder.once("exit", () => resume(Effect.void))
          killGroup(holder)
        })
        expect(yield* activator.fireSwitch(A)).toEqual(ActivationOutcome.FiredAndPolled({ observed: A }))
      }).pipe(Effect.scoped)
    )
  })

  it.live("§6.1 step 7: a switch that leaves another closure running is VerifyMismatch", () => {
    const { A, host } = hostWithAB()
    const other = buildToy(host, { name: "toy-other" })
    const liar = buildToy(host, { name: "toy-liar", pointAt: other })
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        const failure = yield* failureAfter(A, liar)
        expect(failure).toMatchObject({ _tag: "VerifyMismatch", expected: liar, observed: other })
        expect(failureReport(failure).exitCode).toBe(-3)
        expect(yield* activator.currentClosure).toEqual(Option.some(other))
      })
    )
  })

  it.live("a switch that outlives its time limit is killed and reported as SwitchFailed with no exit code", () => {
    const { A, host } = hostWithAB()
    const slow = buildToy(host, { name: "toy-slow", sleepSecs: "30" })
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        const started = Date.now()
        const failure = yield* failureAfter(A, slow)
        expect(Date.now() - started).toBeLessThan(10_000)
        expect(failure).toMatchObject({ _tag: "SwitchFailed", phase: "switch-to-configuration", exitCode: null })
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
      }),
      { timeouts: { switch: "1 second" } }
    )
  })

  it.live("an unreadable current-system link: currentClosure is None, a switch is RealiseFailed before any change", () => {
    const host = makeToyHost()
    const A = buildToy(host, { name: "toy-a" })
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        expect(yield* activator.currentClosure).toEqual(Option.none())
        expect((yield* Effect.flip(activator.detectDeferral(A)))._tag).toBe("RealiseFailed")
        const failure = yield* Effect.flip(activator.fireSwitch(A))
        expect(failure._tag).toBe("RealiseFailed")
        expect(failureReport(failure).stderrTail).toContain(host.currentSystem)
        expect(switchCalls(host)).toEqual([])
      })
    )
  })

  it.live("§6.2 step 1: rolling back with no older generation is SwitchFailed nix-env-rollback with nix-env's stderr", () => {
    const { A, host } = hostWithAB()
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        yield* activator.fireSwitch(A)
        const failure = yield* Effect.flip(activator.fireRollback)
        expect(failure).toMatchObject({ _tag: "SwitchFailed", phase: "nix-env-rollback", exitCode: 1 })
        expect(failureReport(failure).stderrTail).toContain("no profile version older")
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
      })
    )
  })

  it.live("closureForm basename: targets given as basenames, results reported as basenames", () => {
    const { A, B, base, host } = hostWithAB()
    const short = (p: string) => basename(p) as ClosureHash
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        expect(yield* activator.currentClosure).toEqual(Option.some(short(base)))
        expect(yield* activator.fireSwitch(short(A))).toEqual(ActivationOutcome.FiredAndPolled({ observed: short(A) }))
        yield* activator.fireSwitch(short(B))
        expect(yield* activator.currentClosure).toEqual(Option.some(short(B)))
        expect(yield* activator.fireRollback).toBe(short(A))
      }),
      { closureForm: "basename" }
    )
  })

  it.live("§6.1 step 6-7 with systemd-run: fired in a transient unit, then the link is polled; a failed unit times out with its status", () => {
    const { A, B, host } = hostWithAB()
    const broken = buildToy(host, { name: "toy-broken", failWith: "5" })
    const systemdRun = writeScript(
      host,
      "systemd-run",
      `echo "$@" >> "${join(host.dir, "systemd-run.log")}"
while [ "$1" != "--" ]; do shift; done; shift
( sleep 0.3; "$@" ) >/dev/null 2>&1 &`
    )
    const systemctl = writeScript(
      host,
      "systemctl",
      `echo "$@" >> "${join(host.dir, "systemctl.log")}"
if [ "$1" = show ]; then echo 5; fi`
    )
    return withActivator(
      host,
      Effect.gen(function* () {
        const activator = yield* Activator
        expect(yield* activator.fireSwitch(A)).toEqual(ActivationOutcome.FiredAndPolled({ observed: A }))
        yield* activator.fireSwitch(B)
        expect(yield* activator.fireRollback).toBe(A)
        const failure = yield* Effect.flip(activator.fireSwitch(broken))
        expect(failure).toMatchObject({ _tag: "SwitchFailed", phase: "switch-poll-timeout", exitCode: 5 })
        expect(yield* activator.currentClosure).toEqual(Option.some(A))
        const fired = readFileSync(join(host.dir, "systemd-run.log"), "utf8").trim().split("\n")
        expect(fired).toEqual([
          `--unit=nixfleet-switch --collect -- ${A}/bin/switch-to-configuration switch`,
          `--unit=nixfleet-switch --collect -- ${B}/bin/switch-to-configuration switch`,
          `--unit=nixfleet-rollback --collect -- ${A}/bin/switch-to-configuration switch`,
          `--unit=nixfleet-switch --collect -- ${broken}/bin/switch-to-configuration switch`
        ])
        const systemctlCalls = readFileSync(join(host.dir, "systemctl.log"), "utf8").trim().split("\n")
        expect(systemctlCalls).toEqual([
          "reset-failed nixfleet-switch",
          "reset-failed nixfleet-switch",
          "reset-failed nixfleet-rollback",
          "reset-failed nixfleet-switch",
          "show --property=ExecMainStatus --value nixfleet-switch"
        ])
      }),
      { launcher: "systemd-run", commands: { systemdRun, systemctl }, timeouts: { verify: "1500 millis", pollInterval: "100 millis" } }
    )
  })
})

// The shared Activator conformance suite, on a toy host prepared at load time: the profile's
// first generation and the running system are `initial`.
const conformanceLayer = () => {
  const host = makeToyHost()
  const initial = buildToy(host, { name: "toy-initial" })
  const target = buildToy(host, { name: "toy-target" })
  setProfile(host, initial)
  bootInto(host, initial)
  return { layer: layerNix(toyConfig(host)), fixture: { initial, target } }
}
describe.skipIf(!nixAvailable)("nix Activator conformance", () => {
  if (!nixAvailable) return
  const { fixture, layer } = conformanceLayer()
  activatorConformance("nix", layer, fixture)
})
