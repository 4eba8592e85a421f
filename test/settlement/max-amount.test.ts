/**
 * The largest payment the settlement contract accepts (`MAX_AMOUNT`, 2^64 − 1
 * minor units: one above SQLite's INTEGER range) through the whole agent path:
 * HTTP order at A, customer debit, initiate, B's follower credits the
 * beneficiary and smelts, A's follower acknowledges. Every cap on the way is
 * raised first so that the amount is allowed: the corridor's in-flight and
 * window limits, A's trust account's minter allowance, its attested reserve,
 * and the token's supply cap.
 */
import { expect } from "chai";

import { INTERNAL } from "../../src/settlement/bookings.js";
import { MAX_SETTLEMENT_AMOUNT, settlementIdOf } from "../../src/settlement/terms.js";
import { expectBalanced, http, startBanks, stepsOf, waitForPayment, type Banks, type PaymentJson } from "./helpers.js";

const MAX = MAX_SETTLEMENT_AMOUNT;
const WHALE_LEFT = 7n;
const BOB_OPENING = 1_000n;

describe("settlement: a payment of the largest amount the contract accepts, 2^64 − 1", function () {
  this.timeout(120_000);
  let banks: Banks | undefined;

  afterEach(async function () {
    await banks?.stop();
    banks = undefined;
  });

  /** Raises every cap between bank A and an initiate of `MAX` to B. */
  async function allowMax(b: Banks): Promise<void> {
    const { suite, settlement } = b;
    const trustA = await suite.trustA.getAddress();
    const trustB = await suite.trustB.getAddress();
    expect(await settlement.MAX_AMOUNT()).to.equal(MAX);
    await (await settlement.setCorridorLimits(trustA, trustB, MAX, MAX, 24 * 3_600)).wait();
    await (await suite.token.connect(suite.accounts.issuanceAdmin).increaseMinterAllowance(trustA, MAX)).wait();
    const supply = await suite.token.totalSupply();
    if ((await suite.token.supplyCap()) < supply + MAX) {
      await (await suite.token.setSupplyCap(supply + MAX)).wait();
    }
    const outstanding = await suite.ledger.outstandingOf(trustA);
    const now = BigInt(await suite.networkHelpers.time.latest());
    await (await suite.ledger.connect(suite.accounts.attestor).attestReserve(trustA, outstanding + MAX, now)).wait();
    expect(await settlement.availableToSend(trustA, trustB)).to.equal(MAX);
    expect(await suite.ledger.mintable(trustA)).to.be.gte(MAX);
  }

  it("A → B to Acknowledged, both core ledgers balanced, every balance exact", async function () {
    banks = await startBanks({ maxAmount: MAX });
    const { a, b, suite, settlement } = banks;
    await allowMax(banks);
    a.openCustomerAccount({ id: "whale", name: "Whale", deposit: MAX + WHALE_LEFT });
    expect(a.ledger.balance("whale")).to.equal(MAX + WHALE_LEFT);

    const id = "MAX-1";
    const posted = await http<PaymentJson>(`${a.url}/payments`, "POST", {
      debtorAccount: "whale",
      creditorBank: "B",
      creditorAccount: "bob",
      amount: MAX.toString(),
      currency: "USD",
      endToEndId: id,
    });
    expect(posted.status, JSON.stringify(posted.body)).to.equal(202);
    expect(posted.body.amount).to.equal("18446744073709551615");
    expect(a.ledger.balance("whale")).to.equal(WHALE_LEFT);

    const done = await waitForPayment(a, id, (p) => p.status === "Acknowledged");
    expect(done.amount).to.equal(MAX.toString());
    expect(done.creditor).to.deep.equal({ bank: "B", account: "bob", status: "Smelted" });
    const atB = await waitForPayment(b, id, (p) => p.debtor.status === "Acknowledged");
    expect(atB).to.deep.include({ direction: "inbound", amount: MAX.toString() });
    expect(b.payments.get("inbound", id)?.terms.amount).to.equal(MAX);

    // The books at both banks.
    expect(stepsOf(a, "outbound", id)).to.deep.equal(["debit", "acknowledge"]);
    expect(stepsOf(b, "inbound", id)).to.deep.equal(["credit", "smelt"]);
    expect(a.ledger.entries(`outbound:${id}`).flatMap((e) => e.lines.map((l) => l.amount))).to.deep.equal([
      MAX,
      MAX,
      MAX,
      MAX,
    ]);
    expect(a.ledger.balance("whale")).to.equal(WHALE_LEFT);
    expect(a.ledger.balance(INTERNAL.trust)).to.equal(0n);
    expect(a.ledger.balance(INTERNAL.dueTo("B"))).to.equal(MAX);
    expect(b.ledger.balance("bob")).to.equal(BOB_OPENING + MAX);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    expect(b.ledger.balance(INTERNAL.dueFrom("A"))).to.equal(MAX);
    expectBalanced(a, b);
    const bob = await http<{ balance: string }>(`${b.url}/accounts/bob`, "GET");
    expect(bob.body.balance).to.equal((BOB_OPENING + MAX).toString());

    // The chain agrees: B claims the whole amount on A, nothing is in flight, the tokens are burnt.
    const claim = await suite.ledger.claimOf(await suite.trustB.getAddress(), await suite.trustA.getAddress());
    expect(claim).to.equal(MAX);
    expect(await settlement.stateOf(await suite.trustA.getAddress(), settlementIdOf(id))).to.equal(4n); // Acknowledged
    expect(await settlement.totalInFlight()).to.equal(0n);
    expect(await suite.token.totalSupply()).to.equal(0n);
  });
});
