/**
 * A bank's agent key used elsewhere (a second instance, an operator, a thief): transactions the agent did not send
 * move its payments on chain. Each agent's books follow what the chain did to its own payments, and nothing else:
 * - B's key rejects a payment B's agent already credited (replacing its pending smelt): A takes the money back, so
 *   B undoes the credit;
 * - A's key initiates the agent's next id with other terms (replacing its pending initiate), and later takes that
 *   settlement back: the agent does not take it for its payment, which fails (the id is taken) and re-credits the
 *   customer once.
 */
import { expect } from "chai";

import { INTERNAL } from "../../src/settlement/bookings.js";
import {
  accountRefOf,
  fiatRefOf,
  reasonCodeOf,
  settlementIdOf,
  settlementStateName,
  termsTuple,
} from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  expectBalanced,
  http,
  orderJson,
  OUTBID,
  startBanks,
  stepsOf,
  until,
  waitForPayment,
  type Banks,
} from "./helpers.js";

describe("settlement: a bank's agent key used elsewhere", function () {
  let banks: Banks | undefined;

  afterEach(async function () {
    if (banks === undefined) return;
    await banks.suite.ethers.provider.send("evm_setAutomine", [true]);
    await banks.stop();
    banks = undefined;
  });

  /** Waits until `address` has a transaction in the pool. */
  async function pendingFrom(b: Banks, address: string): Promise<void> {
    const provider = b.suite.ethers.provider;
    await until(`a transaction of ${address} in the pool`, async () => {
      const [pending, latest] = await Promise.all([
        provider.getTransactionCount(address, "pending"),
        provider.getTransactionCount(address, "latest"),
      ]);
      return pending > latest;
    });
  }

  it("B's key rejects a payment B credited, ahead of B's smelt: B reverses the credit, A returns it to the customer", async function () {
    banks = await startBanks();
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const keyA = await suite.accounts.bankA.getAddress();
    const keyB = await suite.accounts.bankB.getAddress();
    await provider.send("evm_setAutomine", [false]);
    expect((await http(`${a.url}/payments`, "POST", orderJson("ROGUE-1", { amount: "3000" }))).status).to.equal(202);
    await pendingFrom(banks, keyA);
    await provider.send("evm_mine", []);
    // B's agent credits bob and sends its smelt, which waits in the pool.
    await waitForPayment(b, "ROGUE-1", (p) => p.creditor.status === "Credited");
    await pendingFrom(banks, keyB);
    expect(b.ledger.balance("bob")).to.equal(1_000n + 3_000n);

    // B's key, elsewhere, rejects it on the smelt's nonce.
    const nonce = await provider.getTransactionCount(keyB, "latest");
    const terms = termsTuple(a.payments.get("outbound", "ROGUE-1")!.terms);
    const rogue = await settlement
      .connect(suite.accounts.bankB)
      .reject(terms, reasonCodeOf("AC04"), { nonce, gasLimit: 200_000n, ...OUTBID });
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    expect((await rogue.wait())?.status).to.equal(1);

    await waitForPayment(a, "ROGUE-1", (p) => p.status === "Returned");
    const atB = await waitForPayment(b, "ROGUE-1", (p) => p.debtor.status === "Returned");
    expect(atB.creditor.status).to.equal("Rejected");
    expect(stepsOf(b, "inbound", "ROGUE-1")).to.deep.equal(["credit", "reversal"]);
    expect(b.ledger.balance("bob")).to.equal(1_000n);
    expect(b.ledger.balance(INTERNAL.suspense)).to.equal(0n);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expectBalanced(a, b);
  });

  it("A's key settles an id the agent never had: its events are not the agent's, which goes on with its own payments", async function () {
    banks = await startBanks();
    const { a, b, suite, settlement } = banks;
    const latest = (await suite.ethers.provider.getBlock("latest"))!.timestamp;
    const ghost = {
      id: settlementIdOf("GHOST-1"),
      debtorBank: a.trustAccount,
      creditorBank: b.trustAccount,
      amount: 700n,
      creditorAccountRef: accountRefOf("bob"),
      deadline: BigInt(latest + 3_600),
    };
    await (await settlement.connect(suite.accounts.bankA).initiate(ghost)).wait();
    // B credits bob and smelts; A's key, elsewhere again, acknowledges.
    await waitForPayment(b, "GHOST-1", (p) => p.creditor.status === "Smelted");
    await (await settlement.connect(suite.accounts.bankA).acknowledge(ghost)).wait();
    expect(settlementStateName(await settlement.stateOf(a.trustAccount, ghost.id))).to.equal("Acknowledged");

    expect((await http(`${a.url}/payments`, "POST", orderJson("AFTER-GHOST", { amount: "100" }))).status).to.equal(202);
    await waitForPayment(a, "AFTER-GHOST", (p) => p.status === "Acknowledged");
    expect(a.payments.get("outbound", "GHOST-1")).to.equal(undefined);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 100n);
    expectBalanced(a, b);
  });

  it("A's key initiates the agent's id with other terms, then takes it back: the agent's payment fails once, nothing adopted", async function () {
    banks = await startBanks({ receiptTimeoutMs: 800 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const keyA = await suite.accounts.bankA.getAddress();
    await provider.send("evm_setAutomine", [false]);
    expect((await http(`${a.url}/payments`, "POST", orderJson("FRONT-1", { amount: "3000" }))).status).to.equal(202);
    await pendingFrom(banks, keyA);
    const mine = a.payments.get("outbound", "FRONT-1")!.terms;

    // A's key, elsewhere, initiates FRONT-1 on the agent's nonce: 1 unit to an account B does not have.
    const foreign = {
      id: settlementIdOf("FRONT-1"),
      debtorBank: mine.debtorBank,
      creditorBank: mine.creditorBank,
      amount: 1n,
      creditorAccountRef: accountRefOf("nobody"),
      deadline: BigInt(mine.deadline),
    };
    const nonce = await provider.getTransactionCount(keyA, "latest");
    const sent = await settlement
      .connect(suite.accounts.bankA)
      .initiate(foreign, { nonce, gasLimit: 500_000n, ...OUTBID });
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    expect((await sent.wait())?.status).to.equal(1);

    // The agent's own initiate meets the taken id: the payment fails and alice is re-credited.
    const failed = await waitForPayment(a, "FRONT-1", (p) => p.status === "Failed");
    expect(failed.creditor.status).to.not.equal("Smelted");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);

    // B rejects the foreign settlement (no such account); A's key takes it back: still not the agent's payment.
    await until(
      "B rejected the foreign settlement",
      async () => settlementStateName(await settlement.stateOf(mine.debtorBank, foreign.id)) === "Rejected",
    );
    const taken = await settlement
      .connect(suite.accounts.bankA)
      .returnRejected(foreign, fiatRefOf("return", foreign.id));
    expect((await taken.wait())?.status).to.equal(1);
    expect((await http(`${a.url}/payments`, "POST", orderJson("FRONT-2", { amount: "100" }))).status).to.equal(202);
    await waitForPayment(a, "FRONT-2", (p) => p.status === "Acknowledged");

    const record = a.payments.get("outbound", "FRONT-1")!;
    expect(record.debtorLeg).to.equal("Failed");
    expect(record.history.map((entry) => entry.what).join("\n")).to.not.match(/initiated on chain|returned on chain/);
    expect(stepsOf(a, "outbound", "FRONT-1")).to.deep.equal(["debit", "reversal"]);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 100n);
    expectBalanced(a, b);
  });
});
