import { expect } from "chai";
import { JsonRpcProvider, Network, parseEther, Wallet } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { HeadWatcher } from "../../src/chain/heads.js";
import { TxDroppedError, TxQueue } from "../../src/chain/tx-queue.js";
import { freePort } from "../helpers/processes.js";

describe("chain/tx-queue and chain/heads on Anvil (a node that mines after it answers)", function () {
  this.timeout(60_000);
  let anvil: Anvil;
  let provider: JsonRpcProvider;
  before(async function () {
    const port = await freePort();
    anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: `http://127.0.0.1:${port}` } });
    const network = Network.from(31337);
    provider = new JsonRpcProvider(anvil.url, network, { staticNetwork: network, cacheTimeout: -1 });
  });
  after(async function () {
    provider?.destroy();
    await anvil?.stop();
  });
  afterEach(async function () {
    await provider.send("evm_setAutomine", [true]);
  });

  /** A new key with 1 ETH. */
  const funded = async () => {
    const wallet = Wallet.createRandom().connect(provider);
    await provider.send("anvil_setBalance", [wallet.address, "0x" + parseEther("1").toString(16)]);
    return wallet;
  };
  const transfer = (to: string) => ({ to, value: parseEther("0.001"), gasLimit: 21_000n });

  it("sends 30 transfers back to back, numbering the nonces itself: 30 distinct, consecutive, all mined", async function () {
    const wallet = await funded();
    const queue = new TxQueue({ provider, signer: wallet, receiptPollMs: 10 });
    const start = await provider.getTransactionCount(wallet.address, "pending");
    const to = Wallet.createRandom().address;
    const sent = await Promise.all(Array.from({ length: 30 }, () => queue.send(transfer(to))));
    expect(sent.map((tx) => tx.nonce)).to.deep.equal(Array.from({ length: 30 }, (_, i) => start + i));
    const receipts = await Promise.all(sent.map((tx) => tx.mined));
    expect(receipts.every((receipt) => receipt.status === 1)).to.equal(true);
    expect(await provider.getBalance(to)).to.equal(parseEther("0.03"));
    expect(queue.inFlight).to.equal(0);
  });

  it("a dropped transaction: its wait fails as dropped, the next send takes its nonce; one behind the gap is never called dropped early", async function () {
    const wallet = await funded();
    const queue = new TxQueue({ provider, signer: wallet, receiptPollMs: 10, receiptTimeoutMs: 300 });
    const to = Wallet.createRandom().address;
    await provider.send("evm_setAutomine", [false]);
    const first = await queue.send(transfer(to));
    const second = await queue.send(transfer(to));
    expect(second.nonce).to.equal(first.nonce + 1);
    const secondWait = second.mined.catch((error: unknown) => error);
    // Anvil drops the transactions queued behind a dropped one too; a node need not show either.
    await provider.send("anvil_dropTransaction", [first.hash]);
    expect(await provider.send("txpool_status", [])).to.deep.equal({ pending: "0x0", queued: "0x0" });
    await provider.send("evm_mine", []);
    const dropped = await first.mined.catch((error: unknown) => error);
    expect(dropped).to.be.instanceOf(TxDroppedError);
    expect((dropped as TxDroppedError).code).to.equal("CHAIN_TX_DROPPED");
    expect((dropped as TxDroppedError).details).to.deep.equal({ hash: first.hash, nonce: first.nonce });
    // Its nonce is above the open one: overdue (looked at again later), not dropped.
    expect(await secondWait).to.have.property("code", "CHAIN_TX_OVERDUE");
    // The freed nonces go to the next sends, in order: no gap, and no nonce held by a transaction the node has.
    const third = await queue.send(transfer(to));
    const fourth = await queue.send(transfer(to));
    expect([third.nonce, fourth.nonce]).to.deep.equal([first.nonce, first.nonce + 1]);
    await provider.send("evm_mine", []);
    expect((await third.mined).status).to.equal(1);
    expect((await fourth.mined).status).to.equal(1);
    expect(await provider.getTransactionReceipt(second.hash)).to.equal(null);
    expect(await provider.getTransactionCount(wallet.address, "latest")).to.equal(first.nonce + 2);
    expect(await provider.getBalance(to)).to.equal(parseEther("0.002"));
  });

  it("after a send the node refused, the next reads the count again: no gap, no reuse", async function () {
    const wallet = await funded();
    const queue = new TxQueue({ provider, signer: wallet, receiptPollMs: 10 });
    const to = Wallet.createRandom().address;
    const first = await queue.send(transfer(to));
    const refused = await queue.send({ to, value: parseEther("5"), gasLimit: 21_000n }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(Error);
    const next = await queue.send(transfer(to));
    expect(next.nonce).to.equal(first.nonce + 1);
    expect((await next.mined).status).to.equal(1);
  });

  it("a transaction sent with the same key from elsewhere: the queue's send fails once, the one after takes the right nonce", async function () {
    const wallet = await funded();
    const queue = new TxQueue({ provider, signer: wallet, receiptPollMs: 10 });
    const to = Wallet.createRandom().address;
    const first = await queue.send(transfer(to));
    await first.mined;
    // Another sender of the same key takes the nonce the queue counted on.
    await (await wallet.sendTransaction({ ...transfer(to), nonce: first.nonce + 1 })).wait();
    expect(await queue.send(transfer(to)).catch((e: unknown) => e)).to.be.instanceOf(Error);
    const after = await queue.send(transfer(to));
    expect(after.nonce).to.equal(first.nonce + 2);
    expect((await after.mined).status).to.equal(1);
  });

  it("close() ends the waits under way (the transactions are looked at again later)", async function () {
    const wallet = await funded();
    const queue = new TxQueue({ provider, signer: wallet, receiptPollMs: 10 });
    await provider.send("evm_setAutomine", [false]);
    const sent = await queue.send(transfer(Wallet.createRandom().address));
    queue.close();
    expect(await sent.mined.catch((e: unknown) => e)).to.have.property("code", "CHAIN_TX_OVERDUE");
    expect(queue.inFlight).to.equal(0);
  });

  it("HeadWatcher tells of each new block once, within its poll, and stops", async function () {
    const heads: number[] = [];
    const watcher = new HeadWatcher({ provider, pollMs: 5 });
    const off = watcher.onHead((head) => heads.push(head));
    watcher.start();
    try {
      const until = async (predicate: () => boolean) => {
        const deadline = Date.now() + 5_000;
        while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      await until(() => heads.length === 1);
      const first = heads[0]!;
      expect(first).to.equal(await provider.getBlockNumber());
      await provider.send("evm_mine", []);
      await until(() => heads.length === 2);
      await provider.send("evm_mine", []);
      await until(() => heads.length === 3);
      expect(heads).to.deep.equal([first, first + 1, first + 2]);
      expect(watcher.head).to.equal(first + 2);
    } finally {
      await watcher.stop();
      off();
    }
    await provider.send("evm_mine", []);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heads).to.have.length(3);
  });
});
