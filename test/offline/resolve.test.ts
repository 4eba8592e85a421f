import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, Wallet } from "ethers";

import { MerchantSession } from "../../src/offline/channel.js";
import { PROTOCOL_VERSION, voucherOfferSchema } from "../../src/offline/protocol.js";
import { voucherFromJson } from "../../src/offline/voucher.js";
import { runNode } from "../helpers/processes.js";
import { RpcProxy, world, type World } from "./helpers.js";

describe("offline: a buyer's lane left uncertain by a dropped session", function () {
  this.timeout(120_000);
  let w: World;
  let proxy: RpcProxy;
  let rpcUrl: string;

  before(async function () {
    w = await world();
    proxy = new RpcProxy((payload) => w.suite.connection.provider.request(payload));
    rpcUrl = await proxy.start();
  });
  after(async function () {
    await proxy.stop();
    w.close();
  });

  it("refuses the lane until `offline resolve` settles it from the chain", async function () {
    const key = Wallet.createRandom();
    const payer = key.connect(w.suite.ethers.provider);
    await w.suite.networkHelpers.setBalance(key.address, 10n ** 18n);
    await (await w.suite.trustA.mintForDeposit(key.address, 5_000n, encodeBytes32String("offline-resolve"))).wait();
    await (await w.suite.token.connect(payer).approve(w.vaultAddress, 5_000n)).wait();
    await (await w.vault.connect(payer).deposit(5_000n)).wait();
    const merchantSigner = w.suite.others[2]!;
    const merchant = w.merchant(merchantSigner);
    await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
    const buyer = w.buyer("uncertain.sqlite", payer);

    // A merchant that takes the voucher and vanishes before it answers.
    const vanish = async () => {
      const session = await MerchantSession.open({ ttlMs: 20_000 });
      const paying = buyer.pay(session.offerText(), { max: 900n });
      paying.catch(() => undefined);
      const channel = await session.accept();
      await channel.send(merchant.createRequest(900n));
      const offer = voucherOfferSchema.parse(await channel.receive(10_000));
      await session.close();
      await paying.then(
        () => expect.fail("the payment should not complete"),
        () => undefined,
      );
      if (offer.kind !== "secured") throw new Error("expected a secured voucher");
      return offer;
    };
    const offer = await vanish();
    expect(offer.version).to.equal(PROTOCOL_VERSION);
    const lane = BigInt(merchantSigner.address);
    const chainId = 31337n;
    const inFlight = (await buyer.laneState(chainId, w.vaultAddress, lane)).inFlight?.hash;
    expect(inFlight).to.be.a("string");
    // The next payment on that lane is refused: signing sequence 1 again would be a double spend.
    const again = await MerchantSession.open({ ttlMs: 20_000 });
    try {
      const refused = buyer.pay(again.offerText(), { max: 900n });
      const channel = await again.accept();
      await channel.send(merchant.createRequest(900n));
      let error: unknown;
      await refused.catch((e: unknown) => (error = e));
      expect(error).to.have.property("code", "OFFLINE_BUYER_LANE_UNCERTAIN");
    } finally {
      await again.close();
    }

    const resolve = (extra: string[] = []) =>
      runNode(
        [
          "bin/bank-chain.mjs",
          "--rpc",
          rpcUrl,
          "offline",
          "resolve",
          "--state",
          path.join(w.dir, "uncertain.sqlite"),
          "--merchant",
          merchantSigner.address,
          "--vault",
          w.vaultAddress,
          ...extra,
        ],
        { BANK_CHAIN_OFFLINE_KEY: key.privateKey },
      );
    // Not on chain yet: the command says so and changes nothing.
    const early = await resolve();
    expect(early.code).to.equal(1);
    expect(early.stderr.trim().split("\n")).to.have.length(1);
    expect(early.stderr).to.match(/^bank-chain: sequence 1 of lane \d+ is not redeemed yet/);
    const earlyJson = await resolve(["--json"]);
    expect(earlyJson.code).to.equal(1);
    const refusal = JSON.parse(earlyJson.stdout) as { ok: boolean; error: { code: string } };
    expect(refusal).to.deep.include({ ok: false });
    expect(refusal.error.code).to.equal("OFFLINE_CLI_UNRESOLVED");
    expect((await buyer.laneState(chainId, w.vaultAddress, lane)).inFlight).to.not.equal(undefined);

    // The merchant had kept it after all and redeems it: the chain settles the question.
    await (await w.vault.redeem(voucherFromJson(offer.voucher), offer.signature)).wait();
    const settled = await resolve(["--json"]);
    expect(settled.code, settled.stderr).to.equal(0);
    expect(JSON.parse(settled.stdout)).to.include({
      ok: true,
      resolved: true,
      outcome: "accepted",
      voucherHash: inFlight,
    });
    const state = await buyer.laneState(chainId, w.vaultAddress, lane);
    expect(state.inFlight).to.equal(undefined);
    expect(state.nextSequence).to.equal(2n);
    const nothing = await resolve(["--outcome", "unused", "--json"]);
    expect(JSON.parse(nothing.stdout)).to.include({ ok: true, resolved: false });
  });
});
