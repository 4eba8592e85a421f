/**
 * The gateway's card file on its own: the Luhn check against published test
 * card numbers, the keyed PAN hash against an outside HMAC (openssl), expiry to
 * the end of the month, the checks' order, and a file opened under another key.
 */
import { execFileSync } from "node:child_process";

import { expect } from "chai";

import { CardError, CardStore, isValidPan, yymm } from "../../src/iso8583/cards.js";
import { Store } from "../../src/store/store.js";

const KEY = Buffer.alloc(32, 7);
const WALLET = "0xBcd4042DE499D14e55001CcbB24a551F3b954096";

describe("iso8583: the card file", function () {
  it("accepts published test card numbers and refuses each with its check digit changed", function () {
    // Test numbers the card schemes publish for integration (Visa, Mastercard, Amex, Discover, JCB, Diners).
    const published = [
      "4111111111111111",
      "4012888888881881",
      "5555555555554444",
      "5105105105105100",
      "378282246310005",
      "6011111111111117",
      "3530111333300000",
      "30569309025904",
    ];
    for (const pan of published) {
      expect(isValidPan(pan), pan).to.equal(true);
      const last = Number(pan.at(-1));
      for (let other = 0; other < 10; other += 1) {
        if (other !== last) expect(isValidPan(`${pan.slice(0, -1)}${other}`), `${pan} → ${other}`).to.equal(false);
      }
    }
    // Too short (79927398713 is the textbook Luhn-valid example, 11 digits), too long, not only digits.
    for (const pan of ["", "79927398713", "41111111111111111111", "4111-1111-1111-1111", "411111111111111 "]) {
      expect(isValidPan(pan), pan).to.equal(false);
    }
  });

  it("keeps the PAN only as HMAC-SHA-256 under the bank's key, as openssl computes it, and its last four digits", function () {
    const cards = new CardStore(Store.open({ path: ":memory:" }), KEY);
    const card = cards.put("4111111111111111", "3012", WALLET);
    const outside = execFileSync(
      "openssl",
      ["dgst", "-sha256", "-mac", "HMAC", "-macopt", `hexkey:${KEY.toString("hex")}`],
      { input: "4111111111111111" },
    )
      .toString()
      .trim()
      .split(" ")
      .at(-1);
    expect(card.panHash).to.equal(outside);
    expect(card.last4).to.equal("1111");
    expect(JSON.stringify(cards.list())).to.not.include("4111111111111111");
  });

  it("checks a message's card in order: Luhn, on file, active, expiry (to the month's end), wallet", function () {
    const cards = new CardStore(Store.open({ path: ":memory:" }), KEY);
    cards.put("5555555555554444", "2611", WALLET);
    const lastDayOfNov26 = Date.UTC(2026, 10, 30, 23, 59, 59);
    const firstOfDec26 = Date.UTC(2026, 11, 1);
    expect(yymm(lastDayOfNov26)).to.equal("2611");
    expect(cards.check("5555555555554445", undefined, WALLET, lastDayOfNov26)).to.equal("invalid_pan");
    expect(cards.check("4111111111111111", undefined, WALLET, lastDayOfNov26)).to.equal("unknown_card");
    expect(cards.check("5555555555554444", undefined, WALLET, lastDayOfNov26)).to.include({ expiry: "2611" });
    expect(cards.check("5555555555554444", undefined, WALLET.toLowerCase(), lastDayOfNov26)).to.include({
      wallet: WALLET,
    });
    expect(cards.check("5555555555554444", undefined, WALLET, firstOfDec26)).to.equal("expired");
    expect(cards.check("5555555555554444", "2612", WALLET, lastDayOfNov26)).to.equal("expired");
    expect(cards.check("5555555555554444", "2611", `0x${"1".repeat(40)}`, lastDayOfNov26)).to.equal("wallet_mismatch");
    cards.setStatus("5555555555554444", "blocked");
    // A blocked card is refused as such, before its expiry or wallet are looked at.
    expect(cards.check("5555555555554444", "2612", `0x${"1".repeat(40)}`, firstOfDec26)).to.equal("card_not_active");
  });

  it("refuses bad input with typed errors and changes nothing", function () {
    const cards = new CardStore(Store.open({ path: ":memory:" }), KEY);
    const refuse = (fn: () => unknown, code: string) => expect(fn).to.throw(CardError).with.property("code", code);
    refuse(() => cards.put("4111111111111112", "3012", WALLET), "CARD_BAD_PAN");
    refuse(() => cards.put("4111111111111111", "3013", WALLET), "CARD_BAD_EXPIRY");
    refuse(() => cards.put("4111111111111111", "3000", WALLET), "CARD_BAD_EXPIRY");
    refuse(() => cards.put("4111111111111111", "3012", "0x1234"), "CARD_BAD_WALLET");
    refuse(() => cards.setStatus("4111111111111111", "blocked"), "CARD_UNKNOWN");
    refuse(() => new CardStore(Store.open({ path: ":memory:" }), Buffer.alloc(31)), "CARD_BAD_PAN_KEY");
    expect(cards.list()).to.deep.equal([]);
  });

  it("refuses to open a card file under another PAN key, rather than missing every card", function () {
    const store = Store.open({ path: ":memory:" });
    new CardStore(store, KEY).put("4111111111111111", "3012", WALLET);
    expect(() => new CardStore(store, Buffer.alloc(32, 8)))
      .to.throw(CardError)
      .with.property("code", "CARD_WRONG_PAN_KEY");
    expect(new CardStore(store, KEY).get("4111111111111111")).to.include({ last4: "1111" });
  });
});
