import { createConnection, createServer, type AddressInfo, type Socket } from "node:net";

import { expect } from "chai";
import { hexlify, JsonRpcProvider, randomBytes, Wallet } from "ethers";

import { connectToMerchant } from "../../src/offline/channel.js";
import type { Merchant } from "../../src/offline/merchant.js";
import { PROTOCOL_VERSION, type PaymentRequest, type RefusalReason } from "../../src/offline/protocol.js";
import { decodeOffer, encodeOffer } from "../../src/offline/session.js";
import { VoucherSync } from "../../src/offline/sync.js";
import { type TypedDataSigner, type Voucher } from "../../src/offline/voucher.js";
import { freePort } from "../helpers/processes.js";
import { securedOffer, session, world, type World } from "./helpers.js";

describe("offline: payments between a merchant and a buyer", function () {
  let w: World;

  beforeEach(async function () {
    w = await world();
  });

  afterEach(function () {
    w.close();
  });

  const merchantSigner = () => w.suite.others[1]!;

  async function signed(
    merchant: Merchant,
    request: PaymentRequest,
    overrides: Partial<Voucher> = {},
    signer: TypedDataSigner = w.payer,
  ): Promise<Record<string, unknown>> {
    return (await securedOffer(merchant, request, w.payer.address, overrides, signer)).offer;
  }

  it("pays offline with the RPC unreachable, then settles on chain when it is back", async function () {
    const { suite, vault, vaultAddress, payer } = w;
    const m = merchantSigner();
    const merchant = w.merchant(m);
    await merchant.syncView(suite.ethers.provider, vaultAddress);

    // Offline now: the merchant's RPC is a closed port, so it keeps its stored view.
    const closed = new JsonRpcProvider(`http://127.0.0.1:${await freePort()}`, 31337, { staticNetwork: true });
    try {
      let failed = false;
      await merchant.syncView(closed, vaultAddress).catch(() => (failed = true));
      expect(failed).to.equal(true);
    } finally {
      closed.destroy();
    }

    const buyer = w.buyer("buyer.sqlite");
    const { outcome, paid } = await session(merchant, 1_500n, (offer) => buyer.pay(offer, { max: 2_000n }));
    expect(outcome.error).to.equal(undefined);
    expect(paid?.decision.outcome).to.equal("accepted");
    const stored = merchant.store.voucher(paid!.voucherHash);
    expect(stored?.state).to.equal("pending");
    expect(stored?.kind).to.equal("secured");
    // The off-chain hash is the vault's.
    expect(
      await vault.hashVoucher({
        payer: stored!.payer,
        merchant: stored!.merchant,
        amount: stored!.amount,
        lane: stored!.lane!,
        sequence: stored!.sequence!,
        previousVoucherHash: stored!.previousHash!,
        validAfter: stored!.validAfter,
        validBefore: stored!.validBefore,
      }),
    ).to.equal(stored!.hash);
    expect((await buyer.laneState(31337n, vaultAddress, merchant.lane)).nextSequence).to.equal(2n);

    // A second payment chains on the first, still offline.
    const second = await session(merchant, 700n, (offer) => buyer.pay(offer, { max: 2_000n }));
    expect(second.paid?.decision.outcome).to.equal("accepted");

    const balanceBefore = await suite.token.balanceOf(m.address);
    const lockedBefore = await vault.lockedOf(payer.address);
    const outcomes = await new VoucherSync({ store: merchant.store, signer: m }).runOnce();
    expect(outcomes.map((o) => o.state)).to.deep.equal(["settled", "settled"]);
    expect(await suite.token.balanceOf(m.address)).to.equal(balanceBefore + 2_200n);
    expect(await vault.lockedOf(payer.address)).to.equal(lockedBefore - 2_200n);
    expect(await new VoucherSync({ store: merchant.store, signer: m }).runOnce()).to.deep.equal([]);
  });

  it("slashes a buyer who spends the same lane and sequence at two merchants", async function () {
    const { suite, vault, vaultAddress, payer } = w;
    const [x, y] = [suite.others[1]!, suite.others[2]!];
    const merchantX = w.merchant(x, { lane: 7n });
    const merchantY = w.merchant(y, { lane: 7n });
    await merchantX.syncView(suite.ethers.provider, vaultAddress);
    await merchantY.syncView(suite.ethers.provider, vaultAddress);
    // The cheat: the same wallet with two lane states (a rolled-back state file).
    const atX = await session(merchantX, 3_000n, (offer) => w.buyer("a.sqlite").pay(offer, { max: 5_000n }));
    const atY = await session(merchantY, 4_000n, (offer) => w.buyer("b.sqlite").pay(offer, { max: 5_000n }));
    expect(atX.paid?.decision.outcome).to.equal("accepted");
    expect(atY.paid?.decision.outcome).to.equal("accepted");

    const yBefore = await suite.token.balanceOf(y.address);
    const [settled] = await new VoucherSync({ store: merchantX.store, signer: x }).runOnce();
    expect(settled?.state).to.equal("settled");
    const [slashed] = await new VoucherSync({ store: merchantY.store, signer: y }).runOnce();
    expect(slashed?.state).to.equal("slashed");
    expect(slashed?.paid).to.equal(4_000n);
    expect(await suite.token.balanceOf(y.address)).to.equal(yBefore + 4_000n);
    expect(await vault.isCheater(payer.address)).to.equal(true);

    // After a sync, both merchants refuse the cheater.
    await merchantX.syncView(suite.ethers.provider, vaultAddress);
    const again = await session(merchantX, 100n, (offer) => w.buyer("a.sqlite").pay(offer, { max: 5_000n }));
    expect(again.outcome.decision).to.include({ outcome: "refused", reason: "payer_cheater" });
  });

  it("refuses bad vouchers with a named reason and stores none of them", async function () {
    const { suite, vaultAddress } = w;
    let clock = Date.now();
    const merchant = w.merchant(merchantSigner(), { clock: { now: () => clock }, maxViewAgeMs: 3_600_000 });
    await merchant.syncView(suite.ethers.provider, vaultAddress);
    const request = merchant.createRequest(1_000n);
    const now = BigInt(Math.floor(clock / 1000));
    const stranger = Wallet.createRandom();
    const cases: Array<[string, RefusalReason, () => Promise<unknown>, PaymentRequest?]> = [
      ["expired", "expired", () => signed(merchant, request, { validAfter: now - 7_200n, validBefore: now - 3_600n })],
      ["not yet valid", "not_yet_valid", () => signed(merchant, request, { validAfter: now + 600n })],
      ["too long", "too_long", () => signed(merchant, request, { validAfter: now - 10n, validBefore: now + 200_000n })],
      ["forged", "bad_signature", () => signed(merchant, request, {}, stranger)],
      ["wrong merchant", "wrong_merchant", () => signed(merchant, request, { merchant: stranger.address })],
      ["wrong amount", "wrong_amount", () => signed(merchant, request, { amount: 999n })],
      [
        "broken chain",
        "broken_chain",
        () => signed(merchant, request, { previousVoucherHash: hexlify(randomBytes(32)) }),
      ],
      ["sequence gap", "sequence_gap", () => signed(merchant, request, { sequence: 3n })],
      ["malformed", "malformed", async () => ({ type: "voucher_offer", kind: "secured", amount: 12 })],
    ];
    for (const [name, reason, make] of cases) {
      const result = merchant.checkAndStore(request, await make());
      expect(result, name).to.deep.include({ ok: false, reason });
    }
    const big = merchant.createRequest(60_000n);
    expect(merchant.checkAndStore(big, await signed(merchant, big))).to.deep.include({
      ok: false,
      reason: "over_voucher_limit",
    });
    expect(merchant.store.all()).to.deep.equal([]);

    // A good one is stored; the same sequence again is a double-spend attempt; the limits count what is held.
    expect(merchant.checkAndStore(request, await signed(merchant, request)).ok).to.equal(true);
    const r2 = merchant.createRequest(1_000n);
    expect(merchant.checkAndStore(r2, await signed(merchant, r2))).to.deep.include({
      ok: false,
      reason: "duplicate_sequence",
    });
    const held = merchant.store.all()[0]!;
    let previous = held.hash;
    for (let sequence = 2n; sequence <= 3n; sequence++) {
      const r = merchant.createRequest(50_000n);
      const offer = await signed(merchant, r, { sequence, previousVoucherHash: previous });
      const result = merchant.checkAndStore(r, offer);
      if (sequence === 2n) {
        expect(result.ok).to.equal(true);
        previous = result.ok ? result.voucher.hash : previous;
      } else {
        expect(result).to.deep.include({ ok: false, reason: "over_lane_limit" }); // 1 000 + 50 000 + 50 000 > 100 000
      }
    }
    expect(merchant.store.all()).to.have.length(2);

    // A view older than the maximum age refuses everything.
    clock += 3_600_001;
    const late = merchant.createRequest(10n);
    expect(
      merchant.checkAndStore(late, await signed(merchant, late, { sequence: 3n, previousVoucherHash: previous })),
    ).to.deep.include({
      ok: false,
      reason: "stale_view",
    });
  });

  it("refuses a voucher over the buyer's locked funds and over a pending withdrawal", async function () {
    const { suite, vault, vaultAddress, payer } = w;
    await vault.connect(payer).requestWithdrawal(80_000n);
    const merchant = w.merchant(merchantSigner());
    await merchant.syncView(suite.ethers.provider, vaultAddress);
    const r = merchant.createRequest(30_000n);
    expect(merchant.checkAndStore(r, await signed(merchant, r))).to.deep.include({
      ok: false,
      reason: "withdrawal_pending",
    });
    const s = merchant.createRequest(20_000n);
    expect(merchant.checkAndStore(s, await signed(merchant, s)).ok).to.equal(true);
  });

  it("a tampered frame is refused by the channel and nothing is stored", async function () {
    const merchant = w.merchant(merchantSigner());
    await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
    const sockets = new Set<Socket>();
    let target = 0;
    const proxy = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: target });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("error", () => undefined);
      }
      let buffer = Buffer.alloc(0);
      let index = 0;
      client.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
          const frame = Buffer.from(buffer.subarray(0, 4 + buffer.readUInt32BE(0)));
          buffer = buffer.subarray(frame.length);
          if (index++ === 2) frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0x01; // the voucher offer
          upstream.write(frame);
        }
      });
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyPort = (proxy.address() as AddressInfo).port;
    try {
      const buyer = w.buyer("buyer.sqlite");
      const { outcome, payError } = await session(merchant, 500n, (offer) => {
        target = decodeOffer(offer).port;
        return buyer.pay(encodeOffer({ ...decodeOffer(offer), port: proxyPort }), { max: 500n });
      });
      expect(outcome.error).to.match(/authenticat|tamper/i);
      expect(outcome.decision).to.equal(undefined);
      expect(payError).to.be.instanceOf(Error);
      expect(merchant.store.all()).to.deep.equal([]);
      // The voucher was sent without an answer: the buyer's lane is uncertain, not reused.
      const lane = await buyer.laneState(31337n, w.vaultAddress, merchant.lane);
      expect(lane.nextSequence).to.equal(1n);
      expect(lane.inFlight?.sequence).to.equal(1n);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it("accepts an unsecured EIP-3009 voucher, marked unsecured, and settles it", async function () {
    const { suite, vaultAddress, payer } = w;
    const m = merchantSigner();
    const merchant = w.merchant(m);
    await merchant.syncView(suite.ethers.provider, vaultAddress);
    const buyer = w.buyer("buyer.sqlite");
    const { paid } = await session(merchant, 2_500n, (offer) => buyer.pay(offer, { max: 2_500n, kind: "unsecured" }));
    expect(paid?.decision).to.include({ outcome: "accepted", kind: "unsecured" });
    expect(merchant.store.voucher(paid!.voucherHash)).to.include({ kind: "unsecured", state: "pending" });
    const payerBefore = await suite.token.balanceOf(payer.address);
    const merchantBefore = await suite.token.balanceOf(m.address);
    const [outcome] = await new VoucherSync({ store: merchant.store, signer: m }).runOnce();
    expect(outcome).to.include({ state: "settled", kind: "unsecured" });
    expect(await suite.token.balanceOf(m.address)).to.equal(merchantBefore + 2_500n);
    expect(await suite.token.balanceOf(payer.address)).to.equal(payerBefore - 2_500n);

    // The synced balance (900 000) still includes the 2 500 settled since: 900 000 more is refused.
    const { outcome: big } = await session(merchant, 900_000n, (offer) =>
      buyer.pay(offer, { max: 900_000n, kind: "unsecured" }),
    );
    expect(big.decision).to.include({ outcome: "refused", reason: "insufficient_balance" });
  });

  it("survives garbage from a fake buyer and refuses it", async function () {
    const merchant = w.merchant(merchantSigner());
    await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
    for (const garbage of [
      { hello: "world" },
      { type: "voucher_offer", version: 1, requestId: "0x00", kind: "secured", voucher: [], signature: 5 },
      {
        type: "voucher_offer",
        version: PROTOCOL_VERSION,
        requestId: `0x${"ab".repeat(16)}`,
        kind: "unsecured",
        authorization: { from: "0x1", to: "x", value: "-1", validAfter: "1e9", validBefore: "0", nonce: "0x" },
        signature: "0x",
      },
    ]) {
      const { outcome, paid } = await session(merchant, 100n, async (offer) => {
        const channel = await connectToMerchant(offer);
        try {
          await channel.receive(5_000);
          await channel.send(garbage);
          return await channel.receive(5_000);
        } finally {
          await channel.close();
        }
      });
      expect(outcome.error).to.equal(undefined);
      expect(paid).to.include({ outcome: "refused", reason: "malformed" });
    }
    // A buyer that connects and hangs up does not take the merchant down either.
    const { outcome } = await session(merchant, 100n, async (offer) => (await connectToMerchant(offer)).close());
    expect(outcome.decision).to.equal(undefined);
    expect(outcome.error).to.be.a("string");
    expect(merchant.store.all()).to.deep.equal([]);
  });
});
