/**
 * The card gateway's response codes (DE 39) for the ledger's refusals: a
 * closed or unknown profile is 14 (a final "no such account"), never 91
 * (issuer unavailable, which networks retry or stand in for). The mapping as
 * a table, then end to end over TCP against bank A's AccountLedger.
 */
import { expect } from "chai";

import { RESPONSE_CODES, responseForLedgerError } from "../../src/iso8583/responses.js";
import { cardRequest, gatewayPerTest, openCardAccount, profile } from "./gateway-helpers.js";

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
      formatError: "30",
      insufficientFunds: "51",
      overLimit: "61",
      unavailable: "91",
      duplicate: "94",
    });
  });

  describe("over TCP", function () {
    this.timeout(60_000);
    const gw = gatewayPerTest({ timeoutMs: 1_500 });

    it("answers 14 to an authorization, a debit and a refund on a closed profile, and logs no 91", async function () {
      const { wallet } = await openCardAccount(gw.world, 0n);
      await (await gw.world.ledger.connect(gw.world.suite.accounts.bankA).closeProfile(wallet)).wait();
      const hold = await gw.client.request(cardRequest("0100", wallet, 100n));
      expect([hold.mti, hold.fields[39]]).to.deep.equal(["0110", "14"]);
      expect(hold.fields[38]).to.equal(undefined);
      const debit = await gw.client.request(cardRequest("0200", wallet, 100n));
      expect([debit.mti, debit.fields[39]]).to.deep.equal(["0210", "14"]);
      const refund = await gw.client.request(cardRequest("0200", wallet, 100n, { 3: "200000" }));
      expect([refund.mti, refund.fields[39]]).to.deep.equal(["0210", "14"]);
      expect(gw.running.logs.filter((line) => / refused by the ledger | unavailable /.test(line))).to.deep.equal([]);
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 0n, held: 0n });
    });

    it("a repeat of a message answered 14 is a duplicate (94), not a retry", async function () {
      const { wallet } = await openCardAccount(gw.world, 0n);
      await (await gw.world.ledger.connect(gw.world.suite.accounts.bankA).closeProfile(wallet)).wait();
      const request = cardRequest("0200", wallet, 100n);
      expect((await gw.client.request(request)).fields[39]).to.equal("14");
      expect((await gw.client.request({ ...request, mti: "0201" })).fields[39]).to.equal("94");
    });

    it("answers 91 to a refusal the issuer must fix (the ledger's ratio), and logs it", async function () {
      const { wallet } = await openCardAccount(gw.world, 1_000n);
      // Crediting more tokens than the central account holds would breach the ratio: the issuer cannot take it.
      const big = await gw.client.request(cardRequest("0200", wallet, 10n ** 15n, { 3: "200000" }));
      expect(big.fields[39]).to.equal("91");
      expect(gw.running.logs.some((line) => / refused by the ledger with /.test(line))).to.equal(true);
    });
  });
});
