import { expect } from "chai";
import { JsonRpcProvider, NonceManager, parseEther, Wallet, type TransactionReceipt } from "ethers";

import { startAnvil, type Anvil } from "../../src/chain/devnet.js";
import { mined, ReceiptTimeoutError, waitForReceipt } from "../../src/chain/receipts.js";
import { freePort } from "../helpers/processes.js";

/** Hardhat's test mnemonic account 0, which Anvil funds. */
const FUNDED = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("chain/receipts: waiting for a receipt by asking for it", function () {
  it("returns the receipt that appears after the first question, with no new block", async function () {
    // The shape that hangs ethers' tx.wait(): not mined at the first question, mined right after, no block after that.
    let asked = 0;
    const receipt = { hash: "0x01", status: 1 } as unknown as TransactionReceipt;
    const provider = { getTransactionReceipt: async () => (++asked < 3 ? null : receipt) };
    expect(await waitForReceipt(provider, "0x01", { pollMs: 1 })).to.equal(receipt);
    expect(asked).to.equal(3);
  });

  it("gives up after timeoutMs with a typed error naming the hash", async function () {
    const provider = { getTransactionReceipt: async () => null };
    const error = await waitForReceipt(provider, "0xabc", { timeoutMs: 30, pollMs: 5 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ReceiptTimeoutError);
    expect((error as ReceiptTimeoutError).code).to.equal("CHAIN_RECEIPT_TIMEOUT");
    expect((error as ReceiptTimeoutError).details).to.deep.equal({ hash: "0xabc" });
  });

  describe("on Anvil, which mines after it answers", function () {
    this.timeout(60_000);
    let anvil: Anvil;
    before(async function () {
      const port = await freePort();
      anvil = await startAnvil({ endpoint: { host: "127.0.0.1", port, url: `http://127.0.0.1:${port}` } });
    });
    after(async function () {
      await anvil?.stop();
    });

    it("sees every one of 40 transfers mined, one after another", async function () {
      const provider = new JsonRpcProvider(anvil.url, undefined, { pollingInterval: 50 });
      try {
        const wallet = new NonceManager(new Wallet(FUNDED, provider));
        const to = Wallet.createRandom().address;
        for (let i = 0; i < 40; i += 1) {
          const receipt = await mined(await wallet.sendTransaction({ to, value: parseEther("0.001") }));
          expect(receipt.status).to.equal(1);
        }
        expect(await provider.getBalance(to)).to.equal(parseEther("0.04"));
      } finally {
        provider.destroy();
      }
    });
  });
});
