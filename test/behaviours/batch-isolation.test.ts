import { expect } from "chai";
import { MaxUint256, ZeroHash } from "ethers";

import { DEVNET_OFFLINE_LIMITS } from "../../deploy/_config.js";
import type { IAccountLedger } from "../../typechain-types/index.js";
import { shouldBehaveLikeIsolatingBatch, type BatchAdapter } from "./batch-isolation.js";
import { now, ref, signVoucher, withFixture, type BehaviourFixture, type SignedVoucher } from "./fixture.js";

/** `IAccountLedger.OperationKind`. */
const HOLD = 1n;
const DEBIT = 4n;
const CREDIT = 5n;

async function fund(f: BehaviourFixture, to: string, amount: bigint, label: string): Promise<void> {
  await (await f.trustA.mintForDeposit(to, amount, ref(`setup/${label}`))).wait();
}

describe("behaviours: batches that isolate their items", function () {
  describe("AccountLedger.execute", function () {
    const ctx = withFixture(async (f) => {
      const { token, cards, accounts, people } = f;
      const bankA = await accounts.bankA.getAddress();
      const alice = await people.alice.getAddress();
      const bob = await people.bob.getAddress();
      await fund(f, bankA, 1_000_000n, "card-float");
      await (await token.connect(accounts.bankA).approve(await cards.getAddress(), MaxUint256)).wait();
      const asBank = cards.connect(accounts.bankA);
      await (await asBank.fundTokens(ref("setup/fund"), 1_000_000n)).wait();
      await (await asBank.openProfile(ref("card:alice"), alice, 0n)).wait();
      // Bob's profile is open and empty.
      await (await asBank.openProfile(ref("card:bob"), bob, 0n)).wait();
      return { alice, bob, stranger: await people.carol.getAddress() };
    });
    shouldBehaveLikeIsolatingBatch((): BatchAdapter<IAccountLedger.OperationStruct> => {
      const { f, s } = ctx();
      const { cards } = f;
      const op = (kind: bigint, label: string, wallet: string, amount: bigint): IAccountLedger.OperationStruct => ({
        kind,
        key: ref(label),
        wallet,
        ref: ZeroHash,
        amount,
      });
      return {
        entryPoint: "AccountLedger.execute",
        good: async (i) => op(CREDIT, `batch/credit-${i}`, s.alice, 100n + BigInt(i)),
        bad: async (i) =>
          i === 0
            ? {
                item: op(DEBIT, "batch/debit-empty", s.bob, 50n),
                error: { contract: cards, name: "InsufficientFunds", args: [s.bob, 0n, 50n] },
              }
            : {
                item: op(HOLD, "batch/hold-unknown", s.stranger, 10n),
                error: { contract: cards, name: "UnknownProfile", args: [s.stranger] },
              },
        preview: (items) => cards.execute.staticCall([...items]),
        submit: (items) => cards.execute([...items]),
        alone: (o) =>
          o.kind === DEBIT
            ? cards.debit(o.key, o.wallet, o.amount)
            : o.kind === HOLD
              ? cards.hold(o.key, o.wallet, o.amount)
              : cards.credit(o.key, o.wallet, o.amount),
        rejected: { contract: cards, event: "OperationRejected", id: async (o) => String(o.key) },
        applied: (o) => cards.isKeyUsed(o.key),
        probe: async () => [
          (await cards.profileOf(s.alice)).token,
          (await cards.profileOf(s.bob)).token,
          await cards.tokenLiabilities(),
          await cards.centralToken(),
          await cards.totalHeld(),
        ],
      };
    });
  });

  describe("OfflineVault.redeemBatch", function () {
    const ctx = withFixture(async (f) => {
      const { vault, token, people } = f;
      const payer = await people.dave.getAddress();
      await fund(f, payer, 100_000n, "offline-payer");
      await (await token.connect(people.dave).approve(await vault.getAddress(), 100_000n)).wait();
      await (await vault.connect(people.dave).deposit(100_000n)).wait();
      return { payer, merchant: await people.carol.getAddress() };
    });
    shouldBehaveLikeIsolatingBatch((): BatchAdapter<SignedVoucher> => {
      const { f, s } = ctx();
      const vault = f.vault.connect(f.people.carol);
      const voucher = async (lane: bigint, sequence: bigint, amount: bigint) => {
        const t = await now(f);
        return signVoucher(vault, f.people.dave, {
          payer: s.payer,
          merchant: s.merchant,
          amount,
          lane,
          sequence,
          previousVoucherHash: ZeroHash,
          validAfter: t,
          validBefore: t + 3_600n,
        });
      };
      const overLimit = DEVNET_OFFLINE_LIMITS.maxPerVoucher + 1n;
      return {
        entryPoint: "OfflineVault.redeemBatch",
        good: (i) => voucher(200n + BigInt(i), 1n, 1_000n),
        bad: async (i) =>
          i === 0
            ? {
                item: await voucher(300n, 1n, overLimit),
                error: {
                  contract: vault,
                  name: "VoucherOverLimit",
                  args: [overLimit, DEVNET_OFFLINE_LIMITS.maxPerVoucher],
                },
              }
            : {
                // Sequence 2 on a lane that has none: a gap.
                item: await voucher(301n, 2n, 1_000n),
                error: { contract: vault, name: "SequenceGap", args: [1n, 2n] },
              },
        preview: (vs) =>
          vault.redeemBatch.staticCall(
            vs.map((v) => v.voucher),
            vs.map((v) => v.signature),
          ),
        submit: (vs) =>
          vault.redeemBatch(
            vs.map((v) => v.voucher),
            vs.map((v) => v.signature),
          ),
        alone: (v) => vault.redeem(v.voucher, v.signature),
        rejected: { contract: vault, event: "VoucherRejected", id: async (v) => v.hash },
        applied: (v) => vault.isPaid(v.hash),
        probe: async () => [await vault.lockedOf(s.payer), await f.token.balanceOf(s.merchant)],
      };
    });
  });

  // Not an isolating batch: its interface promises "all or none". Checked here so that the list of batches is
  // complete, and so that a change to isolation there shows up as a failing test rather than silently.
  describe("InterbankSettlement.acknowledgeBatch (all or none, by its interface)", function () {
    const ctx = withFixture(async (f) => {
      const bankA = await f.trustA.getAddress();
      const bankB = await f.trustB.getAddress();
      const deadline = (await now(f)) + 3_600n;
      const terms = ["ack-1", "ack-2"].map((label) => ({
        id: ref(label),
        debtorBank: bankA,
        creditorBank: bankB,
        amount: 1_000n,
        creditorAccountRef: ref(`beneficiary/${label}`),
        deadline,
      }));
      for (const t of terms) {
        await (await f.settlement.connect(f.accounts.bankA).initiate(t)).wait();
        await (await f.settlement.connect(f.accounts.bankB).smelt(t, ref(`smelt/${t.id}`))).wait();
      }
      return { terms };
    });

    it("reverts as a whole on one bad item and acknowledges none", async function () {
      const { f, s } = ctx();
      const settlement = f.settlement.connect(f.accounts.bankA);
      const [first, second] = s.terms as [(typeof s.terms)[0], (typeof s.terms)[0]];
      const unknown = { ...second, id: ref("ack-unknown") };
      await expect(settlement.acknowledgeBatch([first, unknown, second]))
        .to.be.revertedWithCustomError(settlement, "InterbankSettlementInvalidState")
        .withArgs(unknown.debtorBank, unknown.id, 0n, 3n);
      for (const t of s.terms) expect(await settlement.stateOf(t.debtorBank, t.id)).to.equal(3n); // still Smelted
    });
  });
});
