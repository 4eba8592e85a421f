import { expect } from "chai";
import { encodeBytes32String, parseEther, Wallet, ZeroHash } from "ethers";

import { VoucherSync } from "../../src/offline/sync.js";
import { hashVoucher, signVoucher, vaultDomain, VOUCHER_TYPES, type Voucher } from "../../src/offline/voucher.js";
import { session, world, type World } from "./helpers.js";

/**
 * Issue 13's H-1 and H-2 through the merchant's services: whatever a cheating
 * buyer redeems first, every voucher the merchant accepted is paid or owed, and
 * the sync claims what is owed later.
 */
describe("offline: a cheating buyer cannot orphan or starve a merchant's vouchers", function () {
  let w: World;

  beforeEach(async function () {
    w = await world();
  });

  afterEach(function () {
    w.close();
  });

  /** The payer signs and redeems, itself, a voucher to `to` on `lane` (sequence 1), dated now. */
  async function redeemToSelf(to: string, lane: bigint, amount: bigint): Promise<void> {
    const { suite, vault, vaultAddress, payer } = w;
    const now = BigInt((await suite.ethers.provider.getBlock("latest"))!.timestamp);
    const voucher: Voucher = {
      payer: payer.address,
      merchant: to,
      amount,
      lane,
      sequence: 1n,
      previousVoucherHash: ZeroHash,
      validAfter: now - 10n,
      validBefore: now + 3_600n,
    };
    const domain = vaultDomain(31337n, vaultAddress);
    const signature = await payer.signTypedData(domain, VOUCHER_TYPES, { ...voucher });
    await (await vault.connect(payer).redeem(voucher, signature)).wait();
    expect(await vault.isPaid(hashVoucher(domain, voucher))).to.equal(true);
  }

  it("H-1: a double spend on the first voucher does not orphan the rest of the merchant's chain", async function () {
    const { suite, vault, vaultAddress, payer } = w;
    const [x, y] = [suite.others[1]!, suite.others[2]!];
    const merchantX = w.merchant(x, { lane: 7n });
    const merchantY = w.merchant(y, { lane: 7n });
    await merchantX.syncView(suite.ethers.provider, vaultAddress);
    await merchantY.syncView(suite.ethers.provider, vaultAddress);
    // X holds A1 -> A2 -> A3 on lane 7; the buyer, with a rolled-back lane state, pays Y 1.00 on sequence 1.
    const honest = w.buyer("a.sqlite");
    for (let i = 0; i < 3; i++) {
      const paid = await session(merchantX, 30_000n, (offer) => honest.pay(offer, { max: 50_000n }));
      expect(paid.paid?.decision.outcome).to.equal("accepted");
    }
    const cheat = await session(merchantY, 100n, (offer) => w.buyer("b.sqlite").pay(offer, { max: 50_000n }));
    expect(cheat.paid?.decision.outcome).to.equal("accepted");
    const [first] = await new VoucherSync({ store: merchantY.store, signer: y }).runOnce();
    expect(first?.state).to.equal("settled");

    const xBefore = await suite.token.balanceOf(x.address);
    const outcomes = await new VoucherSync({ store: merchantX.store, signer: x }).runOnce();
    expect(outcomes.map((o) => [o.state, o.paid])).to.deep.equal([
      ["slashed", 30_000n],
      ["slashed", 30_000n],
      ["slashed", 30_000n],
    ]);
    expect(outcomes[1]?.reason).to.match(/^VoucherCompensated: /);
    expect(await suite.token.balanceOf(x.address)).to.equal(xBefore + 90_000n);
    expect(await vault.isCheater(payer.address)).to.equal(true);
  });

  it("H-2: a shortfall is owed, not lost, and the sync claims it once the payer's funds allow", async function () {
    const { suite, vault, vaultAddress, payer } = w;
    const [x, y, sink] = [suite.others[1]!, suite.others[2]!, suite.others[3]!];
    let clock = Date.now();
    const merchantX = w.merchant(x, { lane: 7n, clock: { now: () => clock } });
    const merchantY = w.merchant(y, { lane: 7n });
    await merchantX.syncView(suite.ethers.provider, vaultAddress);
    await merchantY.syncView(suite.ethers.provider, vaultAddress);
    const atX = await session(merchantX, 30_000n, (offer) => w.buyer("a.sqlite").pay(offer, { max: 50_000n }));
    expect(atX.paid?.decision.outcome).to.equal("accepted");
    const atY = await session(merchantY, 100n, (offer) => w.buyer("b.sqlite").pay(offer, { max: 50_000n }));
    expect(atY.paid?.decision.outcome).to.equal("accepted");
    await new VoucherSync({ store: merchantY.store, signer: y }).runOnce();
    // Before X syncs, the buyer moves the rest of its locked funds to an address it controls.
    await redeemToSelf(sink.address, 100n, 50_000n);
    await redeemToSelf(sink.address, 101n, 49_900n);
    expect(await vault.lockedOf(payer.address)).to.equal(0n);

    const sync = new VoucherSync({ store: merchantX.store, signer: x, clock: { now: () => clock } });
    const [owed] = await sync.runOnce();
    expect(owed).to.include({ state: "owed", paid: 0n, owed: 30_000n });
    expect(await vault.isCheater(payer.address)).to.equal(true);
    expect(await vault.owedTotalOf(payer.address)).to.equal(30_000n);
    // Nothing locked yet: the claim is refused and kept.
    clock += 60_000;
    const [waiting] = await sync.runOnce();
    expect(waiting).to.include({ state: "owed", owed: 30_000n });
    expect(waiting?.reason).to.match(/^VaultOwedUnpayable/);
    // Funds arrive; the next pass claims what is owed.
    await (await suite.token.connect(payer).approve(vaultAddress, 50_000n)).wait();
    await (await vault.connect(payer).deposit(50_000n)).wait();
    const xBefore = await suite.token.balanceOf(x.address);
    clock += 600_000;
    const [claimed] = await sync.runOnce();
    expect(claimed).to.include({ state: "slashed", paid: 30_000n });
    expect(claimed?.owed).to.equal(undefined);
    expect(await suite.token.balanceOf(x.address)).to.equal(xBefore + 30_000n);
    expect(await vault.owedTotalOf(payer.address)).to.equal(0n);
    // The cheater's funds stay in the vault.
    await expect(vault.connect(payer).requestWithdrawal(1n)).to.be.revertedWithCustomError(vault, "PayerIsCheater");
  });
});

