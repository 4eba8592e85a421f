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
  OUTBID,
  blockTxs,
  burnsIn,
  expectBalanced,
  givenUp,
  http,
  inPool,
  minedSince,
  orderJson,
  rawOf,
  rebroadcast,
  banksPerTest,
  stepsOf,
  until,
  waitForPayment,
  type ChainTx,
} from "./helpers.js";

describe("settlement: an initiate after the agent gave the payment up", function () {
  const run = banksPerTest();

  it("a dropped initiate sent again after the payment failed cannot land: the agent used its nonce up first", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const key = await suite.accounts.bankA.getAddress();

    // The agent's initiate waits in the pool (no automining); an observer keeps its signed bytes; the node drops it.
    await provider.send("evm_setAutomine", [false]);
    expect((await http(`${a.url}/payments`, "POST", orderJson("DROPPED-1"))).status).to.equal(202);
    const { hash } = await inPool(provider, key);
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
    expect(await rebroadcast(provider, raw)).to.match(/nonce/i);
    expect(await settlement.stateOf(a.trustAccount, settlementIdOf("DROPPED-1"))).to.equal(0n);
    expect(b.ledger.balance("bob")).to.equal(1_000n);

    // The agent goes on: the next payment settles.
    expect((await http(`${a.url}/payments`, "POST", orderJson("DROPPED-2"))).status).to.equal(202);
    await waitForPayment(a, "DROPPED-2", (p) => p.status === "Acknowledged");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);
    expectBalanced(a, b);
  });

  it("on a chain that mines in blocks, one transfer of nothing uses the dropped initiate's nonce up, and the payment is given up once it is mined", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const key = (await suite.accounts.bankA.getAddress()).toLowerCase();
    const start = await provider.getBlockNumber();
    const pool = () => blockTxs(provider, "pending");

    await provider.send("evm_setAutomine", [false]);
    try {
      expect((await http(`${a.url}/payments`, "POST", orderJson("BLOCKS-1"))).status).to.equal(202);
      const initiate = await inPool(provider, key);
      expect(await provider.send("hardhat_dropTransaction", [initiate.hash])).to.equal(true);
      const pause = await settlement.pauseCorridor(a.trustAccount, b.trustAccount);
      await provider.send("evm_mine", []);
      await pause.wait();

      // The agent finds its initiate dropped, meets the refusal when it sends it again, and burns the free nonce.
      let burns: ChainTx[] = [];
      await until("a transfer of nothing to itself is in the pool", async () => {
        burns = burnsIn(await pool(), key);
        return burns.length > 0;
      });
      expect(burns.map((tx) => Number(tx.nonce))).to.deep.equal([Number(initiate.nonce)]);
      // While that nonce is not used up the payment stays open, for as long as the block takes.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(a.payments.get("outbound", "BLOCKS-1")!.status).to.not.equal("Failed");
      expect(burnsIn(await pool(), key), "no second burn while the first waits").to.have.length(1);

      await provider.send("evm_mine", []);
      const failed = await waitForPayment(a, "BLOCKS-1", (p) => p.status === "Failed", 15_000);
      expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
      expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
      expect(await pool(), "nothing more sent").to.deep.equal([]);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    expect(burnsIn(await minedSince(provider, start), key), "one burn in all").to.have.length(1);
    expect(await settlement.stateOf(a.trustAccount, settlementIdOf("BLOCKS-1"))).to.equal(0n);
    expectBalanced(a, b);
  });

  it("an initiate mined and reverted used its nonce: the payment is given up with no transfer to burn it", async function () {
    const banks = await run.start();
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const key = (await suite.accounts.bankA.getAddress()).toLowerCase();
    const start = await provider.getBlockNumber();
    await provider.send("evm_setAutomine", [false]);
    let initiate: ChainTx | undefined;
    try {
      expect((await http(`${a.url}/payments`, "POST", orderJson("REVERTED-1"))).status).to.equal(202);
      initiate = await inPool(provider, key);
      // The corridor is paused in the same block, ahead of it: the initiate is mined, and reverts.
      await settlement.pauseCorridor(a.trustAccount, b.trustAccount, OUTBID);
      await provider.send("evm_mine", []);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    expect((await provider.getTransactionReceipt(initiate!.hash))!.status).to.equal(0);

    const failed = await waitForPayment(a, "REVERTED-1", (p) => p.status === "Failed", 30_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    const sentByKey = (await minedSince(provider, start)).filter((tx) => tx.from === key);
    expect(
      sentByKey.map((tx) => tx.hash),
      "the reverted initiate alone",
    ).to.deep.equal([initiate!.hash]);
    expectBalanced(a, b);
  });

  it("after a restart, the nonce kept before the handover counts: the chain passed it, so the payment is given up with no burn", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { a, b, suite, settlement } = banks;
    const provider = suite.ethers.provider;
    const bankA = suite.accounts.bankA;
    const key = await bankA.getAddress();
    await provider.send("evm_setAutomine", [false]);
    let initiate: ChainTx | undefined;
    let raw = "";
    try {
      expect((await http(`${a.url}/payments`, "POST", orderJson("KEPT-1"))).status).to.equal(202);
      initiate = await inPool(provider, key);
      raw = await rawOf(provider, initiate.hash);
      await a.stop();
      expect(await provider.send("hardhat_dropTransaction", [initiate.hash])).to.equal(true);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    // The key's next nonce is used elsewhere, and the corridor is paused.
    await (await bankA.sendTransaction({ to: await suite.accounts.schemeAdmin.getAddress(), value: 0n })).wait();
    expect(await provider.getTransactionCount(key, "latest")).to.be.above(Number(initiate.nonce));
    await (await settlement.pauseCorridor(a.trustAccount, b.trustAccount)).wait();
    const start = await provider.getBlockNumber();

    const restarted = banks.agent("A", banks.stores.a);
    run.keep(restarted);
    await restarted.start();
    const failed = await waitForPayment(restarted, "KEPT-1", (p) => p.status === "Failed", 30_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(restarted.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect((await minedSince(provider, start)).filter((tx) => tx.from === key.toLowerCase())).to.deep.equal([]);
    // Its bytes, sent again once the corridor reopens, are refused: their nonce is taken.
    await (await settlement.unpauseCorridor(a.trustAccount, b.trustAccount)).wait();
    expect(await rebroadcast(provider, raw)).to.match(/nonce/i);
    expect(await settlement.stateOf(a.trustAccount, settlementIdOf("KEPT-1"))).to.equal(0n);
  });

  it("an initiate of the payment's own terms landing after all: the customer is debited again (into overdraft), it settles, the next goes through", async function () {
    const banks = await run.start();
    const { a, settlement } = banks;
    const restarted = await givenUp(banks, orderJson("LATE-1"));
    run.keep(restarted);
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
