import { spawn } from "node:child_process";
import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, Wallet } from "ethers";

import { MerchantStore } from "../../src/offline/merchant-store.js";
import { VoucherSync } from "../../src/offline/sync.js";
import { Store } from "../../src/store/store.js";
import { ROOT, runNode, waitForOutput } from "../helpers/processes.js";
import { RpcProxy, session, world, type World } from "./helpers.js";

describe("offline: a merchant killed between accept and sync loses nothing and pays once", function () {
  let w: World;
  let proxy: RpcProxy;
  let rpcUrl: string;

  beforeEach(async function () {
    w = await world();
    proxy = new RpcProxy((payload) => w.suite.connection.provider.request(payload));
    rpcUrl = await proxy.start();
  });

  afterEach(async function () {
    await proxy.stop();
    w.close();
  });

  const redemptions = async (hash: string): Promise<number> =>
    (await w.vault.queryFilter(w.vault.filters.VoucherRedeemed(hash))).length;

  it("SIGKILL after the accepted decision, then `offline sync` twice: exactly one redemption", async function () {
    const file = path.join(w.dir, "merchant.sqlite");
    const merchantKey = Wallet.createRandom();
    // The buyer is the CLI too, fully offline (no --rpc): a fresh key with funds locked before the merchant syncs.
    const buyerKey = Wallet.createRandom();
    const buyer = buyerKey.connect(w.suite.ethers.provider);
    await w.suite.networkHelpers.setBalance(buyer.address, 10n ** 18n);
    await w.suite.trustA.mintForDeposit(buyer.address, 5_000n, encodeBytes32String("offline-cli"));
    await (await w.suite.token.connect(buyer).approve(w.vaultAddress, 5_000n)).wait();
    await (await w.vault.connect(buyer).deposit(5_000n)).wait();
    const child = spawn(
      process.execPath,
      [
        "bin/bank-chain.mjs",
        "--rpc",
        rpcUrl,
        "offline",
        "merchant",
        "--amount",
        "1500",
        "--store",
        file,
        "--vault",
        w.vaultAddress,
        "--json",
      ],
      { cwd: ROOT, env: { ...process.env, BANK_CHAIN_OFFLINE_KEY: merchantKey.privateKey }, stdio: "pipe" },
    );
    child.stdin.end();
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    try {
      const out = await waitForOutput(child, /offer: (bcoffer1:\S+)/, 60_000);
      const offer = /offer: (bcoffer1:\S+)/.exec(out)![1]!;
      expect(out).to.not.include(merchantKey.privateKey.slice(2));
      const decided = waitForOutput(child, /"outcome":"accepted"/, 30_000);
      const paid = await runNode(
        [
          "bin/bank-chain.mjs",
          "offline",
          "buyer",
          "--offer",
          offer,
          "--max",
          "1500",
          "--state",
          path.join(w.dir, "b.sqlite"),
          "--json",
        ],
        { BANK_CHAIN_OFFLINE_KEY: buyerKey.privateKey },
      );
      expect(paid.code, paid.stderr).to.equal(0);
      expect(paid.stdout).to.not.include(buyerKey.privateKey.slice(2));
      expect(JSON.parse(paid.stdout))
        .to.deep.include({ ok: true })
        .and.have.nested.property("decision.outcome", "accepted");
      await decided;
    } finally {
      child.kill("SIGKILL");
      await exited;
    }

    const balanceBefore = await w.suite.token.balanceOf(merchantKey.address);
    const sync = () => runNode(["bin/bank-chain.mjs", "--rpc", rpcUrl, "--json", "offline", "sync", "--store", file]);
    const first = await sync();
    expect(first.code, first.stderr).to.equal(0);
    const outcomes = (JSON.parse(first.stdout) as { outcomes: Array<{ hash: string; state: string }> }).outcomes;
    expect(outcomes).to.have.length(1);
    expect(outcomes[0]!.state).to.equal("settled");
    expect(await redemptions(outcomes[0]!.hash)).to.equal(1);
    expect(await w.suite.token.balanceOf(merchantKey.address)).to.equal(balanceBefore + 1_500n);

    const second = await sync();
    expect(second.code, second.stderr).to.equal(0);
    expect(JSON.parse(second.stdout)).to.deep.equal({ ok: true, outcomes: [] });
    expect(await redemptions(outcomes[0]!.hash)).to.equal(1);
  });

  for (const point of ["afterMarkSubmitting", "afterSend"] as const) {
    it(`\`offline sync\` SIGKILLed at ${point}, then run again: exactly one redemption`, async function () {
      const m = w.suite.others[1]!;
      const merchant = w.merchant(m);
      await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
      const { paid } = await session(merchant, 700n, (offer) => w.buyer("buyer.sqlite").pay(offer, { max: 700n }));
      const hash = paid!.voucherHash;
      const file = merchant.store.store.path;
      const sync = (env: Record<string, string> = {}) =>
        runNode(["bin/bank-chain.mjs", "--rpc", rpcUrl, "--json", "offline", "sync", "--store", file], env);

      const killed = await sync({ BANK_CHAIN_OFFLINE_SYNC_CRASH_AT: point });
      expect(killed.code, killed.stderr).to.equal(null); // died by the signal, not an exit
      expect(merchant.store.voucher(hash)?.state).to.equal("submitting");
      expect(await redemptions(hash)).to.equal(point === "afterSend" ? 1 : 0);

      const resumed = await sync();
      expect(resumed.code, resumed.stderr).to.equal(0);
      const outcomes = (JSON.parse(resumed.stdout) as { outcomes: Array<{ hash: string; state: string }> }).outcomes;
      expect(outcomes.find((o) => o.hash === hash)?.state).to.equal("settled");
      expect(await redemptions(hash)).to.equal(1);
      expect(JSON.parse((await sync()).stdout)).to.deep.equal({ ok: true, outcomes: [] });
      expect(await redemptions(hash)).to.equal(1);
    });

    it(`a sync that dies at ${point} is resumed from the chain: exactly one redemption`, async function () {
      const m = w.suite.others[1]!;
      const merchant = w.merchant(m);
      await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
      const { paid } = await session(merchant, 800n, (offer) => w.buyer("buyer.sqlite").pay(offer, { max: 800n }));
      const hash = paid!.voucherHash;

      // "Kill": the pass hangs forever at the crash point and is abandoned.
      const never = new Promise<void>(() => undefined);
      void new VoucherSync({ store: merchant.store, signer: m, hooks: { [point]: () => never } }).runOnce();
      for (
        let i = 0;
        i < 200 &&
        (merchant.store.voucher(hash)?.state !== "submitting" ||
          (point === "afterSend" && merchant.store.voucher(hash)?.txHash === undefined));
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(merchant.store.voucher(hash)?.state).to.equal("submitting");
      expect(await redemptions(hash)).to.equal(point === "afterSend" ? 1 : 0);

      // Restart: a fresh connection to the same file.
      const reopened = new MerchantStore(Store.open({ path: merchant.store.store.path }));
      try {
        const outcomes = await new VoucherSync({ store: reopened, signer: m }).runOnce();
        expect(outcomes.map((o) => o.state)).to.include("settled");
        expect(reopened.voucher(hash)?.state).to.equal("settled");
        expect(await redemptions(hash)).to.equal(1);
        expect(await new VoucherSync({ store: reopened, signer: m }).runOnce()).to.deep.equal([]);
        expect(await redemptions(hash)).to.equal(1);
      } finally {
        reopened.store.close();
      }
    });
  }
});
