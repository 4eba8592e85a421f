/**
 * An initiate that could land after the agent gave the payment up. The agent fails an outbound payment (and
 * re-credits the customer) when the chain refused its initiate and none of its transactions is pending on its
 * node. But a transaction the node dropped stays valid while its nonce is free, and its signed bytes are public:
 * anyone who saw them (another node's pool) can send them again. So the agent uses that nonce up before it gives
 * a sent payment up; and should an initiate of its terms land all the same (its key used elsewhere), the debtor
 * bank's books follow the chain: the customer is debited again, the payment settles, the follower goes on.
 */
import { expect } from "chai";
import { Transaction } from "ethers";

import { settlementIdOf, termsTuple } from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  expectBalanced,
  givenUp,
  http,
  orderJson,
  startBanks,
  stepsOf,
  until,
  waitForPayment,
  type Banks,
} from "./helpers.js";

describe("settlement: an initiate after the agent gave the payment up", function () {
  let banks: Banks | undefined;
  const extra: Array<{ stop(): Promise<void> }> = [];

  afterEach(async function () {
    for (const agent of extra.splice(0)) await agent.stop();
    await banks?.stop();
    banks = undefined;
  });

  it("a dropped initiate sent again after the payment failed cannot land: the agent used its nonce up first", async function () {
    banks = await startBanks({ receiptTimeoutMs: 500 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const key = await suite.accounts.bankA.getAddress();

    // The agent's initiate waits in the pool (no automining); an observer keeps its signed bytes; the node drops it.
    await provider.send("evm_setAutomine", [false]);
    expect((await http(`${a.url}/payments`, "POST", orderJson("DROPPED-1"))).status).to.equal(202);
    let hash: string | undefined;
    await until("the agent's initiate is in the pool", async () => {
      const block = (await provider.send("eth_getBlockByNumber", ["pending", true])) as {
        transactions: Array<{ hash: string; from: string }>;
      };
      hash = block.transactions.find((tx) => tx.from.toLowerCase() === key.toLowerCase())?.hash;
      return hash !== undefined;
    });
    const sent = (await provider.getTransaction(hash!))!;
    const raw = Transaction.from(sent).serialized;
    expect(await provider.send("hardhat_dropTransaction", [hash])).to.equal(true);
    await provider.send("evm_setAutomine", [true]);
    // The corridor is paused meanwhile: the agent, sending the initiate again, meets a refusal and gives it up.
    await (await settlement.pauseCorridor(a.trustAccount, b.trustAccount)).wait();
    const failed = await waitForPayment(a, "DROPPED-1", (p) => p.status === "Failed", 30_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await provider.getTransactionCount(key, "latest"), "the dropped initiate's nonce is used up").to.be.above(
      sent.nonce,
    );

    // The corridor reopens and the observer sends the very bytes the agent signed: refused, the nonce is taken.
    await (await settlement.unpauseCorridor(a.trustAccount, b.trustAccount)).wait();
    const again = await provider.send("eth_sendRawTransaction", [raw]).then(
      () => "accepted",
      (error: unknown) => (error as Error).message,
    );
    expect(again).to.match(/nonce/i);
    expect(await settlement.stateOf(a.trustAccount, settlementIdOf("DROPPED-1"))).to.equal(0n);
    expect(b.ledger.balance("bob")).to.equal(1_000n);

    // The agent goes on: the next payment settles.
    expect((await http(`${a.url}/payments`, "POST", orderJson("DROPPED-2"))).status).to.equal(202);
    await waitForPayment(a, "DROPPED-2", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);
    expectBalanced(a, b);
  });

  it("an initiate of the payment's own terms landing after all: the customer is debited again (into overdraft), it settles, the next goes through", async function () {
    banks = await startBanks();
    const { a, settlement } = banks;
    const restarted = await givenUp(banks, orderJson("LATE-1"));
    extra.push(restarted);
    expect(restarted.ledger.balance("alice")).to.equal(ALICE_OPENING);

    // The corridor reopens and alice spends everything she has, the re-credit with it.
    await settlement.unpauseCorridor(a.trustAccount, banks.b.trustAccount);
    const all = orderJson("ALL-IN", { amount: String(ALICE_OPENING) });
    expect((await http(`${restarted.url}/payments`, "POST", all)).status).to.equal(202);
    await waitForPayment(restarted, "ALL-IN", (p) => p.status === "Acknowledged");
    // The agent's own initiate of LATE-1's terms, mined late (from another node's pool).
    const terms = restarted.payments.get("outbound", "LATE-1")!.terms;
    await (await settlement.connect(banks.suite.accounts.bankA).initiate(termsTuple(terms))).wait();

    const settled = await waitForPayment(restarted, "LATE-1", (p) => p.status === "Acknowledged");
    expect(settled.history.map((entry) => entry.what).join("\n")).to.match(/after it was given up/);
    expect(settled.reason).to.equal(null);
    expect(stepsOf(restarted, "outbound", "LATE-1")).to.deep.equal(["debit", "reversal", "late-debit", "acknowledge"]);
    // Debited again into overdraft: she had spent the re-credit.
    expect(restarted.ledger.balance("alice")).to.equal(-12_345n);
    expect(banks.b.ledger.balance("bob")).to.equal(1_000n + ALICE_OPENING + 12_345n);
    expectBalanced(restarted, banks.b);

    // The follower went on: the next payment (carol's) settles.
    const next = orderJson("LATE-2", { debtorAccount: "carol", amount: "100" });
    expect((await http(`${restarted.url}/payments`, "POST", next)).status).to.equal(202);
    await waitForPayment(restarted, "LATE-2", (p) => p.status === "Acknowledged");
    expectBalanced(restarted, banks.b);
    expect(await banks.suite.token.balanceOf(await settlement.getAddress())).to.equal(await settlement.totalInFlight());
  });
});
