import { encodeBytes32String, MaxUint256, ZeroHash } from "ethers";

import { billIdOfLabel } from "../../src/bills/ids.js";
import type { IInterbankSettlement } from "../../typechain-types/index.js";
import { now, ref, signAuthorization, signVoucher, withFixture, type BehaviourFixture } from "./fixture.js";
import { shouldBehaveLikeSingleUseReference, type SingleUseAdapter } from "./single-use-reference.js";

/** `InterbankSettlement.SettlementState`. */
const DELIVERED = 2n;
const NONE = 0n;

/** Mints `amount` of bank A's tokens to `to` against a setup fiat reference. */
async function fund(f: BehaviourFixture, to: string, amount: bigint, label: string): Promise<void> {
  await (await f.trustA.mintForDeposit(to, amount, ref(`setup/${label}`))).wait();
}

/** Alice holds 10,000 and has handed 1,000 in twice for redemption at bank A: redemptions 1 and 2. */
async function twoRedemptions(f: BehaviourFixture) {
  const { trustA, token, people } = f;
  const alice = await people.alice.getAddress();
  await fund(f, alice, 10_000n, "redemptions");
  await (await token.connect(people.alice).approve(await trustA.getAddress(), 2_000n)).wait();
  for (const label of ["r-1", "r-2"]) {
    await (await trustA.connect(people.alice).requestRedemption(1_000n, ref(`account/${label}`))).wait();
  }
  return { trust: await trustA.getAddress() };
}

async function trustProbe(f: BehaviourFixture, trust: string) {
  const { token, ledger, trustA } = f;
  return [
    await token.totalSupply(),
    await token.balanceOf(trust),
    await trustA.heldForRedemptions(),
    await ledger.outstandingOf(trust),
  ];
}

