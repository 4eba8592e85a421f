/**
 * The outbox sender's verdict on a row, as a pure function of what the chain
 * reports: every step against every settlement state, with its own terms on
 * chain and with another payment's.
 */
import { expect } from "chai";

import { verdictOf, type Verdict } from "../../src/settlement/outbox.js";
import { OUTBOX_STEPS, type OutboxStep } from "../../src/settlement/payments.js";
import { SETTLEMENT_STATES, type SettlementState } from "../../src/settlement/terms.js";

/** For each step with its own terms on chain: the states where it landed, and the one it is sent from. */
const EXPECTED: Record<OutboxStep, { landed: SettlementState[]; send: SettlementState }> = {
  initiate: { landed: [...SETTLEMENT_STATES], send: "None" },
  smelt: { landed: ["Smelted", "Acknowledged"], send: "Delivered" },
  reject: { landed: ["Rejected", "Returned"], send: "Delivered" },
  acknowledge: { landed: ["Acknowledged"], send: "Smelted" },
  return: { landed: ["Returned"], send: "Rejected" },
  refund: { landed: ["Refunded"], send: "Expired" },
};

describe("settlement: outbox verdicts", function () {
  for (const step of OUTBOX_STEPS) {
    it(`${step}: landed, send, wait or void for every state on chain`, function () {
      for (const state of SETTLEMENT_STATES) {
        const own = verdictOf(step, { mine: true, state });
        const expected: Verdict["kind"] = EXPECTED[step].landed.includes(state)
          ? "landed"
          : state === EXPECTED[step].send
            ? "send"
            : step === "refund" && state === "Delivered"
              ? "wait"
              : "void";
        expect(own.kind, `${step} with its terms in ${state}`).to.equal(expected);
        if (own.kind === "void") expect(own.why).to.equal(`the settlement is ${state}, not ${EXPECTED[step].send}`);

        const other = verdictOf(step, { mine: false, state });
        if (step === "initiate") {
          // No record yet: send; a record with other terms: the id is someone else's, never sent.
          expect(other).to.deep.equal(
            state === "None" ? { kind: "send" } : { kind: "void", why: "the id is used on chain by another payment" },
          );
        } else {
          expect(other, `${step} against other terms in ${state}`).to.deep.equal({
            kind: "void",
            why: "the settlement record on chain has other terms",
          });
        }
      }
    });
  }

  it("a refund waits (never voided) while the chain still reports the payment Delivered", function () {
    expect(verdictOf("refund", { mine: true, state: "Delivered" })).to.deep.equal({
      kind: "wait",
      why: "not expired yet in chain time",
    });
  });
});
