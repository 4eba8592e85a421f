/**
 * `offline-merchant`: the devnet's merchant terminal as `npm start` builds it, on the in-process chain with the
 * suite deployed, paid by buyers through the real offline protocol (session offer, encrypted channel, vouchers),
 * its vouchers submitted on chain only through `POST /sync`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet } from "ethers";

import { publishedKeyIndex } from "../../src/chain/published-keys.js";
import type { Service, ServiceContext } from "../../src/chain/service.js";
import { connectToMerchant } from "../../src/offline/channel.js";
import { paymentRequestSchema, PROTOCOL_VERSION } from "../../src/offline/protocol.js";
import { DEVNET_MERCHANT_KEY, offlineMerchantService } from "../../src/offline/service.js";
import { VOUCHER_TYPES, vaultDomain, voucherToJson, type Voucher } from "../../src/offline/voucher.js";
import { call } from "../helpers/http.js";
import { suiteChain } from "../helpers/suite.js";
import { world, type World } from "./helpers.js";

const MERCHANT = "0xcd3B766CCDd6AE721141F452C550Ca635964ce71";

describe("offline-merchant: the merchant terminal service", function () {
  this.timeout(180_000);
  let w: World;
  let dir: string;
  let context: ServiceContext;
  let service: Service | undefined;
  let url: string;
  const logs: string[] = [];

  async function start(env: Record<string, string> = {}): Promise<string> {
    service = await offlineMerchantService({ env: { OFFLINE_MERCHANT_PORT: "0", ...env } }).create(context);
    await service.start();
    url = service.url!;
    return url;
  }

  async function stop(): Promise<void> {
    const running = service;
    service = undefined;
    await running?.stop();
  }

  /** Waits until the offer leaves `open`. */
  async function settled(offerId: string): Promise<Record<string, string | null>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const reply = await call(`${url}/offers/${offerId}`);
      expect(reply.status).to.equal(200);
      if (reply.body.state !== "open") return reply.body;
      if (Date.now() > deadline) throw new Error(`offer ${offerId} still open`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function offer(amount: string): Promise<{ offerId: string; offer: string }> {
    const reply = await call(`${url}/offers`, "POST", { amount });
    expect(reply.status, JSON.stringify(reply.body)).to.equal(201);
    expect(reply.body).to.include({ amount, state: "open", voucher: null });
    expect(reply.body.offer).to.match(/^bcoffer1:/);
    return reply.body;
  }

  async function redemptions(hash: string): Promise<number> {
    return (await w.vault.queryFilter(w.vault.filters.VoucherRedeemed(hash))).length;
  }

  before(async function () {
    w = await world();
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-offline-terminal-"));
    context = {
      chain: suiteChain(w.suite),
      deployments: w.suite.deployments,
      dataDir: dir,
      log: (line) => void logs.push(line),
    };
    await start();
  });

  after(async function () {
    await stop().catch(() => undefined);
    w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is the devnet's account 15, whose key is the published one", function () {
    expect(publishedKeyIndex(DEVNET_MERCHANT_KEY)).to.equal(15);
    expect(new Wallet(DEVNET_MERCHANT_KEY).address).to.equal(MERCHANT);
  });

  it("answers a bad query or body with 400 naming the field, an unknown offer with 404", async function () {
    const bad: Array<[string, string, unknown, string]> = [
      ["GET", "/vouchers?state=paid", undefined, "state"],
      ["GET", "/vouchers?limit=0", undefined, "limit"],
      ["GET", "/vouchers?cursor=bm90LWEtaGFzaA", undefined, "cursor"],
      ["POST", "/offers", { amount: "0" }, "amount"],
      ["POST", "/offers", { amount: "-5" }, "amount"],
      ["POST", "/offers", { amount: 1500 }, "amount"],
      ["POST", "/offers", { amount: "1.50" }, "amount"],
      ["POST", "/offers", {}, "amount"],
      ["POST", "/offers", { amount: "10", merchant: "0x00" }, "merchant"],
      ["GET", "/offers/not-an-id", undefined, "id"],
    ];
    for (const [method, route, body, field] of bad) {
      const reply = await call(`${url}${route}`, method, body);
      expect(reply.status, `${method} ${route} ${JSON.stringify(body)}`).to.equal(400);
      expect(reply.body.error.field, route).to.equal(field);
    }
    const missing = await call(`${url}/offers/0x${"0".repeat(32)}`);
    expect([missing.status, missing.body.error.code]).to.deep.equal([404, "OFFLINE_OFFER_NOT_FOUND"]);
  });

  let paidHash: string;

  it("takes a voucher a buyer offers through the offline protocol and holds it pending, nothing on chain", async function () {
    const before = await w.suite.token.balanceOf(MERCHANT);
    const { offerId, offer: text } = await offer("1500");
    const paid = await w.buyer("buyer.sqlite").pay(text, { max: 1500n });
    expect(paid.decision.outcome).to.equal("accepted");
    expect(paid.request.merchant).to.equal(MERCHANT);
    paidHash = paid.voucherHash;
    expect(await settled(offerId)).to.include({ state: "accepted", voucher: paidHash, reason: null });

    const { items, counts, nextCursor } = (await call(`${url}/vouchers`)).body;
    expect(nextCursor).to.equal(null);
    expect(items).to.have.length(1);
    expect(items[0]).to.deep.include({
      hash: paidHash,
      payer: w.payer.address,
      amount: "1500",
      sequence: "1",
      state: "pending",
      kind: "secured",
      tx: null,
    });
    expect(Date.parse(items[0].acceptedAt)).to.be.closeTo(Date.now(), 60_000);
    expect(counts).to.deep.include({ pending: 1, settled: 0 });
    expect(await redemptions(paidHash)).to.equal(0);
    expect(await w.suite.token.balanceOf(MERCHANT)).to.equal(before);
  });

  it("refuses a double spend: a buyer who signs the same sequence again", async function () {
    // The same payer with its lane state lost signs sequence 1 of the lane again, for another amount.
    const { offerId, offer: text } = await offer("700");
    const again = await w.buyer("buyer-forgetful.sqlite").pay(text, { max: 700n });
    expect(again.decision).to.include({ outcome: "refused", reason: "duplicate_sequence" });
    expect(await settled(offerId)).to.include({ state: "refused", reason: "duplicate_sequence", voucher: null });
    const { counts, items } = (await call(`${url}/vouchers`)).body;
    expect(items.map((v: { hash: string }) => v.hash)).to.deep.equal([paidHash]);
    expect(counts.pending).to.equal(1);
  });

  it("refuses a forged voucher: the payer's name under another key's signature", async function () {
    const { offerId, offer: text } = await offer("900");
    const channel = await connectToMerchant(text);
    try {
      const request = paymentRequestSchema.parse(await channel.receive(10_000));
      const voucher: Voucher = {
        payer: w.payer.address,
        merchant: request.merchant,
        amount: BigInt(request.amount),
        // The lane's next link after the voucher held: only the signature is wrong.
        lane: BigInt(request.lane),
        sequence: 2n,
        previousVoucherHash: paidHash,
        validAfter: BigInt(request.validAfter),
        validBefore: BigInt(request.validBefore),
      };
      const forger = Wallet.createRandom();
      const domain = vaultDomain(BigInt(request.chainId), request.vault);
      await channel.send({
        type: "voucher_offer",
        version: PROTOCOL_VERSION,
        requestId: request.requestId,
        kind: "secured",
        voucher: voucherToJson(voucher),
        signature: await forger.signTypedData(domain, VOUCHER_TYPES, { ...voucher }),
      });
      expect(await channel.receive(10_000)).to.include({ outcome: "refused", reason: "bad_signature" });
    } finally {
      await channel.close();
    }
    expect(await settled(offerId)).to.include({ state: "refused", reason: "bad_signature" });
    expect((await call(`${url}/vouchers`)).body.items).to.have.length(1);
  });

  let openOffer: string;

  it("loses nothing across a restart between accept and sync; an offer open at the stop is closed", async function () {
    openOffer = (await offer("300")).offerId;
    const vouchers = (await call(`${url}/vouchers`)).body;
    await stop();
    await start();
    expect((await call(`${url}/vouchers`)).body).to.deep.equal(vouchers);
    expect(await settled(openOffer)).to.include({ state: "closed", voucher: null });
  });

  it("POST /sync redeems a held voucher on chain once; a second round sends nothing", async function () {
    const balance = await w.suite.token.balanceOf(MERCHANT);
    const first = await call(`${url}/sync`, "POST");
    expect(first.status).to.equal(200);
    expect(first.body.outcomes).to.have.length(1);
    const [outcome] = first.body.outcomes;
    expect(outcome).to.include({ hash: paidHash, kind: "secured", state: "settled", paid: "1500" });
    expect(outcome.tx).to.match(/^0x[0-9a-f]{64}$/);
    const receipt = await w.suite.ethers.provider.getTransactionReceipt(outcome.tx);
    expect(receipt?.from).to.equal(MERCHANT);
    expect(await redemptions(paidHash)).to.equal(1);
    expect(await w.suite.token.balanceOf(MERCHANT)).to.equal(balance + 1500n);

    const nonce = await w.suite.ethers.provider.getTransactionCount(MERCHANT);
    const second = await call(`${url}/sync`, "POST");
    expect(second.body).to.deep.equal({ outcomes: [] });
    expect(await w.suite.ethers.provider.getTransactionCount(MERCHANT)).to.equal(nonce);
    expect(await redemptions(paidHash)).to.equal(1);

    const held = (await call(`${url}/vouchers?state=settled`)).body;
    expect(held.items).to.have.length(1);
    expect(held.items[0]).to.include({ hash: paidHash, state: "settled", tx: outcome.tx, paid: "1500" });
    expect(held.counts).to.deep.include({ pending: 0, settled: 1 });
    expect((await call(`${url}/vouchers?state=pending`)).body.items).to.deep.equal([]);
  });

  it("pages its vouchers newest first", async function () {
    const { offer: text } = await offer("400");
    const paid = await w.buyer("buyer.sqlite").pay(text, { max: 400n });
    expect(paid.decision.outcome).to.equal("accepted");
    const first = (await call(`${url}/vouchers?limit=1`)).body;
    expect(first.items.map((v: { hash: string }) => v.hash)).to.deep.equal([paid.voucherHash]);
    expect(first.items[0]).to.include({ sequence: "2", state: "pending" });
    const second = (await call(`${url}/vouchers?limit=1&cursor=${first.nextCursor}`)).body;
    expect(second.items.map((v: { hash: string }) => v.hash)).to.deep.equal([paidHash]);
    expect(second.nextCursor).to.equal(null);
  });

  it("runs two POST /sync at once one after the other: one transaction for the voucher", async function () {
    const [pending] = (await call(`${url}/vouchers?state=pending`)).body.items;
    const nonce = await w.suite.ethers.provider.getTransactionCount(MERCHANT);
    const rounds = await Promise.all([call(`${url}/sync`, "POST"), call(`${url}/sync`, "POST")]);
    const outcomes = rounds.flatMap((r) => r.body.outcomes);
    expect(outcomes.map((o: { hash: string; state: string }) => [o.hash, o.state])).to.deep.equal([
      [pending.hash, "settled"],
    ]);
    expect(await w.suite.ethers.provider.getTransactionCount(MERCHANT)).to.equal(nonce + 1);
    expect(await redemptions(pending.hash)).to.equal(1);
  });

  it("submits by itself every OFFLINE_MERCHANT_SYNC_SECONDS", async function () {
    await stop();
    await start({ OFFLINE_MERCHANT_SYNC_SECONDS: "1" });
    const paid = await w.buyer("buyer.sqlite").pay((await offer("250")).offer, { max: 250n });
    expect(paid.decision.outcome).to.equal("accepted");
    const deadline = Date.now() + 20_000;
    const open = async () => {
      const { counts } = (await call(`${url}/vouchers`)).body;
      return counts.pending + counts.submitting;
    };
    while ((await open()) > 0) {
      if (Date.now() > deadline) throw new Error(`still pending:\n${logs.slice(-5).join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await call(`${url}/vouchers`)).body.counts).to.deep.include({ pending: 0, submitting: 0, settled: 3 });
    expect(await redemptions(paid.voucherHash)).to.equal(1);
  });

  it("off the devnet, refuses to start without the merchant's own key", async function () {
    const elsewhere: ServiceContext = { ...context, chain: { ...context.chain, chainId: 11_155_111n } };
    const attempt = (env: Record<string, string>) =>
      Promise.resolve()
        .then(() => offlineMerchantService({ env: { OFFLINE_MERCHANT_PORT: "0", ...env } }).create(elsewhere))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
    const unset = await attempt({});
    expect(unset).to.have.property("code", "SETTING_REQUIRED");
    expect((unset as Error).message).to.include("OFFLINE_MERCHANT_KEY");
    expect(await attempt({ OFFLINE_MERCHANT_KEY: DEVNET_MERCHANT_KEY })).to.have.property("code", "SETTING_PUBLISHED");
    // Any of the public test mnemonic's keys, not only account 15's.
    const published = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    expect(publishedKeyIndex(published)).to.equal(2);
    expect(await attempt({ OFFLINE_MERCHANT_KEY: published })).to.have.property(
      "code",
      "OFFLINE_MERCHANT_PUBLISHED_KEY",
    );
  });
});
