import { execFileSync } from "node:child_process";

import { expect } from "chai";
import fc from "fast-check";

import { decode, encode, type Iso8583Message } from "../../src/iso8583/codec.js";
import {
  encodeWithMac,
  macElement,
  MacKeyError,
  macOf,
  macOfBytes,
  verifyMac,
  withMac,
} from "../../src/iso8583/mac.js";
import { messageArb } from "./message-arbitrary.js";

const hex = (text: string): Buffer => Buffer.from(text, "hex");
const KEY = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const OTHER_KEY = hex("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

const PURCHASE: Iso8583Message = {
  mti: "0200",
  fields: {
    2: "4761739001010119",
    3: "000000",
    4: "000000005000",
    7: "1205041530",
    11: "123456",
    32: "12345678901",
    37: "RRN000000001",
    41: "TERM0001",
    49: "978",
  },
};
const REVERSAL: Iso8583Message = {
  mti: "0400",
  fields: { ...PURCHASE.fields, 90: `0200123456120504153000012345678901${"0".repeat(8)}` },
};

/** HMAC-SHA-256 by the openssl command line, on the exact bytes, as lowercase hex. */
function opensslHmac(key: Uint8Array, bytes: Uint8Array): string {
  const out = execFileSync(
    "openssl",
    ["dgst", "-sha256", "-mac", "HMAC", "-macopt", `hexkey:${Buffer.from(key).toString("hex")}`],
    { input: bytes },
  ).toString("latin1");
  const digest = /([0-9a-f]{64})\s*$/.exec(out);
  if (digest === null) expect.fail(`unexpected openssl output: ${out}`);
  return digest[1]!;
}

function keyError(action: () => unknown): MacKeyError {
  try {
    action();
  } catch (error) {
    if (error instanceof MacKeyError) return error;
    throw error;
  }
  expect.fail("no MacKeyError");
}

describe("iso8583: message authentication (DE 64 / DE 128, HMAC-SHA-256 truncated)", function () {
  it("RFC 4231 HMAC-SHA-256 test cases 1, 3, 4 and 5, truncated to 8 bytes", function () {
    const cases: [string, Buffer, Buffer, string][] = [
      ["1", hex("0b".repeat(20)), Buffer.from("Hi There"), "b0344c61d8db3853"],
      ["3", hex("aa".repeat(20)), hex("dd".repeat(50)), "773ea91e36800e46"],
      ["4", hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), hex("cd".repeat(50)), "82558a389a443c0e"],
      ["5", hex("0c".repeat(20)), Buffer.from("Test With Truncation"), "a3b6167473100ee0"],
    ];
    for (const [name, key, data, expected] of cases) {
      expect(macOfBytes(key, data), `test case ${name}`).to.equal(expected.toUpperCase());
    }
  });

  it("refuses keys outside 16..64 bytes (RFC 4231 cases 2, 6 and 7 use 4- and 131-byte keys)", function () {
    for (const length of [0, 4, 15, 65, 131]) {
      const error = keyError(() => macOfBytes(new Uint8Array(length), Buffer.from("x")));
      expect(error.code).to.equal("ISO8583_MAC_KEY");
      expect(error.details).to.deep.equal({ length });
    }
    for (const length of [16, 64]) expect(macOfBytes(new Uint8Array(length), Buffer.from("x"))).to.have.length(16);
    const wire = encodeWithMac(KEY, PURCHASE);
    expect(keyError(() => verifyMac(new Uint8Array(15), wire)).details).to.deep.equal({ length: 15 });
    expect(keyError(() => withMac(new Uint8Array(65), PURCHASE)).code).to.equal("ISO8583_MAC_KEY");
  });

  it("agrees with the openssl command line on the exact bytes before the MAC", function () {
    const messages: Iso8583Message[] = [
      PURCHASE,
      REVERSAL,
      { mti: "0800", fields: { 7: "1205041530", 11: "000001", 70: "301" } },
      { mti: "0110", fields: { ...PURCHASE.fields, 38: "A1B2C3", 39: "00" } },
      { mti: "0200", fields: { 3: "000000", 48: "~".repeat(999), 127: "" } },
    ];
    const keys = [KEY, hex("0b".repeat(16)), hex("5a".repeat(64))];
    for (const [i, message] of messages.entries()) {
      const key = keys[i % keys.length]!;
      const wire = encodeWithMac(key, message);
      const before = wire.subarray(0, wire.length - 16);
      const expected = opensslHmac(key, before).slice(0, 16).toUpperCase();
      expect(wire.toString("latin1", wire.length - 16), `message ${i}`).to.equal(expected);
      expect(macOf(key, message)).to.equal(expected);
      expect(verifyMac(key, wire)).to.equal("ok");
    }
  });

  it("gives the profile page's examples (docs/iso8583-profile.md)", function () {
    const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    const echo = { mti: "0800", fields: { 7: "1205041530", 11: "000001" } };
    expect(encodeWithMac(key, echo).toString("latin1")).to.equal(
      "08000220000000000001120504153000000169C4B704F2539BC1",
    );
    expect(encodeWithMac(key, { mti: "0800", fields: { ...echo.fields, 70: "301" } }).toString("latin1")).to.equal(
      "0800822000000000000004000000000000011205041530000001301943E97FE48E00CC3",
    );
  });

  it("puts the MAC in DE 64 without a secondary bitmap and in DE 128 with one", function () {
    expect(macElement(PURCHASE.fields)).to.equal(64);
    expect(macElement(REVERSAL.fields)).to.equal(128);
    expect(macElement({ 3: "000000", 128: "0".repeat(16) })).to.equal(64);
    const primary = withMac(KEY, PURCHASE);
    expect(Object.keys(primary.fields).map(Number)).to.include(64).and.not.include(128);
    const secondary = withMac(KEY, REVERSAL);
    expect(Object.keys(secondary.fields).map(Number)).to.include(128).and.not.include(64);
    // a stale MAC in the other slot is replaced, never left before the real one
    const stale = withMac(KEY, { mti: "0400", fields: { ...REVERSAL.fields, 64: "F".repeat(16) } });
    expect(stale).to.deep.equal(secondary);
    expect(withMac(KEY, { mti: "0200", fields: { ...PURCHASE.fields, 128: "F".repeat(16) } })).to.deep.equal(primary);
    expect(encode(secondary).equals(encodeWithMac(KEY, REVERSAL))).to.equal(true);
    expect(verifyMac(KEY, encode(primary))).to.equal("ok");
    expect(verifyMac(KEY, encode(secondary))).to.equal("ok");
  });

  it("the MAC covers the MTI and the bitmap, and depends on the key", function () {
    expect(macOf(KEY, PURCHASE)).to.not.equal(macOf(KEY, { ...PURCHASE, mti: "0100" }));
    expect(macOf(KEY, PURCHASE)).to.not.equal(macOf(OTHER_KEY, PURCHASE));
    expect(verifyMac(OTHER_KEY, encodeWithMac(KEY, PURCHASE))).to.equal("bad");
    // same bytes before the MAC value, whatever the MAC element held
    expect(macOf(KEY, { ...PURCHASE, fields: { ...PURCHASE.fields, 64: "ABCDEF0123456789" } })).to.equal(
      macOf(KEY, PURCHASE),
    );
  });

  it("test_F7_missingMacIsMissing", function () {
    expect(verifyMac(KEY, encode(PURCHASE))).to.equal("missing");
    expect(verifyMac(KEY, encode(REVERSAL))).to.equal("missing");
  });

  it("test_F7_macNotTheLastElementIsBad", function () {
    // DE 64 with a secondary element after it, the MAC computed over the bytes before DE 64's value
    const message = { mti: "0400", fields: { ...PURCHASE.fields, 64: "0".repeat(16), 90: "0".repeat(42) } };
    const wire = encode(message);
    const at = wire.length - 42 - 16;
    wire.write(macOfBytes(KEY, wire.subarray(0, at)), at, "latin1");
    expect(decode(wire).fields[64]).to.equal(macOfBytes(KEY, wire.subarray(0, at)));
    expect(verifyMac(KEY, wire)).to.equal("bad");
    // DE 64 and DE 128 both present
    const both = encodeWithMac(KEY, REVERSAL);
    const withBoth = encode({ mti: "0400", fields: { ...decode(both).fields, 64: decode(both).fields[128]! } });
    expect(verifyMac(KEY, withBoth)).to.equal("bad");
  });

  it("test_F7_badMacValuesAreBad: wrong digits, non-hex, too short a message", function () {
    const wire = encodeWithMac(KEY, PURCHASE);
    const wrong = Buffer.from(wire);
    wrong.write(wrong[wrong.length - 1] === 0x30 ? "1" : "0", wrong.length - 1, "latin1");
    expect(verifyMac(KEY, wrong)).to.equal("bad");
    const nonHex = Buffer.from(wire);
    nonHex.write("G", nonHex.length - 5, "latin1");
    expect(verifyMac(KEY, nonHex)).to.equal("bad");
    expect(verifyMac(KEY, wire.subarray(0, 30))).to.equal("bad");
    expect(verifyMac(KEY, wire.subarray(0, 10))).to.equal("bad");
    const badBitmap = Buffer.from(wire);
    badBitmap.write("Z", 6, "latin1");
    expect(verifyMac(KEY, badBitmap)).to.equal("bad");
  });

  it("compares the received MAC in either case", function () {
    const wire = encodeWithMac(KEY, REVERSAL);
    const lower = Buffer.concat([
      wire.subarray(0, wire.length - 16),
      Buffer.from(wire.toString("latin1", wire.length - 16).toLowerCase(), "latin1"),
    ]);
    expect(verifyMac(KEY, lower)).to.equal("ok");
  });

  describe("properties", function () {
    const signed = messageArb().map((message) => encodeWithMac(KEY, message));

    it("every message signed with the key verifies, and decodes with its MAC last", function () {
      fc.assert(
        fc.property(signed, (wire) => {
          expect(verifyMac(KEY, wire)).to.equal("ok");
          const numbers = Object.keys(decode(wire).fields).map(Number);
          expect(numbers[numbers.length - 1]).to.be.oneOf([64, 128]);
        }),
        { numRuns: 300 },
      );
    });

    it("test_F7_aFlippedBitAnywhereBeforeTheMacIsBad", function () {
      fc.assert(
        fc.property(signed, fc.nat(), fc.integer({ min: 0, max: 7 }), (wire, i, bit) => {
          const at = i % (wire.length - 16);
          const header = (Number.parseInt(wire.toString("latin1", 4, 5), 16) & 8) !== 0 ? 36 : 20;
          const flipped = Buffer.from(wire);
          flipped[at] = flipped[at]! ^ (1 << bit);
          const verdict = verifyMac(KEY, flipped);
          // a flip in a bitmap may also clear the MAC element's bit: then it is missing, never ok
          if (at >= 4 && at < header) expect(verdict).to.not.equal("ok");
          else expect(verdict).to.equal("bad");
        }),
        { numRuns: 3000 },
      );
    });

    it("a flipped bit in the MAC is bad unless it only changes a letter's case", function () {
      fc.assert(
        fc.property(signed, fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 7 }), (wire, i, bit) => {
          const at = wire.length - 16 + i;
          const flipped = Buffer.from(wire);
          flipped[at] = flipped[at]! ^ (1 << bit);
          const caseOnly = bit === 5 && flipped[at]! >= 0x61 && flipped[at]! <= 0x66;
          expect(verifyMac(KEY, flipped)).to.equal(caseOnly ? "ok" : "bad");
        }),
        { numRuns: 1000 },
      );
    });
  });
});
