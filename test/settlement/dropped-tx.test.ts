/**
 * A node that drops a bank agent's transaction (a mempool eviction, a node restart): on Anvil, the devnet's
 * node, with mining held back so the agent's `initiate` waits in the pool and is dropped there. The agent must
 * notice (no receipt, the node no longer holds it, its nonce is the chain's next), look at the settlement's
 * record, send the step again on the freed nonce, and settle the payment once, leaving no nonce gap behind.
 */
import { expect } from "chai";
import { HDNodeWallet, Mnemonic, type JsonRpcProvider } from "ethers";

import { DUTIES } from "../../src/chain/networks.js";
import { PUBLIC_TEST_MNEMONIC } from "../../src/chain/published-keys.js";
import { BankAgent, type BankDirectoryEntry } from "../../src/settlement/agent.js";
import { SETTLEMENT_EVENTS } from "../../src/settlement/bookings.js";
import { settlementIdOf } from "../../src/settlement/terms.js";
import { Store } from "../../src/store/store.js";
import { startBenchChain, type BenchChain } from "../../bench/lib/anvil.js";
import { expectBalanced, http, until, waitForPayment } from "./helpers.js";

const devnetKey = (duty: string, provider: JsonRpcProvider) =>
  HDNodeWallet.fromMnemonic(
    Mnemonic.fromPhrase(PUBLIC_TEST_MNEMONIC),
    `m/44'/60'/0'/0/${DUTIES.find((d) => d.name === duty)!.devnetIndex}`,
  ).connect(provider);

describe("settlement: an agent whose transaction the node drops (Anvil)", function () {
  this.timeout(120_000);
  let chain: BenchChain | undefined;
  const agents: BankAgent[] = [];
  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
    await chain?.stop();
    chain = undefined;
  });

  it("sends the step again on the freed nonce and settles the payment once", async function () {
    chain = await startBenchChain({ folderPrefix: "bank-chain-dropped-", cacheTimeout: -1 });
    const { provider } = chain;
    const banks: BankDirectoryEntry[] = [
      { id: "A", trustAccount: chain.address("TrustAccountBankA") },
      { id: "B", trustAccount: chain.address("TrustAccountBankB") },
    ];
    const lines: string[] = [];
    const agent = (bank: "A" | "B") =>
      new BankAgent({
        store: Store.open({ path: ":memory:" }),
        provider,
        signer: devnetKey(bank === "A" ? "bankA" : "bankB", provider),
        settlement: chain!.address("InterbankSettlement"),
        bankId: bank,
        banks,
        currency: "USD",
        confirmations: 0,
        port: 0,
        pollIntervalMs: 10,
        headPollMs: 5,
        receiptTimeoutMs: 500,
        log: (line) => lines.push(line),
      });
    const a = agent("A");
    const b = agent("B");
    agents.push(a, b);
    a.openCustomerAccount({ id: "alice", name: "Alice", deposit: 1_000_000n });
    b.openCustomerAccount({ id: "bob", name: "Bob" });
    await b.start();
    await a.start();
    const agentA = await devnetKey("bankA", provider).getAddress();
    const nonceBefore = await provider.getTransactionCount(agentA, "latest");

    await provider.send("evm_setAutomine", [false]);
    const posted = await http(`${a.url}/payments`, "POST", {
      debtorAccount: "alice",
      creditorBank: "B",
      creditorAccount: "bob",
      amount: "1234",
      currency: "USD",
      endToEndId: "DROPPED-1",
    });
    expect(posted.status).to.equal(202);
    // The initiate waits in the pool; the node drops it.
    const pooled = async () =>
      Object.keys(
        ((await provider.send("txpool_content", [])) as { pending: Record<string, Record<string, { hash: string }>> })
          .pending[agentA.toLowerCase()] ?? {},
      ).length;
    await until("A's initiate in the pool", async () => (await pooled()) === 1);
    const content = (await provider.send("txpool_content", [])) as {
      pending: Record<string, Record<string, { hash: string; nonce: string }>>;
    };
    const first = Object.values(content.pending[agentA.toLowerCase()]!)[0]!;
    expect(Number(first.nonce)).to.equal(nonceBefore);
    await provider.send("anvil_dropTransaction", [first.hash]);
    await provider.send("evm_mine", []);

    // The agent sees it dropped, checks the record (none), and sends the step again on the same nonce.
    await until("A's initiate sent again", async () => (await pooled()) === 1, 20_000);
    const again = Object.values(
      ((await provider.send("txpool_content", [])) as typeof content).pending[agentA.toLowerCase()]!,
    )[0]!;
    expect(again.hash).to.not.equal(first.hash);
    expect(Number(again.nonce)).to.equal(nonceBefore);
    expect(lines.some((line) => /initiate DROPPED-1 failed, will retry: .*no longer holds/.test(line))).to.equal(true);

    await provider.send("evm_setAutomine", [true]);
    await provider.send("evm_mine", []);
    const done = await waitForPayment(a, "DROPPED-1", (p) => p.status === "Acknowledged", 30_000);
    expect(done.debtor.status).to.equal("Acknowledged");
    await until("B saw it acknowledged", () => b.payment("DROPPED-1", "inbound")?.debtor.status === "Acknowledged");
    expect(await provider.getTransactionReceipt(first.hash)).to.equal(null);
    // Initiated once on chain, and A's transactions used every nonce from the first on, with no gap.
    const initiated = await provider.getLogs({
      address: chain.address("InterbankSettlement"),
      topics: [SETTLEMENT_EVENTS.getEvent("SettlementInitiated").topicHash, settlementIdOf("DROPPED-1")],
      fromBlock: 0,
    });
    expect(initiated).to.have.length(1);
    const latest = await provider.getTransactionCount(agentA, "latest");
    expect(await provider.getTransactionCount(agentA, "pending")).to.equal(latest);
    expect(latest).to.equal(nonceBefore + 2); // the initiate (sent again) and the acknowledgement
    expectBalanced(a, b);
  });
});
