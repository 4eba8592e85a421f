/**
 * Red team: parties other than the payment's own agents call the settlement on a payment in flight (Delivered,
 * bank B's agent down).
 * - A third party with no role, and the scheme admin, call every step with the payment's exact terms, and
 *   initiate under bank A's name with the id A's agent will use next: every call reverts, refused as not the
 *   bank's agent.
 * - Each bank's key calls the other bank's steps (A smelts and rejects; B acknowledges, refunds, returns and
 *   initiates under A's name), and B's key smelts with altered terms: every call reverts.
 * - B's key squats the id A will use next in B's own namespace (B → A, to an account A does not have): harmless;
 *   A's next payment under that id settles, and A's books take nothing from the squat.
 * The payment in flight, and the next, each settle once; both ledgers exact and balanced.
 */
import { expect } from "chai";

import { paymentRevertOf } from "../../src/settlement/reverts.js";
import {
  accountRefOf,
  fiatRefOf,
  reasonCodeOf,
  settlementIdOf,
  settlementStateName,
  termsTuple,
} from "../../src/settlement/terms.js";
import type { InterbankSettlement } from "../../typechain-types/index.js";
import {
  ALICE_OPENING,
  expectBalanced,
  http,
  orderJson,
  banksPerTest,
  stepsOf,
  until,
  waitForPayment,
} from "./helpers.js";

/** What a call came to: the settlement's error it reverted with, or how it failed to revert. */
async function outcomeOf(call: () => Promise<{ wait(): Promise<unknown> }>): Promise<string> {
  try {
    await (await call()).wait();
    return "did not revert";
  } catch (error) {
    return paymentRevertOf(error)?.errorName ?? `not a revert: ${(error as Error).message}`;
  }
}

describe("settlement red team: counterparties", function () {
  const run = banksPerTest();

  it("a third party and the wrong bank's key cannot move a payment; squatting ids does nothing", async function () {
    const banks = await run.start();
    const { a, suite, stores, settlement } = banks;
    await banks.b.stop(); // the payment stays Delivered while it is poked at
    expect((await http(`${a.url}/payments`, "POST", orderJson("CP-1", { amount: "3000" }))).status).to.equal(202);
    await waitForPayment(a, "CP-1", (p) => p.debtor.status === "Initiated");
    const terms = termsTuple(a.payments.get("outbound", "CP-1")!.terms);
    const fiat = fiatRefOf("credit", terms.id);
    const ac01 = reasonCodeOf("AC01");
    const next = { ...terms, id: settlementIdOf("CP-2") };
    const asA = settlement.connect(suite.accounts.bankA);
    const asB = settlement.connect(suite.accounts.bankB);

    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    const attempt = async (what: string, refusal: string, call: () => Promise<{ wait(): Promise<unknown> }>) => {
      outcomes[what] = await outcomeOf(call);
      expected[what] = refusal;
    };
    const notAgent = "InterbankSettlementUnauthorizedAgent";
    const others: Array<[string, InterbankSettlement]> = [
      ["a third party", settlement.connect(suite.others[0]!)],
      ["the scheme admin", settlement.connect(suite.accounts.schemeAdmin)],
    ];
    for (const [who, as] of others) {
      await attempt(`${who} smelts`, notAgent, () => as.smelt(terms, fiat));
      await attempt(`${who} smelts in a batch`, notAgent, () => as.smeltBatch([terms], [fiat]));
      await attempt(`${who} rejects`, notAgent, () => as.reject(terms, ac01));
      await attempt(`${who} acknowledges`, notAgent, () => as.acknowledge(terms));
      await attempt(`${who} acknowledges in a batch`, notAgent, () => as.acknowledgeBatch([terms]));
      await attempt(`${who} returns`, notAgent, () => as.returnRejected(terms, fiat));
      await attempt(`${who} refunds`, notAgent, () => as.refundExpired(terms, fiat));
      await attempt(`${who} initiates under A with A's next id`, notAgent, () => as.initiate(next));
    }
    // A's key on B's steps, B's key on A's steps.
    await attempt("A smelts", notAgent, () => asA.smelt(terms, fiat));
    await attempt("A rejects", notAgent, () => asA.reject(terms, ac01));
    await attempt("B acknowledges", notAgent, () => asB.acknowledge(terms));
    await attempt("B refunds", notAgent, () => asB.refundExpired(terms, fiat));
    await attempt("B returns", notAgent, () => asB.returnRejected(terms, fiat));
    await attempt("B initiates under A's name", notAgent, () => asB.initiate(next));
    // B smelts with altered terms: a bigger amount, another account.
    const mismatch = "InterbankSettlementTermsMismatch";
    await attempt("B smelts a bigger amount", mismatch, () => asB.smelt({ ...terms, amount: terms.amount + 1n }, fiat));
    await attempt("B smelts to another account", mismatch, () =>
      asB.smelt({ ...terms, creditorAccountRef: accountRefOf("dora") }, fiat),
    );
    expect(outcomes).to.deep.equal(expected);
    expect(settlementStateName(await settlement.stateOf(a.trustAccount, terms.id))).to.equal("Delivered");

    // B's key squats the id A will use next, in B's own namespace: B → A, 1 unit to an account A does not have.
    const latest = (await suite.ethers.provider.getBlock("latest"))!;
    const squat = {
      id: settlementIdOf("CP-2"),
      debtorBank: banks.b.trustAccount,
      creditorBank: a.trustAccount,
      amount: 1n,
      creditorAccountRef: accountRefOf("nobody-at-a"),
      deadline: BigInt(latest.timestamp + 3_600),
    };
    expect(await outcomeOf(() => asB.initiate(squat))).to.equal("did not revert");

    const b = banks.agent("B", stores.b);
    run.keep(b);
    await b.start();
    await waitForPayment(a, "CP-1", (p) => p.status === "Acknowledged");
    expect((await http(`${a.url}/payments`, "POST", orderJson("CP-2", { amount: "3000" }))).status).to.equal(202);
    await waitForPayment(a, "CP-2", (p) => p.status === "Acknowledged");
    for (const id of ["CP-1", "CP-2"]) {
      expect(stepsOf(a, "outbound", id)).to.deep.equal(["debit", "acknowledge"]);
      expect(stepsOf(b, "inbound", id)).to.deep.equal(["credit", "smelt"]);
      expect(settlementStateName(await settlement.stateOf(a.trustAccount, settlementIdOf(id)))).to.equal(
        "Acknowledged",
      );
    }
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 6_000n);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 6_000n);

    // The squat, an inbound payment to an account A does not have: A rejects it (AC01) and posts nothing for it;
    // B's agent, which did not send it, takes nothing for it either.
    await until("A rejected the squat", () => a.payment("CP-2", "inbound")?.creditor.status === "Rejected");
    expect(settlementStateName(await settlement.stateOf(banks.b.trustAccount, squat.id))).to.equal("Rejected");
    expect(a.payment("CP-2", "inbound")).to.deep.include({ amount: "1", status: "Rejected", reason: "AC01" });
    expect(stepsOf(a, "inbound", "CP-2")).to.deep.equal([]);
    expect(b.payment("CP-2", "outbound")).to.equal(undefined);
    expectBalanced(a, b);
  });
});
