/**
 * Sends whose answer was lost: the node took the transaction but the agent never heard back (a dropped connection).
 * Found by a red team of e91de0e, which kept a row's nonce only once the node answered: the agent gave a payment up
 * while such a transaction was still valid (dropped, its bytes public) or even still pending, and the customer was
 * paid twice (the late initiate debited her again, into overdraft). The outbox now keeps the nonce before it hands a
 * transaction over, so the row knows every nonce that must be used up before it may be given up.
 */
import { expect } from "chai";
import type { Signer, TransactionRequest, TransactionResponse } from "ethers";

import { SELECTORS } from "../../src/settlement/outbox.js";
import { settlementIdOf, settlementStateName, termsTuple } from "../../src/settlement/terms.js";
import {
  ALICE_OPENING,
  OUTBID,
  acceptedUnsent,
  burnsIn,
  http,
  minedSince,
  orderJson,
  rawOf,
  rebroadcast,
  banksPerTest,
  stepsOf,
  until,
  waitForPayment,
} from "./helpers.js";

/**
 * `signer`, whose next initiate (when `plan.lose` is set) is handed to the node and then "lost": `before` runs,
 * the transaction is sent, `after` runs with it, and the send throws as if the connection dropped.
 */
function lossy(
  signer: Signer,
  plan: {
    lose: boolean;
    before?: () => Promise<void>;
    after?: (sent: TransactionResponse) => Promise<void>;
    lost?: TransactionResponse;
  },
): Signer {
  return new Proxy(signer, {
    get(target, prop, receiver) {
      if (prop === "sendTransaction") {
        return async (tx: TransactionRequest): Promise<TransactionResponse> => {
          const data = typeof tx.data === "string" ? tx.data : "";
          if (!plan.lose || !(data.startsWith(SELECTORS.initiate) || data.startsWith(SELECTORS.initiateBatch))) {
            return target.sendTransaction(tx);
          }
          plan.lose = false;
          await plan.before?.();
          const sent = await target.sendTransaction(tx);
          plan.lost = sent;
          await plan.after?.(sent);
          throw new Error("socket hang up (the node took the transaction, its answer was lost)");
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("settlement: sends whose answer was lost", function () {
  const run = banksPerTest();

  it("the first send's answer lost, the node drops it, the corridor paused: the nonce is used up before the payment is given up", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { suite, settlement, stores, b } = banks;
    const provider = suite.ethers.provider;
    const key = suite.accounts.bankA;
    let raw = "";
    const plan: Parameters<typeof lossy>[1] = {
      lose: true,
      before: async () => void (await provider.send("evm_setAutomine", [false])),
      after: async (sent) => {
        raw = await rawOf(provider, sent.hash);
        expect(await provider.send("hardhat_dropTransaction", [sent.hash])).to.equal(true);
        await provider.send("evm_setAutomine", [true]);
        await (await settlement.pauseCorridor(banks.a.trustAccount, b.trustAccount)).wait();
      },
    };
    await banks.a.stop();
    const a = banks.agent("A", stores.a, { signer: lossy(key, plan) });
    run.keep(a);
    await a.start();

    expect((await http(`${a.url}/payments`, "POST", orderJson("LOST-1"))).status).to.equal(202);
    await until("the initiate was handed over and its answer lost", () => plan.lost !== undefined);
    const lostNonce = plan.lost!.nonce;
    const failed = await waitForPayment(a, "LOST-1", (p) => p.status === "Failed", 20_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await provider.getTransactionCount(await key.getAddress(), "latest")).to.be.above(lostNonce);

    // The corridor reopens; anyone who saw the lost transaction's bytes sends them again: refused, its nonce taken.
    await (await settlement.unpauseCorridor(a.trustAccount, b.trustAccount)).wait();
    expect(await rebroadcast(provider, raw)).to.match(/nonce/i);
    expect(settlementStateName(await settlement.stateOf(a.trustAccount, settlementIdOf("LOST-1")))).to.equal("None");
    expect(stepsOf(a, "outbound", "LOST-1")).to.deep.equal(["debit", "reversal"]);
  });

  it("a send again after a taken nonce, its answer lost, waits in the pool: the payment is not given up, and settles once it is mined", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { suite, settlement, stores, b } = banks;
    const provider = suite.ethers.provider;
    const key = suite.accounts.bankA;
    const keyAddress = await key.getAddress();
    const plan: Parameters<typeof lossy>[1] = {
      lose: false,
      before: async () => {
        // The corridor is paused just after the agent's estimate passed; the send itself waits in the pool.
        await (await settlement.pauseCorridor(banks.a.trustAccount, b.trustAccount)).wait();
        await provider.send("evm_setAutomine", [false]);
      },
    };
    await banks.a.stop();
    const a = banks.agent("A", stores.a, { signer: lossy(key, plan) });
    run.keep(a);
    await a.start();

    await provider.send("evm_setAutomine", [false]);
    expect((await http(`${a.url}/payments`, "POST", orderJson("LOST-2"))).status).to.equal(202);
    let first: { hash: string; nonce: string } | undefined;
    await until("the agent's initiate is in the pool", async () => {
      const block = (await provider.send("eth_getBlockByNumber", ["pending", true])) as {
        transactions: Array<{ hash: string; from: string; nonce: string }>;
      };
      first = block.transactions.find((tx) => tx.from.toLowerCase() === keyAddress.toLowerCase());
      return first !== undefined;
    });
    const n = Number(first!.nonce);
    // The node drops it and the key's nonce n is taken elsewhere (mined): the agent's next send of the row is lost.
    expect(await provider.send("hardhat_dropTransaction", [first!.hash])).to.equal(true);
    plan.lose = true;
    await key.sendTransaction({ to: keyAddress, value: 0n, nonce: n, gasLimit: 21_000n });
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);

    await until("the re-send was handed over and its answer lost", () => plan.lost !== undefined, 20_000);
    const lost = plan.lost!;
    // It waits in the pool. The agent must not give the payment up while it is pending.
    let failedWhilePending = false;
    for (let i = 0; i < 40; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const pending = (await provider.getTransactionReceipt(lost.hash)) === null;
      if (pending && a.payments.get("outbound", "LOST-2")!.status === "Failed") failedWhilePending = true;
    }
    // The corridor reopens in the block that mines it.
    await settlement.unpauseCorridor(a.trustAccount, b.trustAccount, OUTBID);
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    expect((await provider.getTransactionReceipt(lost.hash))!.status).to.equal(1);
    expect(failedWhilePending, "given up while its own initiate was pending").to.equal(false);
    await waitForPayment(a, "LOST-2", (p) => p.status === "Acknowledged", 20_000);
    expect(stepsOf(a, "outbound", "LOST-2")).to.deep.equal(["debit", "acknowledge"]);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - 12_345n);
  });

  it("a crash right after the handover on n+1, the node dropping n and n+1: the restarted agent uses both up before it gives the payment up", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { suite, settlement, stores, b } = banks;
    const provider = suite.ethers.provider;
    const key = suite.accounts.bankA;
    const keyAddress = await key.getAddress();
    await acceptedUnsent(banks, orderJson("GAP-1"));
    const terms = banks.a.payments.get("outbound", "GAP-1")!.terms;
    const [row] = banks.a.payments.pending();
    expect(row!.paymentId).to.equal("GAP-1");

    // The crashed run's last transactions: another on n, then GAP-1's initiate on n+1, its nonce kept before the
    // handover (as the outbox keeps it) and its hash never.
    const n = await provider.getTransactionCount(keyAddress, "latest");
    await provider.send("evm_setAutomine", [false]);
    let raw = "";
    try {
      const other = await key.sendTransaction({ to: keyAddress, value: 0n, nonce: n, gasLimit: 21_000n });
      banks.a.payments.sending([row!.rowId], n + 1);
      const initiate = await settlement.connect(key).initiate(termsTuple(terms), { nonce: n + 1, gasLimit: 600_000n });
      raw = await rawOf(provider, initiate.hash);
      // The node loses both (a restart of the node, pool eviction); an observer kept the bytes.
      expect(await provider.send("hardhat_dropTransaction", [initiate.hash])).to.equal(true);
      expect(await provider.send("hardhat_dropTransaction", [other.hash])).to.equal(true);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    await (await settlement.pauseCorridor(banks.a.trustAccount, b.trustAccount)).wait();

    const restarted = banks.agent("A", stores.a);
    run.keep(restarted);
    await restarted.start();
    const failed = await waitForPayment(restarted, "GAP-1", (p) => p.status === "Failed", 20_000);
    expect(failed.reason).to.equal("InterbankSettlementCorridorPaused");
    expect(restarted.ledger.balance("alice")).to.equal(ALICE_OPENING);
    expect(await provider.getTransactionCount(keyAddress, "latest")).to.be.above(n + 1);

    await (await settlement.unpauseCorridor(restarted.trustAccount, b.trustAccount)).wait();
    expect(await rebroadcast(provider, raw)).to.match(/nonce/i);
    expect(settlementStateName(await settlement.stateOf(restarted.trustAccount, settlementIdOf("GAP-1")))).to.equal(
      "None",
    );
    expect(stepsOf(restarted, "outbound", "GAP-1")).to.deep.equal(["debit", "reversal"]);
  });
  it("a row sent by an agent before migration 5 (no nonce kept), its initiate dropped: the restarted agent uses the nonce up before it gives the payment up", async function () {
    const banks = await run.start({ receiptTimeoutMs: 500 });
    const { suite, settlement, stores, b } = banks;
    const provider = suite.ethers.provider;
    const key = suite.accounts.bankA;
    const keyAddress = await key.getAddress();
    await acceptedUnsent(banks, orderJson("OLD-1"));
    const terms = banks.a.payments.get("outbound", "OLD-1")!.terms;
    expect(banks.a.payments.pending().map((row) => [row.paymentId, row.txNonce])).to.deep.equal([["OLD-1", null]]);

    // The old agent's initiate, handed over on n with nothing kept; the node drops it, an observer keeps the bytes.
    const n = await provider.getTransactionCount(keyAddress, "latest");
    await provider.send("evm_setAutomine", [false]);
    let raw = "";
    try {
      const initiate = await settlement.connect(key).initiate(termsTuple(terms), { nonce: n, gasLimit: 600_000n });
      raw = await rawOf(provider, initiate.hash);
      expect(await provider.send("hardhat_dropTransaction", [initiate.hash])).to.equal(true);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    await (await settlement.pauseCorridor(banks.a.trustAccount, b.trustAccount)).wait();
    const start = await provider.getBlockNumber();

    const restarted = run.keep(banks.agent("A", stores.a));
    await restarted.start();
    await waitForPayment(restarted, "OLD-1", (p) => p.status === "Failed", 20_000);
    expect(await provider.getTransactionCount(keyAddress, "latest")).to.be.above(n);
    expect(burnsIn(await minedSince(provider, start), keyAddress), "one transfer of nothing").to.have.length(1);
    await (await settlement.unpauseCorridor(restarted.trustAccount, b.trustAccount)).wait();
    expect(await rebroadcast(provider, raw)).to.match(/nonce/i);
    expect(stepsOf(restarted, "outbound", "OLD-1")).to.deep.equal(["debit", "reversal"]);
  });
});
