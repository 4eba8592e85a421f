/**
 * The offline merchant's voucher checks (`Merchant.checkAndStore`), one rule at
 * a time and at its boundary: the lane is the merchant's own (the double-spend
 * argument rests on it), the lane and epoch limits count what the merchant
 * holds but has not redeemed, and the time window, the view's age, the
 * unsecured kind's nonce and balance rules. Real vault on the in-process chain,
 * real SQLite in a temp folder.
 */
import { expect } from "chai";
import { Wallet, ZeroHash } from "ethers";

import { Merchant, OfflineMerchantError } from "../../src/offline/merchant.js";
import type { CheckResult } from "../../src/offline/voucher-kind.js";
import { MerchantStore } from "../../src/offline/merchant-store.js";
import { PROTOCOL_VERSION, type PaymentRequest, type RefusalReason } from "../../src/offline/protocol.js";
import {
  authorizationToJson,
  hashVoucher,
  randomNonce,
  RECEIVE_AUTHORIZATION_TYPES,
  tokenDomain,
  vaultDomain,
  VOUCHER_TYPES,
  type ReceiveAuthorization,
  type TypedDataSigner,
  type Voucher,
} from "../../src/offline/voucher.js";
import { securedOffer, world, type World } from "./helpers.js";

describe("offline: the merchant's voucher checks", function () {
  this.timeout(60_000);
  let w: World;
  let clock: number;

  beforeEach(async function () {
    w = await world();
    clock = Date.now();
  });

  afterEach(function () {
    w.close();
  });

  async function merchantWith(options: Parameters<World["merchant"]>[1] = {}): Promise<Merchant> {
    const merchant = w.merchant(w.suite.others[1]!, { clock: { now: () => clock }, ...options });
    await merchant.syncView(w.suite.ethers.provider, w.vaultAddress);
    return merchant;
  }

  /** A secured voucher offer answering `request`: sequence 1 of the request's lane unless overridden. */
  async function secured(
    merchant: Merchant,
    request: PaymentRequest,
    overrides: Partial<Voucher> = {},
    signer: TypedDataSigner = w.payer,
  ): Promise<{ offer: Record<string, unknown>; hash: string }> {
    return securedOffer(merchant, request, w.payer.address, overrides, signer);
  }

  /** An unsecured (EIP-3009) offer answering `request`. */
  async function unsecured(
    merchant: Merchant,
    request: PaymentRequest,
    overrides: Partial<ReceiveAuthorization> = {},
  ): Promise<Record<string, unknown>> {
    const meta = merchant.view();
    const auth: ReceiveAuthorization = {
      from: w.payer.address,
      to: merchant.address,
      value: BigInt(request.amount),
      validAfter: BigInt(request.validAfter),
      validBefore: BigInt(request.validBefore),
      nonce: randomNonce(),
      ...overrides,
    };
    const signature = await w.payer.signTypedData(tokenDomain(meta.chainId, meta.token), RECEIVE_AUTHORIZATION_TYPES, {
      ...auth,
    });
    return {
      type: "voucher_offer",
      version: PROTOCOL_VERSION,
      requestId: request.requestId,
      kind: "unsecured",
      authorization: authorizationToJson(auth),
      signature,
    };
  }

  const show = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

  function refused(result: CheckResult, reason: RefusalReason): void {
    expect(result, show(result)).to.deep.include({
      ok: false,
      reason,
    });
  }

  /** Takes `count` vouchers of `amount` in a row on the merchant's lane, from the next free sequence. */
  async function take(merchant: Merchant, amount: bigint, count: number, from = 1n, previous = ZeroHash) {
    let hash = previous;
    for (let i = 0; i < count; i += 1) {
      const request = merchant.createRequest(amount);
      const result = merchant.checkAndStore(
        request,
        (await secured(merchant, request, { sequence: from + BigInt(i), previousVoucherHash: hash })).offer,
      );
      expect(result.ok, show(result)).to.equal(true);
      if (result.ok) hash = result.voucher.hash;
    }
    return hash;
  }

  describe("lanes", function () {
    it("refuses a voucher on any lane but its own, even a well-formed first link, and stores nothing", async function () {
      const merchant = await merchantWith();
      expect(merchant.lane).to.equal(BigInt(merchant.address));
      const request = merchant.createRequest(1_000n);
      expect(request.lane).to.equal(merchant.lane.toString());
      for (const lane of [merchant.lane + 1n, merchant.lane - 1n, 0n, 7n]) {
        refused(merchant.checkAndStore(request, (await secured(merchant, request, { lane })).offer), "wrong_lane");
      }
      expect(merchant.store.all()).to.deep.equal([]);
      // On its own lane the same voucher is taken, and stored with that lane.
      const ok = merchant.checkAndStore(request, (await secured(merchant, request)).offer);
      expect(ok.ok).to.equal(true);
      expect(merchant.store.all().map((v) => v.lane)).to.deep.equal([merchant.lane]);
    });

    it("a merchant configured with a lane takes only that lane", async function () {
      const merchant = await merchantWith({ lane: 42n });
      const request = merchant.createRequest(500n);
      expect(request.lane).to.equal("42");
      const other = BigInt(merchant.address);
      refused(merchant.checkAndStore(request, (await secured(merchant, request, { lane: other })).offer), "wrong_lane");
      expect(merchant.checkAndStore(request, (await secured(merchant, request, { lane: 42n })).offer).ok).to.equal(
        true,
      );
    });

    it("a voucher already spent on another merchant's lane cannot be spent again here", async function () {
      // The payer pays merchant X on X's lane; a copy of that chain's link shown to this merchant is refused,
      // so two merchants can never both hold sequence 1 of one lane without one of them being cheated on chain.
      const merchant = await merchantWith();
      const x = Wallet.createRandom().address;
      const request = merchant.createRequest(700n);
      const laneOfX = BigInt(x);
      refused(
        merchant.checkAndStore(request, (await secured(merchant, request, { lane: laneOfX })).offer),
        "wrong_lane",
      );
    });
  });

  describe("limits count what is held and not yet redeemed", function () {
    /** Vouchers of the payer redeemed on chain by another merchant this epoch, on two of its lanes. */
    async function redeemElsewhere(amounts: ReadonlyArray<readonly [bigint, bigint]>): Promise<void> {
      const { suite, vault, payer } = w;
      const other = Wallet.createRandom().address;
      const { chainId } = await suite.ethers.provider.getNetwork();
      const domain = vaultDomain(chainId, w.vaultAddress);
      const now = BigInt(Math.floor(clock / 1000));
      const previous = new Map<bigint, { sequence: bigint; hash: string }>();
      for (const [lane, amount] of amounts) {
        const last = previous.get(lane) ?? { sequence: 0n, hash: ZeroHash };
        const voucher: Voucher = {
          payer: payer.address,
          merchant: other,
          amount,
          lane,
          sequence: last.sequence + 1n,
          previousVoucherHash: last.hash,
          validAfter: now - 600n,
          validBefore: now + 3_600n,
        };
        const signature = await payer.signTypedData(domain, VOUCHER_TYPES, { ...voucher });
        await (await vault.redeem(voucher, signature)).wait();
        previous.set(lane, { sequence: voucher.sequence, hash: hashVoucher(domain, voucher) });
      }
    }

    it("the epoch limit adds the vouchers it holds to what the vault redeemed, at the exact boundary", async function () {
      const { suite, vault, payer } = w;
      // 300 000 locked, so the epoch limit (200 000) and not the locked funds decides.
      await suite.token.connect(payer).approve(w.vaultAddress, 200_000n);
      await vault.connect(payer).deposit(200_000n);
      await redeemElsewhere([
        [7n, 50_000n],
        [7n, 50_000n],
        [8n, 50_000n],
      ]);
      const merchant = await merchantWith();
      expect(merchant.store.payer(payer.address)).to.include({ epochRedeemed: 150_000n, locked: 150_000n });

      const held = await take(merchant, 30_000n, 1); // 150 000 + 30 000 held
      const over = merchant.createRequest(30_000n); // + 30 000 = 210 000
      refused(
        merchant.checkAndStore(
          over,
          (await secured(merchant, over, { sequence: 2n, previousVoucherHash: held })).offer,
        ),
        "over_epoch_limit",
      );
      const exact = merchant.createRequest(20_000n); // + 20 000 = 200 000: allowed
      const result = merchant.checkAndStore(
        exact,
        (await secured(merchant, exact, { sequence: 2n, previousVoucherHash: held })).offer,
      );
      expect(result.ok, show(result)).to.equal(true);
      const one = merchant.createRequest(1n); // 200 001
      refused(
        merchant.checkAndStore(
          one,
          (await secured(merchant, one, { sequence: 3n, previousVoucherHash: result.ok ? result.voucher.hash : "" }))
            .offer,
        ),
        "over_epoch_limit",
      );
      const taken = merchant.store.all().sort((a, b) => Number(a.sequence! - b.sequence!));
      expect(taken.map((v) => v.amount)).to.deep.equal([30_000n, 20_000n]);
    });

    it("the epoch limit still counts held vouchers after a re-sync that has not seen them redeemed", async function () {
      const { suite, vault, payer } = w;
      await suite.token.connect(payer).approve(w.vaultAddress, 200_000n);
      await vault.connect(payer).deposit(200_000n);
      await redeemElsewhere([
        [7n, 50_000n],
        [7n, 50_000n],
        [8n, 50_000n],
      ]);
      const merchant = await merchantWith();
      const held = await take(merchant, 40_000n, 1);
      await merchant.syncView(suite.ethers.provider, w.vaultAddress); // still unredeemed: still counted
      const next = merchant.createRequest(20_000n);
      refused(
        merchant.checkAndStore(
          next,
          (await secured(merchant, next, { sequence: 2n, previousVoucherHash: held })).offer,
        ),
        "over_epoch_limit",
      );
      const fits = merchant.createRequest(10_000n);
      expect(
        merchant.checkAndStore(fits, (await secured(merchant, fits, { sequence: 2n, previousVoucherHash: held })).offer)
          .ok,
      ).to.equal(true);
    });

    it("the lane limit counts held vouchers, at the exact boundary", async function () {
      const { suite, vault, payer } = w;
      await suite.token.connect(payer).approve(w.vaultAddress, 200_000n);
      await vault.connect(payer).deposit(200_000n);
      const merchant = await merchantWith();
      const held = await take(merchant, 45_000n, 2); // 90 000 on the lane
      const over = merchant.createRequest(10_001n);
      refused(
        merchant.checkAndStore(
          over,
          (await secured(merchant, over, { sequence: 3n, previousVoucherHash: held })).offer,
        ),
        "over_lane_limit",
      );
      const exact = merchant.createRequest(10_000n);
      expect(
        merchant.checkAndStore(
          exact,
          (await secured(merchant, exact, { sequence: 3n, previousVoucherHash: held })).offer,
        ).ok,
      ).to.equal(true);
    });

    it("the locked funds count held vouchers, and a pending withdrawal on top, at the exact boundary", async function () {
      const { vault, payer } = w; // 100 000 locked
      await vault.connect(payer).requestWithdrawal(20_000n);
      const merchant = await merchantWith();
      const held = await take(merchant, 50_000n, 1);
      // 100 000 - 50 000 held = 50 000 locked, less 20 000 announced for withdrawal = 30 000 usable.
      const over = merchant.createRequest(30_001n);
      refused(
        merchant.checkAndStore(
          over,
          (await secured(merchant, over, { sequence: 2n, previousVoucherHash: held })).offer,
        ),
        "withdrawal_pending",
      );
      const exact = merchant.createRequest(30_000n);
      expect(
        merchant.checkAndStore(
          exact,
          (await secured(merchant, exact, { sequence: 2n, previousVoucherHash: held })).offer,
        ).ok,
      ).to.equal(true);
    });

    it("refuses more than is locked once held vouchers are counted", async function () {
      const merchant = await merchantWith(); // 100 000 locked
      const held = await take(merchant, 50_000n, 1);
      const next = merchant.createRequest(50_000n);
      // 50 000 more still fits the lane (100 000) and the locked funds exactly.
      const ok = merchant.checkAndStore(
        next,
        (await secured(merchant, next, { sequence: 2n, previousVoucherHash: held })).offer,
      );
      expect(ok.ok).to.equal(true);
      // A second lane of the same payer (a restarted merchant with another lane) finds nothing locked left.
      const other = w.merchant(w.suite.others[1]!, { clock: { now: () => clock }, lane: 5n });
      await other.syncView(w.suite.ethers.provider, w.vaultAddress);
      const r = other.createRequest(1n);
      refused(other.checkAndStore(r, (await secured(other, r)).offer), "insufficient_locked");
    });

    it("refuses a voucher above the per-voucher limit; 50 000 passes", async function () {
      const merchant = await merchantWith();
      const big = merchant.createRequest(50_001n);
      refused(merchant.checkAndStore(big, (await secured(merchant, big)).offer), "over_voucher_limit");
      const max = merchant.createRequest(50_000n);
      expect(merchant.checkAndStore(max, (await secured(merchant, max)).offer).ok).to.equal(true);
    });
  });

  describe("chain, window, view and offer", function () {
    it("takes the next link only: a replay, a gap and a wrong previous hash are refused", async function () {
      const merchant = await merchantWith();
      const first = merchant.createRequest(100n);
      const { offer, hash } = await secured(merchant, first);
      expect(merchant.checkAndStore(first, offer).ok).to.equal(true);
      refused(merchant.checkAndStore(first, offer), "duplicate_sequence"); // the very same voucher again
      const again = merchant.createRequest(100n);
      refused(merchant.checkAndStore(again, (await secured(merchant, again)).offer), "duplicate_sequence");
      refused(
        merchant.checkAndStore(
          again,
          (await secured(merchant, again, { sequence: 3n, previousVoucherHash: hash })).offer,
        ),
        "sequence_gap",
      );
      refused(
        merchant.checkAndStore(
          again,
          (await secured(merchant, again, { sequence: 2n, previousVoucherHash: ZeroHash })).offer,
        ),
        "broken_chain",
      );
      expect(
        merchant.checkAndStore(
          again,
          (await secured(merchant, again, { sequence: 2n, previousVoucherHash: hash })).offer,
        ).ok,
      ).to.equal(true);
    });

    it("checks the validity window at its edges: valid from validAfter, 60 s left at least, at most maxVoucherAge", async function () {
      const merchant = await merchantWith();
      const now = BigInt(Math.floor(clock / 1000));
      const request = merchant.createRequest(10n);
      const maxAge = BigInt(merchant.view().limits.maxVoucherAge);
      refused(
        merchant.checkAndStore(request, (await secured(merchant, request, { validAfter: now + 1n })).offer),
        "not_yet_valid",
      );
      refused(
        merchant.checkAndStore(
          request,
          (await secured(merchant, request, { validAfter: now - 10n, validBefore: now + 60n })).offer,
        ),
        "expired",
      );
      refused(
        merchant.checkAndStore(
          request,
          (await secured(merchant, request, { validAfter: now - 10n, validBefore: now - 10n + maxAge + 1n })).offer,
        ),
        "too_long",
      );
      // validAfter = now, 61 s left, a window of exactly maxVoucherAge: taken.
      const edge = await secured(merchant, request, { validAfter: now, validBefore: now + maxAge });
      expect(merchant.checkAndStore(request, edge.offer).ok).to.equal(true);
      const short = merchant.createRequest(10n);
      const s = await secured(merchant, short, {
        sequence: 2n,
        previousVoucherHash: edge.hash,
        validAfter: now - 1n,
        validBefore: now + 61n,
      });
      expect(merchant.checkAndStore(short, s.offer).ok).to.equal(true);
    });

    it("refuses everything on a view older than its maximum age, and takes it at exactly that age", async function () {
      const merchant = await merchantWith({ maxViewAgeMs: 60_000 });
      const request = merchant.createRequest(10n);
      const { offer } = await secured(merchant, request);
      clock += 60_001;
      refused(merchant.checkAndStore(request, offer), "stale_view");
      clock -= 1;
      expect(merchant.checkAndStore(request, offer).ok).to.equal(true);
    });

    it("holds its view to the vault's maxViewAge too, when that is shorter than its own, and says how old it is", async function () {
      // The vault's maxViewAge (the margin its withdrawal delay keeps) is read with the view.
      const vaultMaxS = Number((await w.vault.limits()).maxViewAge);
      const merchant = await merchantWith({ maxViewAgeMs: 4 * vaultMaxS * 1_000 });
      const request = merchant.createRequest(10n);
      const { offer } = await secured(merchant, request);
      clock += vaultMaxS * 1_000 + 1_000;
      expect(merchant.checkAndStore(request, offer)).to.deep.equal({
        ok: false,
        reason: "stale_view",
        message: `the merchant's view is ${vaultMaxS + 1} s old (max ${vaultMaxS} s)`,
      });
      clock -= 1_000;
      expect(merchant.checkAndStore(request, offer).ok).to.equal(true);
    });

    it("names the window it found too long, and the most it takes", async function () {
      const merchant = await merchantWith();
      const request = merchant.createRequest(10n);
      const now = BigInt(Math.floor(clock / 1000));
      const maxAge = (await w.vault.limits()).maxVoucherAge;
      const long = await secured(merchant, request, { validAfter: now - 10n, validBefore: now - 10n + maxAge + 1n });
      expect(merchant.checkAndStore(request, long.offer)).to.deep.equal({
        ok: false,
        reason: "too_long",
        message: `the validity window ${maxAge + 1n} s is above ${maxAge} s`,
      });
    });

    it("refuses a secured voucher to a merchant that has never synchronised", async function () {
      const merchant = new Merchant({
        address: w.suite.others[1]!.address,
        store: new MerchantStore(w.open("never-synced.sqlite")),
        clock: { now: () => clock },
      });
      expect(() => merchant.createRequest(1n))
        .to.throw(OfflineMerchantError)
        .with.property("code", "OFFLINE_NO_VIEW");
      const synced = await merchantWith();
      const request = synced.createRequest(10n);
      const { offer } = await secured(synced, request);
      refused(merchant.checkAndStore(request, offer), "stale_view");
      refused(merchant.checkAndStore(request, await unsecured(synced, request)), "stale_view");
    });

    it("refuses an offer for another request, a kind it does not take, the wrong amount, merchant or signer", async function () {
      const merchant = await merchantWith({ accepts: ["secured"] });
      const request = merchant.createRequest(1_000n);
      expect(request.accepts).to.deep.equal(["secured"]);
      const other = merchant.createRequest(1_000n);
      refused(merchant.checkAndStore(request, (await secured(merchant, other)).offer), "malformed");
      refused(merchant.checkAndStore(request, await unsecured(merchant, request)), "kind_not_accepted");
      refused(
        merchant.checkAndStore(request, (await secured(merchant, request, { amount: 1_001n })).offer),
        "wrong_amount",
      );
      refused(
        merchant.checkAndStore(
          request,
          (await secured(merchant, request, { merchant: Wallet.createRandom().address })).offer,
        ),
        "wrong_merchant",
      );
      refused(
        merchant.checkAndStore(request, (await secured(merchant, request, {}, Wallet.createRandom())).offer),
        "bad_signature",
      );
      refused(merchant.checkAndStore(request, "not an offer"), "malformed");
      expect(merchant.store.all()).to.deep.equal([]);
    });
  });

  describe("what it holds, by state and by what the view already reflects", function () {
    it("a payer the view has never seen has nothing locked and no balance", async function () {
      const merchant = await merchantWith();
      const stranger = Wallet.createRandom();
      const request = merchant.createRequest(10n);
      refused(
        merchant.checkAndStore(
          request,
          (await secured(merchant, request, { payer: stranger.address }, stranger)).offer,
        ),
        "insufficient_locked",
      );
      const meta = merchant.view();
      const auth: ReceiveAuthorization = {
        from: stranger.address,
        to: merchant.address,
        value: 10n,
        validAfter: BigInt(request.validAfter),
        validBefore: BigInt(request.validBefore),
        nonce: randomNonce(),
      };
      const signature = await stranger.signTypedData(
        tokenDomain(meta.chainId, meta.token),
        RECEIVE_AUTHORIZATION_TYPES,
        {
          ...auth,
        },
      );
      const offer = {
        type: "voucher_offer",
        version: PROTOCOL_VERSION,
        requestId: request.requestId,
        kind: "unsecured",
        authorization: authorizationToJson(auth),
        signature,
      };
      refused(merchant.checkAndStore(request, offer), "insufficient_balance");
    });

    it("stores the signature in lower case whatever case the hex came in", async function () {
      const merchant = await merchantWith();
      const request = merchant.createRequest(10n);
      const { offer } = await secured(merchant, request);
      const signature = offer.signature as string;
      const result = merchant.checkAndStore(request, { ...offer, signature: `0x${signature.slice(2).toUpperCase()}` });
      expect(result.ok).to.equal(true);
      expect(merchant.store.all()[0]!.signature).to.equal(signature.toLowerCase());
      const u = merchant.createRequest(20n);
      const unsecuredOffer = await unsecured(merchant, u);
      const sig = unsecuredOffer.signature as string;
      expect(
        merchant.checkAndStore(u, { ...unsecuredOffer, signature: `0x${sig.slice(2).toUpperCase()}` }).ok,
      ).to.equal(true);
      expect(merchant.store.all().find((v) => v.kind === "unsecured")!.signature).to.equal(sig.toLowerCase());
    });

    it("another voucher with a sequence already held is a double spend, not a gap", async function () {
      const merchant = await merchantWith();
      const first = merchant.createRequest(100n);
      expect(merchant.checkAndStore(first, (await secured(merchant, first)).offer).ok).to.equal(true);
      const other = merchant.createRequest(101n);
      refused(merchant.checkAndStore(other, (await secured(merchant, other)).offer), "duplicate_sequence");
    });

    it("a rejected or slashed voucher no longer holds its sequence or its amount", async function () {
      const merchant = await merchantWith();
      for (const [state, amount] of [
        ["rejected", 50_000n],
        ["slashed", 49_999n],
      ] as const) {
        const request = merchant.createRequest(amount);
        const taken = merchant.checkAndStore(request, (await secured(merchant, request)).offer);
        expect(taken.ok, state).to.equal(true);
        if (taken.ok) merchant.store.update(taken.voucher.hash, state, clock);
      }
      // Sequence 1 again, the whole locked amount: nothing live is held.
      const again = merchant.createRequest(50_000n);
      const { offer } = await secured(merchant, again, { validBefore: BigInt(again.validBefore) - 1n });
      expect(merchant.checkAndStore(again, offer).ok).to.equal(true);
    });

    it("a voucher redeemed and seen by a re-sync is not counted twice", async function () {
      const { suite, vault } = w;
      const merchant = await merchantWith();
      await take(merchant, 50_000n, 1);
      const held = merchant.store.all()[0]!;
      const voucher: Voucher = {
        payer: held.payer,
        merchant: held.merchant,
        amount: held.amount,
        lane: held.lane!,
        sequence: held.sequence!,
        previousVoucherHash: held.previousHash!,
        validAfter: held.validAfter,
        validBefore: held.validBefore,
      };
      await (await vault.redeem(voucher, held.signature)).wait();
      merchant.store.update(held.hash, "settled", clock);
      await merchant.syncView(suite.ethers.provider, w.vaultAddress);
      expect(merchant.store.payer(w.payer.address)).to.include({ locked: 50_000n, epochRedeemed: 50_000n });
      // 50 000 redeemed on the lane + 50 000 = the lane limit, all of what is still locked: taken.
      const next = merchant.createRequest(50_000n);
      const result = merchant.checkAndStore(
        next,
        (await secured(merchant, next, { sequence: 2n, previousVoucherHash: held.hash })).offer,
      );
      expect(result.ok, show(result)).to.equal(true);
    });

    it("an unsecured voucher settled after the view was taken still counts against the balance; before, not", async function () {
      const merchant = await merchantWith(); // the view is taken at `clock`, balance 900 000
      const first = merchant.createRequest(600_000n);
      const taken = merchant.checkAndStore(first, await unsecured(merchant, first));
      expect(taken.ok).to.equal(true);
      const hash = taken.ok ? taken.voucher.hash : "";
      merchant.store.update(hash, "settled", clock); // at the very time of the view: the view may not show it
      const over = merchant.createRequest(300_001n);
      refused(merchant.checkAndStore(over, await unsecured(merchant, over)), "insufficient_balance");
      merchant.store.update(hash, "settled", clock - 1); // before the view: its balance shows it paid
      const all = merchant.createRequest(900_000n);
      expect(merchant.checkAndStore(all, await unsecured(merchant, all)).ok).to.equal(true);
    });

    it("secured vouchers held do not count against the token balance", async function () {
      const merchant = await merchantWith();
      const s = merchant.createRequest(50_000n);
      expect(merchant.checkAndStore(s, (await secured(merchant, s)).offer).ok).to.equal(true);
      const all = merchant.createRequest(900_000n);
      expect(merchant.checkAndStore(all, await unsecured(merchant, all)).ok).to.equal(true);
    });

    it("refuses an unsecured voucher on a view older than its maximum age", async function () {
      const merchant = await merchantWith({ maxViewAgeMs: 1_000 });
      const request = merchant.createRequest(10n);
      const offer = await unsecured(merchant, request);
      clock += 1_001;
      refused(merchant.checkAndStore(request, offer), "stale_view");
    });
  });

  describe("unsecured vouchers", function () {
    it("takes one, stores it unsecured with its nonce, and refuses its nonce again", async function () {
      const merchant = await merchantWith();
      const request = merchant.createRequest(2_000n);
      const nonce = randomNonce();
      const result = merchant.checkAndStore(request, await unsecured(merchant, request, { nonce }));
      expect(result.ok).to.equal(true);
      expect(merchant.store.all()[0]).to.include({
        kind: "unsecured",
        nonce,
        amount: 2_000n,
        payer: w.payer.address,
        merchant: merchant.address,
        lane: undefined,
        state: "pending",
      });
      const again = merchant.createRequest(2_000n);
      refused(merchant.checkAndStore(again, await unsecured(merchant, again, { nonce })), "duplicate_nonce");
    });

    it("refuses the wrong payee, amount or signer, and outside its window", async function () {
      const merchant = await merchantWith();
      const request = merchant.createRequest(2_000n);
      const now = BigInt(Math.floor(clock / 1000));
      refused(
        merchant.checkAndStore(request, await unsecured(merchant, request, { to: Wallet.createRandom().address })),
        "wrong_merchant",
      );
      refused(merchant.checkAndStore(request, await unsecured(merchant, request, { value: 1_999n })), "wrong_amount");
      refused(
        merchant.checkAndStore(request, await unsecured(merchant, request, { from: Wallet.createRandom().address })),
        "bad_signature",
      );
      refused(
        merchant.checkAndStore(request, await unsecured(merchant, request, { validAfter: now + 5n })),
        "not_yet_valid",
      );
      refused(
        merchant.checkAndStore(
          request,
          await unsecured(merchant, request, { validAfter: now - 5n, validBefore: now + 30n }),
        ),
        "expired",
      );
      expect(merchant.store.all()).to.deep.equal([]);
    });

    it("covers each authorization with the synced balance less what it holds unsettled, at the exact boundary", async function () {
      const merchant = await merchantWith();
      const balance = merchant.store.payer(w.payer.address)!.balance; // 900 000
      expect(balance).to.equal(900_000n);
      const first = merchant.createRequest(600_000n);
      expect(merchant.checkAndStore(first, await unsecured(merchant, first)).ok).to.equal(true);
      const over = merchant.createRequest(300_001n);
      refused(merchant.checkAndStore(over, await unsecured(merchant, over)), "insufficient_balance");
      const exact = merchant.createRequest(300_000n);
      expect(merchant.checkAndStore(exact, await unsecured(merchant, exact)).ok).to.equal(true);
      // Secured vouchers held do not count against the token balance.
      const securedRequest = merchant.createRequest(1_000n);
      expect(merchant.checkAndStore(securedRequest, (await secured(merchant, securedRequest)).offer).ok).to.equal(true);
    });
  });
});
