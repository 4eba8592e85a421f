/**
 * Red team: someone else signs with bank A's agent key while the agent's pipelined initiates wait in the pool.
 * - The thief replaces the agent's first initiate with a transfer of its own (same nonce, higher fee);
 * - takes the nonce after the agent's last one;
 * - and the node drops the agent's third initiate from its pool.
 * The agent must recover: every payment (and one ordered while it recovers) Acknowledged exactly once, both
 * ledgers exact and balanced. The agent hands the node two different transactions on one nonce only where the
 * dropped transaction freed it (sending the dropped step again there is by design), never on a nonce the thief
 * holds; and no nonce gap is left behind, so the thief's queued transfer is mined too.
 */
import { expect } from "chai";
import type { Signer, TransactionRequest, TransactionResponse } from "ethers";

import { INTERNAL } from "../../src/settlement/bookings.js";
import { settlementIdOf, settlementStateName } from "../../src/settlement/terms.js";
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

/** `signer`, with the hash of every transaction the node took from it recorded by nonce. */
function recording(signer: Signer, sent: Map<number, Set<string>>): Signer {
  return new Proxy(signer, {
    get(target, prop, receiver) {
      if (prop === "sendTransaction") {
        return async (tx: TransactionRequest): Promise<TransactionResponse> => {
          const response = await target.sendTransaction(tx);
          sent.set(response.nonce, (sent.get(response.nonce) ?? new Set<string>()).add(response.hash));
          return response;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("settlement red team: nonces", function () {
  const run = banksPerTest();

  it("a replaced initiate, a stolen nonce and a dropped transaction: every payment settles once, no gap left", async function () {
    const banks = await run.start({ receiptTimeoutMs: 800, stepBatchSize: 1, ackBatchSize: 1 });
    const { suite, settlement, stores, b } = banks;
    const provider = suite.ethers.provider;
    const key = suite.accounts.bankA;
    const agentA = await key.getAddress();
    const sent = new Map<number, Set<string>>();
    await banks.a.stop();
    const a = banks.agent("A", stores.a, { signer: recording(key, sent) });
    run.keep(a);
    await a.start();

    /** The agent key's transactions in the pool, by nonce. */
    const pooled = async () => {
      const block = (await provider.send("eth_getBlockByNumber", ["pending", true])) as {
        transactions: Array<{ hash: string; from: string; nonce: string; maxFeePerGas?: string; gasPrice?: string }>;
      };
      return block.transactions
        .filter((tx) => tx.from.toLowerCase() === agentA.toLowerCase())
        .sort((x, y) => Number(x.nonce) - Number(y.nonce));
    };

    await provider.send("evm_setAutomine", [false]);
    const amounts = ["1001", "1002", "1003", "1004"];
    const answers = await Promise.all(
      amounts.slice(0, 3).map((amount, i) => http(`${a.url}/payments`, "POST", orderJson(`NONCE-${i}`, { amount }))),
    );
    expect(answers.map((x) => x.status)).to.deep.equal([202, 202, 202]);
    await until("three initiates pipelined in the pool", async () => (await pooled()).length === 3);
    const pool = await pooled();
    const first = Number(pool[0]!.nonce);
    expect(pool.map((tx) => Number(tx.nonce))).to.deep.equal([first, first + 1, first + 2]);
    const fee = BigInt(pool[0]!.maxFeePerGas ?? pool[0]!.gasPrice!);
    const outbid = { to: agentA, value: 0n, maxFeePerGas: fee * 3n, maxPriorityFeePerGas: fee * 2n, gasLimit: 21_000n };

    // The thief replaces the agent's first initiate with a transfer of its own on the same nonce, and takes the
    // nonce after the agent's three; the node drops the agent's third initiate.
    const replaced = await key.sendTransaction({ ...outbid, nonce: first });
    const stolen = await key.sendTransaction({ ...outbid, nonce: first + 3 });
    const dropped = pool[2]!;
    expect(await provider.send("hardhat_dropTransaction", [dropped.hash])).to.equal(true);
    await provider.send("evm_mine", []);
    await provider.send("evm_setAutomine", [true]);
    expect((await provider.getTransactionReceipt(replaced.hash))?.status).to.equal(1);
    expect(await provider.getTransactionReceipt(pool[0]!.hash)).to.equal(null);

    // A fourth order while the agent recovers.
    expect((await http(`${a.url}/payments`, "POST", orderJson("NONCE-3", { amount: amounts[3]! }))).status).to.equal(
      202,
    );
    for (let i = 0; i < amounts.length; i += 1) {
      await waitForPayment(a, `NONCE-${i}`, (p) => p.status === "Acknowledged");
      await waitForPayment(b, `NONCE-${i}`, (p) => p.debtor.status === "Acknowledged");
    }
    await a.stop();

    // Each payment once, exactly.
    const total = amounts.reduce((sum, amount) => sum + BigInt(amount), 0n);
    expect(a.ledger.balance("alice")).to.equal(ALICE_OPENING - total);
    expect(b.ledger.balance("bob")).to.equal(1_000n + total);
    expect(a.ledger.balance(INTERNAL.trust)).to.equal(0n);
    expect(a.ledger.balance(INTERNAL.dueTo("B"))).to.equal(total);
    for (let i = 0; i < amounts.length; i += 1) {
      expect(stepsOf(a, "outbound", `NONCE-${i}`)).to.deep.equal(["debit", "acknowledge"]);
      expect(stepsOf(b, "inbound", `NONCE-${i}`)).to.deep.equal(["credit", "smelt"]);
      const state = await settlement.stateOf(a.trustAccount, settlementIdOf(`NONCE-${i}`));
      expect(settlementStateName(state)).to.equal("Acknowledged");
    }
    expect(await suite.ledger.claimOf(b.trustAccount, a.trustAccount)).to.equal(total);
    expectBalanced(a, b);

    // Two different transactions of the agent on one nonce only where the node dropped one: never on the nonce
    // the thief took over, nor on the one it stole.
    const reused = [...sent.entries()].filter(([, hashes]) => hashes.size > 1).map(([nonce]) => nonce);
    expect(reused, JSON.stringify([...sent.entries()].map(([n, h]) => [n, [...h]]))).to.deep.equal([
      Number(dropped.nonce),
    ]);
    expect(sent.get(first)).to.deep.equal(new Set([pool[0]!.hash]));
    expect(sent.has(first + 3)).to.equal(false);
    // No gap: every nonce up to the node's count is mined, the thief's queued transfer with them.
    const mined = await provider.getTransactionCount(agentA, "latest");
    expect(await provider.getTransactionCount(agentA, "pending")).to.equal(mined);
    expect((await provider.getTransactionReceipt(stolen.hash))?.status).to.equal(1);
  });
});