describe("behaviours: single-use references", function () {
  describe("TrustAccount.mintForDeposit: fiat reference", function () {
    const ctx = withFixture(async (f) => ({
      alice: await f.people.alice.getAddress(),
      bob: await f.people.bob.getAddress(),
      trust: await f.trustA.getAddress(),
    }));
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const { trustA, token, ledger } = f;
      return {
        reference: "fiat reference of mintForDeposit",
        fresh: async (i) => ref(`deposit-${i}`),
        use: (r, attempt) => trustA.mintForDeposit(attempt === 0 ? s.alice : s.bob, 1_000n + BigInt(attempt), r),
        reused: (r) => ({ contract: trustA, name: "TrustAccountFiatRefUsed", args: [r] }),
        probe: async () => [
          await token.balanceOf(s.alice),
          await token.balanceOf(s.bob),
          await token.totalSupply(),
          await ledger.outstandingOf(s.trust),
        ],
        isUsed: (r) => trustA.isFiatRefUsed(r),
      };
    });
  });

  describe("TrustAccount.confirmRedemption: fiat reference of the payout", function () {
    const ctx = withFixture(twoRedemptions);
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      return {
        reference: "fiat reference of confirmRedemption",
        fresh: async (i) => ref(`payout-${i}`),
        // Redemption 1, then redemption 2: a second payout may not reuse the first one's fiat reference.
        use: (r, attempt) => f.trustA.confirmRedemption(BigInt(attempt + 1), r),
        reused: (r) => ({ contract: f.trustA, name: "TrustAccountFiatRefUsed", args: [r] }),
        probe: () => trustProbe(f, s.trust),
        isUsed: (r) => f.trustA.isFiatRefUsed(r),
      };
    });
  });

  describe("TrustAccount: one fiat reference space for deposits and payouts", function () {
    const ctx = withFixture(async (f) => ({ ...(await twoRedemptions(f)), bob: await f.people.bob.getAddress() }));
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      return {
        reference: "fiat reference of a deposit, then of a payout",
        fresh: async (i) => ref(`shared-${i}`),
        // A deposit's reference, then redemption 1's payout: the same fiat movement cannot be booked twice.
        use: (r, attempt) =>
          attempt === 0 ? f.trustA.mintForDeposit(s.bob, 500n, r) : f.trustA.confirmRedemption(1n, r),
        reused: (r) => ({ contract: f.trustA, name: "TrustAccountFiatRefUsed", args: [r] }),
        probe: async () => [...(await trustProbe(f, s.trust)), await f.token.balanceOf(s.bob)],
        isUsed: (r) => f.trustA.isFiatRefUsed(r),
      };
    });
  });

  describe("AccountLedger.credit: operation key", function () {
    const ctx = withFixture(async (f) => {
      const { token, cards, accounts, people } = f;
      const bankA = await accounts.bankA.getAddress();
      const ledger = await cards.getAddress();
      const alice = await people.alice.getAddress();
      const bob = await people.bob.getAddress();
      await fund(f, bankA, 1_000_000n, "card-float");
      await (await token.connect(accounts.bankA).approve(ledger, MaxUint256)).wait();
      const asBank = cards.connect(accounts.bankA);
      await (await asBank.fundTokens(ref("setup/fund"), 1_000_000n)).wait();
      await (await asBank.openProfile(ref("card:alice"), alice, 0n)).wait();
      await (await asBank.openProfile(ref("card:bob"), bob, 0n)).wait();
      return { alice, bob };
    });
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const { cards } = f;
      return {
        reference: "operation key of credit",
        fresh: async (i) => ref(`card-op-${i}`),
        use: (key, attempt) => cards.credit(key, attempt === 0 ? s.alice : s.bob, 100n + BigInt(attempt)),
        reused: (key) => ({ contract: cards, name: "KeyUsed", args: [key] }),
        probe: async () => [
          (await cards.profileOf(s.alice)).token,
          (await cards.profileOf(s.bob)).token,
          await cards.tokenLiabilities(),
          await cards.centralToken(),
        ],
        isUsed: (key) => cards.isKeyUsed(key),
      };
    });
  });

  describe("InterbankSettlement.initiate: settlement id", function () {
    const ctx = withFixture(async (f) => ({
      bankA: await f.trustA.getAddress(),
      bankB: await f.trustB.getAddress(),
      settlement: await f.settlement.getAddress(),
    }));
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const settlement = f.settlement.connect(f.accounts.bankA);
      const terms = async (id: string, amount: bigint): Promise<IInterbankSettlement.SettlementTermsStruct> => ({
        id,
        debtorBank: s.bankA,
        creditorBank: s.bankB,
        amount,
        creditorAccountRef: ref(`beneficiary/${amount}`),
        deadline: (await now(f)) + 3_600n,
      });
      return {
        reference: "settlement id of initiate",
        fresh: async (i) => ref(`payment-${i}`),
        use: async (id, attempt) => settlement.initiate(await terms(id, 1_000n + BigInt(attempt))),
        reused: (id) => ({
          contract: settlement,
          name: "InterbankSettlementInvalidState",
          args: [s.bankA, id, DELIVERED, NONE],
        }),
        probe: async () => [
          await f.token.balanceOf(s.settlement),
          await f.token.totalSupply(),
          await f.ledger.outstandingOf(s.bankA),
          await settlement.availableToSend(s.bankA, s.bankB),
        ],
        isUsed: async (id) => (await settlement.stateOf(s.bankA, id)) !== NONE,
      };
    });
  });

  describe("ReserveLedger.netClaim: fiat transfer reference", function () {
    const ctx = withFixture(async (f) => {
      const bankA = await f.trustA.getAddress();
      const bankB = await f.trustB.getAddress();
      // B smelts a payment of 10,000 from A: B now has a claim of 10,000 on A to net.
      const terms = {
        id: ref("setup/claim"),
        debtorBank: bankA,
        creditorBank: bankB,
        amount: 10_000n,
        creditorAccountRef: ref("setup/beneficiary"),
        deadline: (await now(f)) + 3_600n,
      };
      await (await f.settlement.connect(f.accounts.bankA).initiate(terms)).wait();
      await (await f.settlement.connect(f.accounts.bankB).smelt(terms, ref("setup/smelt"))).wait();
      return { bankA, bankB };
    });
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const ledger = f.ledger.connect(f.accounts.attestor);
      return {
        reference: "transfer reference of netClaim",
        fresh: async (i) => ref(`transfer-${i}`),
        use: (r, attempt) => ledger.netClaim(s.bankB, s.bankA, 1_000n + BigInt(attempt), r),
        reused: (r) => ({ contract: ledger, name: "ReserveLedgerTransferRefUsed", args: [r] }),
        probe: async () => [await ledger.claimOf(s.bankB, s.bankA), (await ledger.reserveOf(s.bankB)).reserve],
        isUsed: (r) => ledger.isTransferRefUsed(r),
      };
    });
  });

  describe("BillRegistry.issue: bill id", function () {
    const ctx = withFixture(async (f) => ({
      definition: await f.bills.definitionId(encodeBytes32String("BILL_OF_EXCHANGE"), 1),
      drawer: await f.people.dave.getAddress(),
      drawee: await f.people.alice.getAddress(),
      payees: [await f.people.bob.getAddress(), await f.people.carol.getAddress()],
    }));
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const bills = f.bills.connect(f.people.dave);
      return {
        reference: "bill id of issue",
        // A bill id commits to its drawer (issue 13, M-6): only the drawer it names may issue under it.
        fresh: async (i) => billIdOfLabel(s.drawer, `bill-${i}`),
        // Another payee and amount on the second attempt: only the id repeats.
        use: (id, attempt) =>
          bills.issue(s.definition, encodeBytes32String("ISSUE"), {
            id,
            drawee: s.drawee,
            payee: s.payees[attempt]!,
            amount: 1_000n + BigInt(attempt),
            acceptanceDeadline: 0n,
            maturity: 0n,
            recourseDeadline: 0n,
            documentHash: ref(`document/${attempt}`),
          }),
        reused: (id) => ({ contract: bills, name: "BillInvalidId", args: [id] }),
        probe: async (ids) => {
          const seen: unknown[] = [];
          for (const id of ids) {
            const b = await bills.bill(id);
            seen.push(b.definitionId, b.state, b.drawer, b.payee, b.holder, b.amountDue, b.documentHash);
          }
          return seen;
        },
        isUsed: async (id) => (await bills.bill(id)).definitionId !== 0n,
      };
    });
  });

  describe("BankToken.transferWithAuthorization: EIP-3009 nonce", function () {
    const ctx = withFixture(async (f) => {
      const alice = await f.people.alice.getAddress();
      await fund(f, alice, 10_000n, "authorizer");
      return { alice, payees: [await f.people.bob.getAddress(), await f.people.carol.getAddress()] };
    });
    shouldBehaveLikeSingleUseReference<string>((): SingleUseAdapter<string> => {
      const { f, s } = ctx();
      const token = f.token.connect(f.people.relayer);
      return {
        reference: "authorization nonce of transferWithAuthorization",
        fresh: async (i) => ref(`nonce-${i}`),
        // A fresh signature over another payee and value each time: only the nonce repeats.
        use: async (nonce, attempt) => {
          const auth = {
            from: s.alice,
            to: s.payees[attempt]!,
            value: 100n + BigInt(attempt),
            validAfter: 0n,
            validBefore: (await now(f)) + 3_600n,
            nonce,
          };
          const signature = await signAuthorization(f.token, f.people.alice, auth);
          return token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            signature.serialized,
          );
        },
        reused: (nonce) => ({ contract: token, name: "BankTokenAuthorizationUsed", args: [s.alice, nonce] }),
        probe: async () => [
          await token.balanceOf(s.alice),
          await token.balanceOf(s.payees[0]!),
          await token.balanceOf(s.payees[1]!),
        ],
        isUsed: (nonce) => token.authorizationState(s.alice, nonce),
      };
    });
  });

  describe("OfflineVault.redeem: voucher hash", function () {
    const ctx = withFixture(async (f) => {
      const { vault, token, people } = f;
      const payer = await people.dave.getAddress();
      await fund(f, payer, 100_000n, "offline-payer");
      await (await token.connect(people.dave).approve(await vault.getAddress(), 100_000n)).wait();
      await (await vault.connect(people.dave).deposit(100_000n)).wait();
      return { payer, merchant: await people.carol.getAddress() };
    });
    shouldBehaveLikeSingleUseReference((): SingleUseAdapter<Awaited<ReturnType<typeof signVoucher>>> => {
      const { f, s } = ctx();
      const { vault, token } = f;
      const submitters = [f.people.carol, f.people.relayer];
      return {
        reference: "voucher (its EIP-712 hash) of redeem",
        // Sequence 1 of its own lane: each fresh voucher is redeemable on its own.
        fresh: async (i) => {
          const t = await now(f);
          return signVoucher(vault, f.people.dave, {
            payer: s.payer,
            merchant: s.merchant,
            amount: 1_000n,
            lane: 100n + BigInt(i),
            sequence: 1n,
            previousVoucherHash: ZeroHash,
            validAfter: t,
            validBefore: t + 3_600n,
          });
        },
        // The voucher is the reference; the second attempt comes from another submitter.
        use: (v, attempt) => vault.connect(submitters[attempt]!).redeem(v.voucher, v.signature),
        reused: (v) => ({ contract: vault, name: "AlreadyRedeemed", args: [v.hash] }),
        probe: async (vs) => [
          await vault.lockedOf(s.payer),
          await token.balanceOf(s.merchant),
          ...(await Promise.all(vs.map((v) => vault.isPaid(v.hash)))),
        ],
        isUsed: (v) => vault.isPaid(v.hash),
      };
    });
  });
});