describe("offline: an EIP-7702 delegation does not revoke accepted vouchers (H-3)", function () {
  let w: World;

  beforeEach(async function () {
    w = await world();
  });

  afterEach(function () {
    w.close();
  });

  it("a payer that delegates its account by a type-4 transaction still pays the vouchers it signed", async function () {
    const { suite, vault, vaultAddress } = w;
    const provider = suite.ethers.provider;
    const merchant = suite.others[1]!;
    // A payer with a key of its own (to sign the authorization), and a sponsor that sends the type-4 transaction.
    const payer = Wallet.createRandom().connect(provider);
    const sponsor = Wallet.createRandom().connect(provider);
    for (const a of [payer, sponsor]) {
      await (await suite.others[5]!.sendTransaction({ to: a.address, value: parseEther("1") })).wait();
    }
    await (await suite.trustA.mintForDeposit(payer.address, 50_000n, encodeBytes32String("offline-7702"))).wait();
    await (await suite.token.connect(payer).approve(vaultAddress, 50_000n)).wait();
    await (await vault.connect(payer).deposit(50_000n)).wait();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    const voucher: Voucher = {
      payer: payer.address,
      merchant: merchant.address,
      amount: 20_000n,
      lane: 1n,
      sequence: 1n,
      previousVoucherHash: ZeroHash,
      validAfter: now - 10n,
      validBefore: now + 3_600n,
    };
    const signature = await signVoucher(payer, vaultDomain(31337n, vaultAddress), voucher);

    // The payer delegates its account to a contract with no `isValidSignature` (every ERC-1271 check fails).
    const auth = await payer.authorize({
      address: vaultAddress,
      nonce: await provider.getTransactionCount(payer.address),
    });
    await (await sponsor.sendTransaction({ type: 4, to: sponsor.address, authorizationList: [auth] })).wait();
    expect((await provider.getCode(payer.address)).toLowerCase()).to.equal(
      "0xef0100" + vaultAddress.slice(2).toLowerCase(),
    );

    const before = await suite.token.balanceOf(merchant.address);
    await (await vault.connect(merchant).redeem(voucher, signature)).wait();
    expect(await suite.token.balanceOf(merchant.address)).to.equal(before + 20_000n);
  });
});

describe("offline: the merchant store's version 2", function () {
  it("keeps the vouchers of a version-1 store and admits the owed state", async function () {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { Store } = await import("../../src/store/store.js");
    const { MERCHANT_MIGRATIONS, MERCHANT_STORE_MODULE, MerchantStore } =
      await import("../../src/offline/merchant-store.js");
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-store-v2-"));
    const store = Store.open({ path: path.join(dir, "m.sqlite") });
    try {
      store.migrate(MERCHANT_STORE_MODULE, MERCHANT_MIGRATIONS.slice(0, 1));
      store.run(
        `INSERT INTO offline_vouchers (hash, kind, request_id, chain_id, contract, payer, merchant, amount, lane,
           sequence, previous_hash, valid_after, valid_before, signature, state, paid, accepted_at, updated_at)
         VALUES ('0x01', 'secured', 'r', '31337', '0xv', '0xp', '0xm', '500', '7', '1', '0x00', 1, 2, '0xs',
           'slashed', '400', 3, 4)`,
      );
      const merchant = new MerchantStore(store);
      expect(merchant.voucher("0x01")).to.include({ state: "slashed", paid: 400n, owed: undefined });
      merchant.update("0x01", "owed", 5, { owed: 100n });
      expect(merchant.voucher("0x01")).to.include({ state: "owed", paid: 400n, owed: 100n });
      expect(merchant.inState("owed").map((v) => v.hash)).to.deep.equal(["0x01"]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
