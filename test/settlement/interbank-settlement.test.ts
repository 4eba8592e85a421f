import { expect } from "chai";
import { AbiCoder, encodeBytes32String, keccak256, toUtf8Bytes } from "ethers";

import { DEVNET_CORRIDOR } from "../../deploy/_config.js";
import { InterbankSettlement__factory, type InterbankSettlement } from "../../typechain-types/index.js";
import { deploySuite, type Suite } from "../helpers/suite.js";

const ref = (label: string) => encodeBytes32String(label);

describe("settlement: InterbankSettlement as the deploy scripts wire it", function () {
  let suite: Suite;
  let settlement: InterbankSettlement;
  let bankA: string;
  let bankB: string;

  beforeEach(async function () {
    suite = await deploySuite();
    settlement = InterbankSettlement__factory.connect(
      suite.deployments.get("InterbankSettlement").address,
      suite.accounts.schemeAdmin,
    );
    bankA = await suite.trustA.getAddress();
    bankB = await suite.trustB.getAddress();
  });

  /** Terms of a payment from A to B, due an hour after the latest block. */
  async function terms(label: string, amount: bigint) {
    return {
      id: ref(label),
      debtorBank: bankA,
      creditorBank: bankB,
      amount,
      creditorAccountRef: keccak256(toUtf8Bytes(`beneficiary of ${label}`)),
      deadline: BigInt(await suite.networkHelpers.time.latest()) + 3_600n,
    };
  }

  it("is wired to the token, the ledger and both trust accounts, with both corridors open", async function () {
    const { token, ledger, trustA, trustB, accounts } = suite;
    const address = await settlement.getAddress();
    expect(await settlement.token()).to.equal(await token.getAddress());
    expect(await settlement.ledger()).to.equal(await ledger.getAddress());
    expect(await token.isMinter(address)).to.equal(true);
    expect(await token.minterAllowance(address)).to.equal(0n);
    const issuer = await ledger.issuer(address);
    expect(issuer.registered).to.equal(true);
    expect(issuer.active).to.equal(false);
    expect(await ledger.hasRole(await ledger.SETTLEMENT_ROLE(), address)).to.equal(true);
    for (const trust of [trustA, trustB]) {
      expect(await trust.hasRole(await trust.SETTLEMENT_ROLE(), address)).to.equal(true);
    }
    expect(await settlement.agentOf(bankA)).to.equal(await accounts.bankA.getAddress());
    expect(await settlement.agentOf(bankB)).to.equal(await accounts.bankB.getAddress());
    for (const [debtor, creditor] of [
      [bankA, bankB],
      [bankB, bankA],
    ] as const) {
      const c = await settlement.corridor(debtor, creditor);
      expect(c.open).to.equal(true);
      expect(c.paused).to.equal(false);
      expect(c.inFlightCap).to.equal(DEVNET_CORRIDOR.inFlightCap);
      expect(c.windowCap).to.equal(DEVNET_CORRIDOR.windowCap);
      expect(c.windowLength).to.equal(BigInt(DEVNET_CORRIDOR.windowLength));
    }
  });

  it("pays from A to B: initiate, smelt, acknowledge, with the reserves exact at every step", async function () {
    const { token, ledger, accounts } = suite;
    const t = await terms("E2E-1", 2_500_00n);
    const address = await settlement.getAddress();

    await expect(settlement.connect(accounts.bankA).initiate(t))
      .to.emit(settlement, "SettlementInitiated")
      .withArgs(t.id, bankA, bankB, t.amount, t.creditorAccountRef, t.deadline)
      .and.to.emit(settlement, "SettlementDelivered")
      .withArgs(t.id, bankA, bankB)
      .and.to.emit(token, "Mint")
      .withArgs(bankA, address, t.amount, t.id);
    expect(await settlement.stateOf(bankA, t.id)).to.equal(2n); // Delivered
    expect(await token.balanceOf(address)).to.equal(t.amount);
    expect(await ledger.totalOutstanding()).to.equal(await token.totalSupply());

    // The digest the agents compute off chain is the one stored.
    const encoded = AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "address", "address", "uint256", "bytes32", "uint40"],
      [t.id, t.debtorBank, t.creditorBank, t.amount, t.creditorAccountRef, t.deadline],
    );
    const digest = BigInt(keccak256(encoded)) & ~((1n << 48n) - 1n);
    expect(BigInt((await settlement.settlement(bankA, t.id)).termsDigest)).to.equal(digest);

    await expect(settlement.connect(accounts.bankB).smelt(t, ref("B-credit-1")))
      .to.emit(settlement, "SettlementSmelted")
      .withArgs(t.id, bankA, bankB, t.amount, ref("B-credit-1"))
      .and.to.emit(token, "Burn")
      .withArgs(address, t.amount, ref("B-credit-1"));
    expect(await token.totalSupply()).to.equal(0n);
    expect(await ledger.totalOutstanding()).to.equal(0n);
    expect(await ledger.claimOf(bankB, bankA)).to.equal(t.amount);
    expect(await ledger.owedBy(bankA)).to.equal(t.amount);

    await expect(settlement.connect(accounts.bankA).acknowledge(t))
      .to.emit(settlement, "SettlementAcknowledged")
      .withArgs(t.id, bankA);
    expect(await settlement.stateOf(bankA, t.id)).to.equal(4n); // Acknowledged
    expect((await settlement.corridor(bankA, bankB)).inFlight).to.equal(0n);

    // The attestor records the fiat transfer that settles the claim.
    await expect(ledger.connect(accounts.attestor).netClaim(bankB, bankA, t.amount, ref("wire-1")))
      .to.emit(ledger, "InterbankClaimNetted")
      .withArgs(bankB, bankA, ref("wire-1"), t.amount, 0n);
    expect(await ledger.claimOf(bankB, bankA)).to.equal(0n);
  });

  it("refuses a step from the wrong bank's agent or in the wrong state, with typed errors", async function () {
    const { accounts } = suite;
    const t = await terms("E2E-2", 1_00n);
    await expect(settlement.connect(accounts.bankB).initiate(t))
      .to.be.revertedWithCustomError(settlement, "InterbankSettlementUnauthorizedAgent")
      .withArgs(bankA, await accounts.bankB.getAddress());
    await settlement.connect(accounts.bankA).initiate(t);
    await expect(settlement.connect(accounts.bankA).initiate(t))
      .to.be.revertedWithCustomError(settlement, "InterbankSettlementInvalidState")
      .withArgs(bankA, t.id, 2n, 0n);
    await expect(settlement.connect(accounts.bankA).acknowledge(t))
      .to.be.revertedWithCustomError(settlement, "InterbankSettlementInvalidState")
      .withArgs(bankA, t.id, 2n, 3n);
    const over = { ...(await terms("E2E-3", DEVNET_CORRIDOR.inFlightCap)) };
    await expect(settlement.connect(accounts.bankA).initiate(over))
      .to.be.revertedWithCustomError(settlement, "InterbankSettlementInFlightLimitExceeded")
      .withArgs(bankA, bankB, 1_00n, DEVNET_CORRIDOR.inFlightCap, DEVNET_CORRIDOR.inFlightCap);
  });

  it("returns a rejected payment and refunds an expired one at A's trust account", async function () {
    const { token, ledger, trustA, accounts, networkHelpers } = suite;
    const rejected = await terms("E2E-4", 40_00n);
    const expired = await terms("E2E-5", 60_00n);
    await settlement.connect(accounts.bankA).initiate(rejected);
    await settlement.connect(accounts.bankA).initiate(expired);
    await expect(settlement.connect(accounts.bankB).reject(rejected, encodeBytes32String("AC04")))
      .to.emit(settlement, "SettlementRejected")
      .withArgs(rejected.id, bankA, bankB, encodeBytes32String("AC04"));
    await expect(settlement.connect(accounts.bankA).returnRejected(rejected, ref("A-recredit-4")))
      .to.emit(settlement, "SettlementReturned")
      .withArgs(rejected.id, bankA, ref("A-recredit-4"))
      .and.to.emit(token, "Burn")
      .withArgs(bankA, rejected.amount, ref("A-recredit-4"));
    expect(await trustA.isFiatRefUsed(ref("A-recredit-4"))).to.equal(true);

    await networkHelpers.time.increaseTo(expired.deadline + 1n);
    expect(await settlement.stateOf(bankA, expired.id)).to.equal(7n); // Expired, without a transaction
    await expect(settlement.connect(accounts.bankA).refundExpired(expired, ref("A-recredit-5")))
      .to.emit(settlement, "SettlementRefunded")
      .withArgs(expired.id, bankA, ref("A-recredit-5"));
    expect(await token.totalSupply()).to.equal(0n);
    expect(await ledger.totalOutstanding()).to.equal(0n);
    expect(await ledger.claimOf(bankB, bankA)).to.equal(0n);
    expect(await settlement.totalInFlight()).to.equal(0n);
  });
});
