/**
 * The card gateway as acquirers and processors hold it to, over real TCP
 * against bank A's AccountLedger: transactions identified by acquirer,
 * terminal, merchant, STAN, local time and RRN (two acquirers colliding on a
 * STAN never touch each other's transactions), repeats answered with the
 * first answer, DE 4 as the amount of record, DE 95 partial reversals,
 * refunds bound to their sale, card controls, advices, and MACs.
 */
import { expect } from "chai";

import { encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import { withMac, verifyMac } from "../../src/iso8583/mac.js";
import { encodeWalletData } from "../../src/iso8583/wallet-data.js";
import {
  ACQUIRER,
  cardRequest,
  gatewayPerTest,
  IsoClient,
  nextPan,
  openCardAccount,
  originalData,
  profile,
  refundOf,
  replacementAmounts,
  reversalOf,
  waitForStan,
} from "./gateway-helpers.js";

const ACQUIRER_B = "654321";
const MAC_ACQUIRER = "777001";
const MAC_KEY = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");

describe("iso8583: the gateway, acquirer-grade", function () {
  this.timeout(120_000);
  const gw = gatewayPerTest({ timeoutMs: 5_000, macKeys: new Map([[MAC_ACQUIRER, MAC_KEY]]) });

  const ask = (message: Iso8583Message) => gw.client.request(message);
  const code = async (message: Iso8583Message) => (await ask(message)).fields[39];
  const block = () => gw.world.suite.connection.provider.request({ method: "eth_blockNumber" });
  /** `message` as acquirer `acquirer` sends it: DE 32, and DE 90 naming the original under that acquirer. */
  const from = (acquirer: string, message: Iso8583Message): Iso8583Message => {
    const fields: Record<number, string> = { ...message.fields, 32: acquirer };
    if (fields[90] !== undefined) {
      fields[90] = `${fields[90].slice(0, 20)}${acquirer.padStart(11, "0")}${fields[90].slice(31)}`;
    }
    return { mti: message.mti, fields };
  };

  describe("identity: two acquirers colliding on STAN, DE 7 and terminal", function () {
    it("acquirer B's reversal reaches only B's debit, never A's", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const bob = await openCardAccount(gw.world, 10_000n);
      const debitA = cardRequest("0200", alice.wallet, 3_000n);
      // B's debit has the very same STAN, DE 7, DE 12/13 and terminal id.
      const debitB = from(ACQUIRER_B, cardRequest("0200", bob.wallet, 1_000n));
      const collide = { 11: debitA.fields[11]!, 12: debitA.fields[12]!, 13: debitA.fields[13]! };
      Object.assign(debitB.fields, collide);
      expect(await code(debitA)).to.equal("00");
      expect(await code(debitB)).to.equal("00");
      const reversalB = from(ACQUIRER_B, reversalOf(debitB));
      const answered = await ask(reversalB);
      expect([answered.mti, answered.fields[39], answered.fields[32], answered.fields[90]]).to.deep.equal([
        "0410",
        "00",
        ACQUIRER_B,
        reversalB.fields[90],
      ]);
      expect((await profile(gw.world, alice.wallet)).token).to.equal(7_000n);
      expect((await profile(gw.world, bob.wallet)).token).to.equal(10_000n);
    });

    it("a reversal from B naming A's debit (A's acquirer in DE 90) is 25 and changes nothing", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const debitA = cardRequest("0200", alice.wallet, 2_000n);
      expect(await code(debitA)).to.equal("00");
      const before = await block();
      // B sends a reversal whose DE 90 names A's transaction exactly, A's acquirer id included.
      const forged = { mti: "0400", fields: { ...reversalOf(debitA).fields, 32: ACQUIRER_B } };
      expect(await code(forged)).to.equal("25");
      // And one naming B as the acquirer of that STAN finds nothing either.
      expect(await code(from(ACQUIRER_B, reversalOf(debitA)))).to.equal("25");
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, alice.wallet)).token).to.equal(8_000n);
    });

    it("a completion from another terminal or another acquirer cannot capture a hold", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const hold = cardRequest("0100", alice.wallet, 3_000n);
      expect(await code(hold)).to.equal("00");
      const otherTerminal = cardRequest("0200", alice.wallet, 3_000n, { 41: "TERM0002", 90: originalData(hold) });
      expect(await code(otherTerminal)).to.equal("25");
      const otherAcquirer = from(ACQUIRER_B, cardRequest("0200", alice.wallet, 3_000n, { 90: originalData(hold) }));
      expect(await code(otherAcquirer)).to.equal("25");
      expect(await profile(gw.world, alice.wallet)).to.deep.equal({ token: 10_000n, held: 3_000n });
      const completion = cardRequest("0200", alice.wallet, 3_000n, { 90: originalData(hold) });
      expect(await code(completion)).to.equal("00");
      expect(await profile(gw.world, alice.wallet)).to.deep.equal({ token: 7_000n, held: 0n });
    });

    it("repeats from two acquirers with the same STAN each get their own first answer", async function () {
      const alice = await openCardAccount(gw.world, 10_000n);
      const bob = await openCardAccount(gw.world, 100n);
      const debitA = cardRequest("0200", alice.wallet, 500n);
      const debitB = from(ACQUIRER_B, cardRequest("0200", bob.wallet, 500n, { 11: debitA.fields[11]! }));
      const firstA = await ask(debitA);
      const firstB = await ask(debitB);
      expect([firstA.fields[39], firstB.fields[39]]).to.deep.equal(["00", "51"]);
      const repeatA = await ask({ ...debitA, mti: "0201" });
      const repeatB = await ask({ ...debitB, mti: "0201" });
      expect([repeatA.fields[38], repeatA.fields[39]]).to.deep.equal([firstA.fields[38], "00"]);
      expect([repeatB.fields[38], repeatB.fields[39]]).to.deep.equal([undefined, "51"]);
      expect((await profile(gw.world, alice.wallet)).token).to.equal(9_500n);
      expect((await profile(gw.world, bob.wallet)).token).to.equal(100n);
    });
  });

  describe("repeats", function () {
    it("a repeat after a lost response gets the original approval, DE 38 included, and posts nothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const request = cardRequest("0200", wallet, 1_234n);
      const lost = await ask(request); // the acquirer never saw this answer
      const before = await block();
      const repeat = await ask({ ...request, mti: "0201" });
      expect(repeat.mti).to.equal("0210");
      expect([repeat.fields[38], repeat.fields[39]]).to.deep.equal([lost.fields[38], "00"]);
      expect(repeat.fields[38]).to.match(/^[0-9A-F]{6}$/);
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, wallet)).token).to.equal(8_766n);
    });

    it("a retransmission with a new DE 7 posts once", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const request = cardRequest("0200", wallet, 1_000n);
      const first = await ask(request);
      const again = await ask({ mti: "0200", fields: { ...request.fields, 7: "1128120507" } });
      expect([again.fields[38], again.fields[39], again.fields[7]]).to.deep.equal([
        first.fields[38],
        "00",
        "1128120507",
      ]);
      expect((await profile(gw.world, wallet)).token).to.equal(9_000n);
    });

    it("a different message reusing a known identity is 94 and posts nothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const request = cardRequest("0200", wallet, 1_000n);
      expect(await code(request)).to.equal("00");
      const reused = cardRequest("0200", wallet, 9_000n, {
        11: request.fields[11]!,
        37: request.fields[37]!,
      });
      expect(await code(reused)).to.equal("94");
      expect((await profile(gw.world, wallet)).token).to.equal(9_000n);
    });

    it("a repeated reversal (0401, or 0420 after an unanswered 0400) gets the first answer and reverses once", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 1_000n);
      expect(await code(debit)).to.equal("00");
      const reversal = reversalOf(debit);
      expect(await code(reversal)).to.equal("00");
      expect(await code({ ...reversal, mti: "0401" })).to.equal("00");
      const advice = await ask({ ...reversal, mti: "0420" });
      expect([advice.mti, advice.fields[39]]).to.deep.equal(["0430", "00"]);
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });
  });

  describe("amounts", function () {
    it("DE 4 is the amount of record: a wallet-data amount that disagrees is 13 and posts nothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 500_000n);
      const before = await block();
      // DE 4 says 0.01; the wallet data says 3,000.00.
      const mismatch = cardRequest("0200", wallet, 1n, { 48: encodeWalletData({ address: wallet, amount: 300_000n }) });
      expect(await code(mismatch)).to.equal("13");
      expect(await code(cardRequest("0200", wallet, 100n, { 49: "978" }))).to.equal("13");
      expect(
        await code(
          cardRequest("0200", wallet, 100n, {
            4: "000000000000",
            48: encodeWalletData({ address: wallet, amount: 1n }),
          }),
        ),
      ).to.equal("13");
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, wallet)).token).to.equal(500_000n);
    });

    it("a DE 95 partial reversal reverses only the difference; a second one down to zero reverses the rest", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const debit = cardRequest("0200", wallet, 3_000n);
      expect(await code(debit)).to.equal("00");
      const partial = reversalOf(debit);
      const replacement = replacementAmounts;
      const answer = await ask({ ...partial, fields: { ...partial.fields, 95: replacement(2_000n) } });
      expect([answer.fields[39], answer.fields[95]]).to.deep.equal(["00", replacement(2_000n)]);
      expect((await profile(gw.world, wallet)).token).to.equal(8_000n);
      // Above what is left: 13.
      const above = reversalOf(debit);
      expect(await code({ ...above, fields: { ...above.fields, 95: replacement(2_500n) } })).to.equal("13");
      expect(await code(reversalOf(debit))).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("a DE 95 partial reversal of an authorization lowers the hold; the completion is bounded by what is left", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const hold = cardRequest("0100", wallet, 5_000n);
      expect(await code(hold)).to.equal("00");
      const partial = reversalOf(hold);
      const de95 = replacementAmounts(3_000n);
      expect(await code({ ...partial, fields: { ...partial.fields, 95: de95 } })).to.equal("00");
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 10_000n, held: 3_000n });
      expect(await code(cardRequest("0200", wallet, 3_001n, { 90: originalData(hold) }))).to.equal("13");
      expect(await code(cardRequest("0200", wallet, 3_000n, { 90: originalData(hold) }))).to.equal("00");
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 7_000n, held: 0n });
    });
  });

  describe("refunds", function () {
    it("a refund above what its sale captured less earlier refunds is 13", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const refund = (amount: bigint) => cardRequest("0200", wallet, amount, { 3: "200000", 90: originalData(sale) });
      expect(await code(refund(1_001n))).to.equal("13");
      expect(await code(refund(600n))).to.equal("00");
      expect(await code(refund(401n))).to.equal("13");
      expect(await code(refund(400n))).to.equal("00");
      expect(await code(refund(1n))).to.equal("13");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("a refund found by the sale's DE 37 at the same merchant credits the sale's card", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const sale = cardRequest("0200", wallet, 1_000n);
      expect(await code(sale)).to.equal("00");
      const refund = cardRequest("0200", wallet, 1_000n, { 3: "200000", 37: sale.fields[37]!, 41: "TERM0009" });
      expect(await code(refund)).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("a refund without an original is 12, with an unknown original 25, and of another card's sale 12", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const other = await openCardAccount(gw.world, 10_000n);
      const before = await block();
      const { 37: _rrn, ...noReference } = cardRequest("0200", wallet, 100n, { 3: "200000" }).fields;
      expect(await code({ mti: "0200", fields: noReference })).to.equal("12");
      expect(await code(cardRequest("0200", wallet, 100n, { 3: "200000" }))).to.equal("25");
      const ghost = cardRequest("0200", wallet, 100n);
      expect(await code(cardRequest("0200", wallet, 100n, { 3: "200000", 90: originalData(ghost) }))).to.equal("25");
      expect(await block()).to.equal(before);
      const otherSale = cardRequest("0200", other.wallet, 500n);
      expect(await code(otherSale)).to.equal("00");
      expect(await code(cardRequest("0200", wallet, 100n, { 3: "200000", 90: originalData(otherSale) }))).to.equal(
        "12",
      );
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });

    it("a refund over the card's per-transaction limit is 61, though its sale was larger", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000_000n, 100_000n);
      const sales = [cardRequest("0200", wallet, 100_000n), cardRequest("0200", wallet, 100_000n)];
      for (const sale of sales) expect(await code(sale)).to.equal("00");
      // The bank raises the limit for a moment, a big sale goes through, the limit comes back.
      const bank = gw.world.ledger.connect(gw.world.suite.accounts.bankA);
      await (await bank.setLimit(wallet, 0n)).wait();
      const big = cardRequest("0200", wallet, 5_000_000n);
      expect(await code(big)).to.equal("00");
      await (await bank.setLimit(wallet, 100_000n)).wait();
      expect(await code(cardRequest("0200", wallet, 100_001n, { 3: "200000", 90: originalData(big) }))).to.equal("61");
      expect((await profile(gw.world, wallet)).token).to.equal(4_800_000n);
    });
  });

  describe("card controls", function () {
    it("refuses unknown (14), mismatched (14), Luhn-invalid (14), expired (54) and blocked (62) cards", async function () {
      const { wallet, pan } = await openCardAccount(gw.world, 10_000n);
      const other = await openCardAccount(gw.world, 10_000n);
      const before = await block();
      expect(await code(cardRequest("0200", wallet, 100n, { 2: "0000000000000000" }))).to.equal("14");
      expect(await code(cardRequest("0200", wallet, 100n, { 2: nextPan() }))).to.equal("14"); // valid, not on file
      expect(await code(cardRequest("0200", wallet, 100n, { 2: other.pan }))).to.equal("14"); // someone else's card
      const luhnBroken = `${pan.slice(0, -1)}${(Number(pan.at(-1)) + 1) % 10}`;
      expect(await code(cardRequest("0200", wallet, 100n, { 2: luhnBroken }))).to.equal("14");
      expect(await code(cardRequest("0200", wallet, 100n, { 14: "2911" }))).to.equal("54"); // not the card's expiry
      gw.world.cards.put(pan, "2411", wallet);
      expect(await code(cardRequest("0200", wallet, 100n))).to.equal("54"); // expired November 2024
      gw.world.cards.put(pan, "3012", wallet, "blocked");
      expect(await code(cardRequest("0200", wallet, 100n))).to.equal("62");
      gw.world.cards.put(pan, "3012", wallet);
      expect(await block()).to.equal(before);
      expect(await code(cardRequest("0200", wallet, 100n, { 14: "3012" }))).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(9_900n);
    });

    it("reads DE 3 in full: account types other than default or current are 12", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      for (const processing of ["003000", "000020", "001000", "200030", "203000", "090000"]) {
        expect(await code(cardRequest("0200", wallet, 100n, { 3: processing })), processing).to.equal("12");
      }
      expect(await code(cardRequest("0200", wallet, 100n, { 3: "002000" }))).to.equal("00");
      expect((await profile(gw.world, wallet)).token).to.equal(9_900n);
    });
  });

  describe("advices", function () {
    it("0120 and 0220 are posted past the per-transaction limit, once, and answered 0130 / 0230", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n, 1_000n);
      expect(await code(cardRequest("0200", wallet, 2_000n))).to.equal("61");
      const standIn = { ...cardRequest("0100", wallet, 2_000n), mti: "0120" };
      const held = await ask(standIn);
      expect([held.mti, held.fields[39]]).to.deep.equal(["0130", "00"]);
      const forced = { ...cardRequest("0200", wallet, 3_000n), mti: "0220" };
      const posted = await ask(forced);
      expect([posted.mti, posted.fields[39]]).to.deep.equal(["0230", "00"]);
      expect(await code({ ...forced, mti: "0221" })).to.equal("00");
      expect(await profile(gw.world, wallet)).to.deep.equal({ token: 7_000n, held: 2_000n });
      // Funds still bind: an advice for more than the card holds is answered 51 and posts nothing.
      expect(await code({ ...cardRequest("0200", wallet, 6_000n), mti: "0220" })).to.equal("51");
    });
  });

  describe("message authentication", function () {
    const signed = (message: Iso8583Message) => withMac(MAC_KEY, from(MAC_ACQUIRER, message));

    it("takes a message with a good MAC and answers with a MAC; a bad or missing MAC is 63 and posts nothing", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      const good = signed(cardRequest("0200", wallet, 100n));
      const answer = await ask(good);
      expect(answer.fields[39]).to.equal("00");
      expect(verifyMac(MAC_KEY, encode(answer))).to.equal("ok");
      const before = await block();
      const tampered = signed(cardRequest("0200", wallet, 100n));
      const bytes = Buffer.from(encode(tampered));
      // Flip the amount's last digit after signing.
      const amountAt = bytes.indexOf(Buffer.from(tampered.fields[4]!, "latin1"));
      bytes[amountAt + 11] = 0x39;
      gw.client.sendRaw(bytes);
      const refused = await waitForStan(gw.client, tampered.fields[11]!);
      expect(refused.fields[39]).to.equal("63");
      const unsigned = from(MAC_ACQUIRER, cardRequest("0200", wallet, 100n));
      expect(await code(unsigned)).to.equal("63");
      const wrongKey = withMac(Buffer.alloc(32, 9), from(MAC_ACQUIRER, cardRequest("0200", wallet, 100n)));
      expect(await code(wrongKey)).to.equal("63");
      expect(await block()).to.equal(before);
      expect((await profile(gw.world, wallet)).token).to.equal(9_900n);
    });
  });

  describe("framing and format errors", function () {
    it("closes the connection at once on a length prefix above the largest valid message", async function () {
      const client = await IsoClient.connect(gw.running.port);
      try {
        client.socket.write(Buffer.from([0x8f, 0x00])); // 36,608 bytes announced, none sent
        expect(await client.waitClosed(1_000)).to.equal(true);
      } finally {
        client.close();
      }
    });

    it("a format error echoes DE 7, 11, 32, 37 and 41 read past a bad DE 3 or DE 4", async function () {
      const { wallet } = await openCardAccount(gw.world, 10_000n);
      for (const [field, bad] of [
        [3, "00A000"],
        [4, "00000000010X"],
      ] as const) {
        const request = cardRequest("0200", wallet, 100n);
        const bytes = Buffer.from(encode(request));
        const at = bytes.indexOf(Buffer.from(request.fields[field]!, "latin1"));
        bytes.write(bad, at, "latin1");
        gw.client.sendRaw(bytes);
        const answer = await waitForStan(gw.client, request.fields[11]!);
        expect(answer.mti).to.equal("0210");
        expect(answer.fields[39]).to.equal("30");
        for (const echoed of [7, 11, 32, 37, 41, 42]) {
          expect(answer.fields[echoed], `DE ${echoed} after a bad DE ${field}`).to.equal(request.fields[echoed]);
        }
      }
      expect((await profile(gw.world, wallet)).token).to.equal(10_000n);
    });
  });

  it("uses its acquirer in every response: DE 32, 33 and 42 echoed", async function () {
    const { wallet } = await openCardAccount(gw.world, 10_000n);
    const request = cardRequest("0200", wallet, 10n, { 33: "99887766" });
    const answer = await ask(request);
    expect([answer.fields[32], answer.fields[33], answer.fields[42]]).to.deep.equal([
      ACQUIRER,
      "99887766",
      request.fields[42],
    ]);
  });
});
