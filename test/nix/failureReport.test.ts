/**
 * failureReport with the stderr tails the nix adapter attaches: the spec's one-line text first,
 * the captured tail on the following lines, and unchanged text when there is no tail.
 */
import { describe, expect, it } from "@effect/vitest"
import { failureReport, RealiseFailed, SwitchFailed } from "../../src/ports/activator.js"

describe("failureReport with stderr tails", () => {
  it("§5.4: SwitchFailed reads `switch failed at phase X`, then its stderr tail", () => {
    expect(failureReport(new SwitchFailed({ phase: "nix-env-set", exitCode: 2 }))).toEqual({
      exitCode: 2,
      stderrTail: "switch failed at phase nix-env-set"
    })
    expect(failureReport(new SwitchFailed({ phase: "nix-env-set", exitCode: null, stderrTail: "" }))).toEqual({
      exitCode: -1,
      stderrTail: "switch failed at phase nix-env-set"
    })
    expect(failureReport(new SwitchFailed({ phase: "switch-to-configuration", exitCode: 4, stderrTail: "a\nb\n" }))).toEqual({
      exitCode: 4,
      stderrTail: "switch failed at phase switch-to-configuration\na\nb\n"
    })
  })

  it("§5.4: RealiseFailed reads its reason, then its stderr tail; exit code -1", () => {
    expect(failureReport(new RealiseFailed({ reason: "lock held" }))).toEqual({ exitCode: -1, stderrTail: "lock held" })
    expect(failureReport(new RealiseFailed({ reason: "nix-store exited with 1", stderrTail: "error: x" }))).toEqual({
      exitCode: -1,
      stderrTail: "nix-store exited with 1\nerror: x"
    })
  })
})
