/**
 * The card gateway's response codes (DE 39) for the ledger's refusals: a
 * closed or unknown profile is 14 (a final "no such account"), never 91
 * (issuer unavailable, which networks retry or stand in for). The mapping as
 * a table, then end to end over TCP against bank A's AccountLedger.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import { RESPONSE_CODES, responseForLedgerError } from "../../src/iso8583/responses.js";
import { cardRequest, gatewayPerTest, openCardAccount, originalData, profile, reversalOf } from "./gateway-helpers.js";

describe("iso8583: response codes for ledger refusals", function () {
  it("maps every AccountLedger refusal the gateway can meet to its DE 39 code, anything else to 91", function () {
    const table: Record<string, string> = {
      InsufficientFunds: "51",
      OverLimit: "61",
      UnknownProfile: "14",
      ProfileClosed: "14",
      AccountLedgerZeroAmount: "13",
      AmountTooLarge: "13",
      CaptureExceedsHold: "13",
      ReversalExceedsOutstanding: "13",
      HoldNotOpen: "12",
      NotReversible: "12",
      UnknownOperation: "12",
      RatioBreached: "91",
      AccessControlUnauthorizedAccount: "91",
      InsufficientCentralTokens: "91",
      "": "91",
    };
    for (const [error, code] of Object.entries(table)) expect(responseForLedgerError(error), error).to.equal(code);
    expect(RESPONSE_CODES).to.deep.equal({
      approved: "00",
      invalidTransaction: "12",
      invalidAmount: "13",
      unknownAccount: "14",
      noOriginal: "25",
      formatError: "30",
      insufficientFunds: "51",
      expiredCard: "54",
      overLimit: "61",
      restrictedCard: "62",
      securityViolation: "63",
      unavailable: "91",
      duplicate: "94",
    });
  });

  describe("over TCP", function () {
    this.timeout(60_000);
    const gw = gatewayPerTest({ timeoutMs: 1_500 });

    it("answers 14 to an authorization, a debit and a refund on a closed profile, and logs no 91", async function () {
      const { wallet } = await openCardAccount(gw.world, 1_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect((await gw.client.request(sale)).fields[39]).to.equal("00");
      await (await gw.world.ledger.connect(gw.world.suite.accounts.bankA).closeProfile(wallet)).wait();
      const hold = await gw.client.request(cardRequest("0100", wallet, 100n));
      expect([hold.mti, hold.fields[39]]).to.deep.equal(["0110", "14"]);
      expect(hold.fields[38]).to.equal(undefined);
      const debit = await gw.client.request(cardRequest("0200", wallet, 100n));
      expect([debit.mti, debit.fields[39]]).to.deep.equal(["0210", "14"]);
      const refund = await gw.client.request(
        cardRequest("0200", wallet, 100n, { 3: "200000", 90: originalData(sale) }),
      );
      expect([refund.mti, refund.fields[39]]).to.deep.equal(["0210", "14"]);
      expect(gw.running.logs.filter((line) => / refused by the ledger | unavailable /.test(line))).to.deep.equal([]);
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 0n, held: 0n });
    });

    it("a repeat of a message answered 14 gets that answer again, and is not retried", async function () {
      const { wallet } = await openCardAccount(gw.world, 0n);
      await (await gw.world.ledger.connect(gw.world.suite.accounts.bankA).closeProfile(wallet)).wait();
      const request = cardRequest("0200", wallet, 100n);
      expect((await gw.client.request(request)).fields[39]).to.equal("14");
      const blockBefore = await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });
      expect((await gw.client.request({ ...request, mti: "0201" })).fields[39]).to.equal("14");
      expect(await gw.world.suite.connection.provider.request({ method: "eth_blockNumber" })).to.equal(blockBefore);
    });

    it("answers 91 to a refusal the issuer must fix (the ledger's ratio), and logs it", async function () {
      const { ledger, suite } = gw.world;
      const bank = ledger.connect(suite.accounts.bankA);
      const { wallet } = await openCardAccount(gw.world, 1_000n);
      const debit = cardRequest("0200", wallet, 600n);
      expect((await gw.client.request(debit)).fields[39]).to.equal("00");
      // The bank asks for a full reserve and takes its central tokens down to exactly the liabilities:
      // undoing the debit would raise the liabilities above the reserve, which the issuer cannot take now.
      const minBefore = await ledger.minRatioBps();
      const spare = (await ledger.centralToken()) - (await ledger.tokenLiabilities());
      await (await bank.setMinRatio(10_000)).wait();
      await (
        await bank.defundTokens(keccak256(toUtf8Bytes("test:ratio:defund")), suite.accounts.bankA.address, spare)
      ).wait();
      try {
        const reversal = await gw.client.request(reversalOf(debit));
        expect(reversal.fields[39]).to.equal("91");
        expect(gw.running.logs.some((line) => / refused by the ledger with RatioBreached/.test(line))).to.equal(true);
        expect((await profile(gw.world, wallet)).token).to.equal(400n);
      } finally {
        await (await suite.token.connect(suite.accounts.bankA).approve(await ledger.getAddress(), spare)).wait();
        await (await bank.fundTokens(keccak256(toUtf8Bytes("test:ratio:refund")), spare)).wait();
        await (await bank.setMinRatio(minBefore)).wait();
      }
    });
  });
});
