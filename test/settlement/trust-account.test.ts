import { expect } from "chai";
import fc from "fast-check";
import { encodeBytes32String, type Signer } from "ethers";

import type { TrustAccount } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

const ref = (label: string) => encodeBytes32String(label);

describe("settlement: trust accounts against the token and the reserve ledger", function () {
  let suite: Suite;
  let alice: Signer;
  let bob: Signer;

  beforeEach(async function () {
    suite = await deploySuite();
    [alice, bob] = suite.others as unknown as [Signer, Signer];
  });

  it("mints for a fiat deposit once per reference and counts it as the bank's issuance", async function () {
    const { token, ledger, trustA } = suite;
    const to = await alice.getAddress();
    await expect(trustA.mintForDeposit(to, 12_345n, ref("dep-1")))
      .to.emit(trustA, "DepositMinted")
      .withArgs(ref("dep-1"), to, 12_345n)
      .and.to.emit(token, "Mint")
      .withArgs(await trustA.getAddress(), to, 12_345n, ref("dep-1"));
    expect(await token.balanceOf(to)).to.equal(12_345n);
    expect(await ledger.outstandingOf(await trustA.getAddress())).to.equal(12_345n);
    await expect(trustA.mintForDeposit(to, 1n, ref("dep-1")))
      .to.be.revertedWithCustomError(trustA, "TrustAccountFiatRefUsed")
      .withArgs(ref("dep-1"));
    await expect(trustA.connect(alice).mintForDeposit(to, 1n, ref("dep-2"))).to.be.revertedWithCustomError(
      trustA,
      "AccessControlUnauthorizedAccount",
    );
    expect(await token.totalSupply()).to.equal(12_345n);
  });

  it("stops minting when the reserve attestation is stale, and again when it would exceed the reserve", async function () {
    const { ledger, trustA, networkHelpers, accounts } = suite;
    const issuer = await trustA.getAddress();
    const to = await alice.getAddress();
    const capacity = await ledger.mintable(issuer);
    await expect(trustA.mintForDeposit(to, capacity + 1n, ref("too-much"))).to.be.revertedWithCustomError(
      ledger,
      "ReserveLedgerInsufficientReserve",
    );
    await networkHelpers.time.increase(24 * 3600 + 1);
    expect(await ledger.mintable(issuer)).to.equal(0n);
    await expect(trustA.mintForDeposit(to, 1n, ref("stale"))).to.be.revertedWithCustomError(
      ledger,
      "ReserveLedgerStaleAttestation",
    );
    // A fresh attestation opens minting again.
    await ledger.connect(accounts.attestor).attestReserve(issuer, 1_000n, await networkHelpers.time.latest());
    await trustA.mintForDeposit(to, 1_000n, ref("fresh"));
    await expect(trustA.mintForDeposit(to, 1n, ref("over"))).to.be.revertedWithCustomError(
      ledger,
      "ReserveLedgerInsufficientReserve",
    );
  });

  it("an attestation below outstanding issuance puts the bank in breach and stops its minting only", async function () {
    const { ledger, trustA, trustB, networkHelpers, accounts } = suite;
    const a = await trustA.getAddress();
    await trustA.mintForDeposit(await alice.getAddress(), 5_000n, ref("a-1"));
    await expect(ledger.connect(accounts.attestor).attestReserve(a, 4_000n, await networkHelpers.time.latest()))
      .to.emit(ledger, "ReserveBreached")
      .withArgs(a, 4_000n, 5_000n, 10_000);
    await expect(trustA.mintForDeposit(await alice.getAddress(), 1n, ref("a-2")))
      .to.be.revertedWithCustomError(ledger, "ReserveLedgerIssuerBreached")
      .withArgs(a);
    await trustB.mintForDeposit(await bob.getAddress(), 1n, ref("b-1"));
  });

  it("holds tokens for a redemption, burns them when the bank pays out, returns them when it rejects", async function () {
    const { token, ledger, trustA } = suite;
    const holder = await alice.getAddress();
    const trust = await trustA.getAddress();
    await trustA.mintForDeposit(holder, 10_000n, ref("dep"));
    await token.connect(alice).approve(trust, 10_000n);

    await expect(trustA.connect(alice).requestRedemption(6_000n, ref("IBAN-1")))
      .to.emit(trustA, "RedemptionRequested")
      .withArgs(1n, holder, 6_000n, ref("IBAN-1"));
    expect(await token.balanceOf(trust)).to.equal(6_000n);
    expect(await trustA.heldForRedemptions()).to.equal(6_000n);
    expect(await token.totalSupply()).to.equal(10_000n);

    await expect(trustA.confirmRedemption(1n, ref("payout-1")))
      .to.emit(trustA, "RedemptionPaid")
      .withArgs(1n, holder, ref("payout-1"), 6_000n)
      .and.to.emit(token, "Burn")
      .withArgs(trust, 6_000n, ref("payout-1"));
    expect(await token.totalSupply()).to.equal(4_000n);
    expect(await ledger.outstandingOf(trust)).to.equal(4_000n);
    await expect(trustA.rejectRedemption(1n, ref("late")))
      .to.be.revertedWithCustomError(trustA, "TrustAccountInvalidRedemptionState")
      .withArgs(1n, 2, 1);

    await trustA.connect(alice).requestRedemption(4_000n, ref("IBAN-1"));
    await expect(trustA.rejectRedemption(2n, ref("ACCOUNT_CLOSED")))
      .to.emit(trustA, "RedemptionRejected")
      .withArgs(2n, holder, ref("ACCOUNT_CLOSED"), 4_000n);
    expect(await token.balanceOf(holder)).to.equal(4_000n);
    expect(await trustA.heldForRedemptions()).to.equal(0n);
    // A payout reference is single-use across deposits and payouts.
    await expect(trustA.mintForDeposit(holder, 1n, ref("payout-1")))
      .to.be.revertedWithCustomError(trustA, "TrustAccountFiatRefUsed")
      .withArgs(ref("payout-1"));
  });

  it("a compliance wipe takes the seized balance off the named issuer's outstanding issuance", async function () {
    const { token, ledger, trustA, accounts } = suite;
    const holder = await alice.getAddress();
    const issuer = await trustA.getAddress();
    await trustA.mintForDeposit(holder, 7_000n, ref("dep"));
    await token.connect(accounts.compliance).freeze(holder);
    // Compliance orders, the issuance side (MINTER_ADMIN_ROLE) confirms the issuer charged.
    const minterAdmin = token.connect(accounts.issuanceAdmin);
    await (await token.connect(accounts.compliance).wipeFrozen(holder, await bob.getAddress(), ref("ORDER-1"))).wait();
    await expect(minterAdmin.confirmWipe(holder, await bob.getAddress()))
      .to.be.revertedWithCustomError(ledger, "ReserveLedgerWipeNotIssuer")
      .withArgs(await bob.getAddress());
    await (await token.connect(accounts.compliance).wipeFrozen(holder, issuer, ref("ORDER-1"))).wait();
    expect(await token.balanceOf(holder)).to.equal(7_000n);
    await expect(minterAdmin.confirmWipe(holder, issuer))
      .to.emit(token, "FrozenBalanceWiped")
      .withArgs(holder, issuer, 7_000n, ref("ORDER-1"));
    expect(await token.balanceOf(holder)).to.equal(0n);
    expect(await ledger.outstandingOf(issuer)).to.equal(0n);
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
  });

  it("keeps the sum of outstanding issuance equal to totalSupply through any sequence of operations", async function () {
    this.timeout(300_000);
    const { token, ledger, trustA, trustB } = suite;
    const holders = [alice, bob];
    const trusts: TrustAccount[] = [trustA, trustB];
    let n = 0;
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("deposit" as const),
        bank: fc.nat(1),
        holder: fc.nat(1),
        amount: fc.bigInt(1n, 50_000n),
      }),
      fc.record({
        kind: fc.constant("redeem" as const),
        bank: fc.nat(1),
        holder: fc.nat(1),
        amount: fc.bigInt(1n, 50_000n),
        pay: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("transfer" as const), holder: fc.nat(1), amount: fc.bigInt(1n, 50_000n) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        for (const o of ops) {
          n += 1;
          const holder = holders[o.holder]!;
          const address = await holder.getAddress();
          const balance = await token.balanceOf(address);
          if (o.kind === "deposit") {
            await trusts[o.bank]!.mintForDeposit(address, o.amount, ref(`d${n}`));
          } else if (o.kind === "transfer") {
            const amount = o.amount > balance ? balance : o.amount;
            if (amount > 0n) await token.connect(holder).transfer(await holders[1 - o.holder]!.getAddress(), amount);
          } else {
            // A holder redeems at the bank that issued at least that much (the ledger refuses more).
            const trust = trusts[o.bank]!.connect(holder);
            const issued = await ledger.outstandingOf(await trust.getAddress());
            const amount = [o.amount, balance, issued].reduce((a, b) => (a < b ? a : b));
            if (amount === 0n) continue;
            await token.connect(holder).approve(await trust.getAddress(), amount);
            await trust.requestRedemption(amount, ref("acct"));
            const id = await trust.lastRedemptionId();
            const operator = trusts[o.bank]!;
            if (o.pay) await operator.confirmRedemption(id, ref(`p${n}`));
            else await operator.rejectRedemption(id, ref("REJECTED"));
          }
          expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());
        }
      }),
      { numRuns: 15 },
    );
  });
});
