/**
 * Keeps the README honest: its `step()` example is the code of examples/step.ts, verbatim, and
 * running that example drives the host to Converged.
 */
import { readFile } from "node:fs/promises"
import { describe, expect, it } from "@effect/vitest"

const between = (text: string, start: string, end: string) => {
  const from = text.indexOf(start)
  const to = text.indexOf(end, from + start.length)
  return from < 0 || to < 0 ? "" : text.slice(from + start.length, to).trim()
}

describe("README", () => {
  it("quotes examples/step.ts verbatim", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8")
    const example = await readFile(new URL("../examples/step.ts", import.meta.url), "utf8")
    const quoted = between(readme, "<!-- example:step -->\n```ts", "```")
    expect(quoted.length).toBeGreaterThan(0)
    expect(quoted).toBe(between(example, "// readme:start", "// readme:end"))
  })

  it("the step() example runs to Converged", async () => {
    const { finalState } = await import("../examples/step.js")
    expect(finalState.state).toBe("Converged")
    expect(finalState.lastEventSeq).toBe(3)
  })
})
