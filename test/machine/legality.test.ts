/**
 * The full legality matrix of the host reducer (spec state-machines §5.6): 7 states × 24 events,
 * 28 legal pairs. Each pair is its own test case.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { HOST_STATES } from "../../src/domain/index.js"
import { step } from "../../src/machine/index.js"
import { allEvents, inState, LEGAL, T0 } from "../support/host.js"

const events = allEvents(1)

describe("§5.6 legality matrix (7 × 24)", () => {
  it("has 168 pairs of which 28 are legal", () => {
    expect(events).toHaveLength(24)
    const legal = HOST_STATES.flatMap((s) => events.filter((e) => LEGAL[s].some((r) => r.test(e._tag))))
    expect(HOST_STATES.length * events.length).toBe(168)
    expect(legal).toHaveLength(28)
  })

  for (const state of HOST_STATES) {
    for (const e of events) {
      const expectedLegal = LEGAL[state].some((r) => r.test(e._tag))
      it(`${state} × ${e._tag} is ${expectedLegal ? "legal" : "IllegalForState"}`, () => {
        const result = step(inState(state), e, T0, { onHealthFailure: "rollback-and-halt" })
        if (expectedLegal) {
          // Legal pairs succeed (Converged may be refused by its Invariant, never as illegal).
          expect(Either.isLeft(result) ? result.left._tag : "ok").not.toBe("IllegalForState")
        } else {
          expect(Either.isLeft(result) ? result.left : undefined).toMatchObject({ _tag: "IllegalForState", from: state, event: e._tag })
        }
      })
    }
  }
})
