import { expect } from "chai";
import fc from "fast-check";

import { decode, encode, Iso8583Error, salvage, type Iso8583Message } from "../../src/iso8583/codec.js";
import { extents, messageArb } from "./message-arbitrary.js";

const ascii = (text: string): Buffer => Buffer.from(text, "latin1");

/** A purchase as an acquirer sends it: every element a host matches a response by. */
const PURCHASE: Iso8583Message = {
  mti: "0200",
  fields: {
    2: "4761739001010119",
    3: "000000",
    4: "000000005000",
    7: "1205041530",
    11: "123456",
    12: "041530",
    13: "1205",
    32: "12345678901",
    37: "RRN000000001",
    41: "TERM0001",
    42: "MERCHANT0000001",
    48: "01042" + "0x" + "a".repeat(40) + "02004" + "5000",
    49: "978",
  },
};

/** The encoded purchase with `replacement` written over element `n`'s value from `offset`. */
function corrupt(message: Iso8583Message, n: number, offset: number, replacement: string): Buffer {
  const wire = encode(message);
  const extent = extents(message).find((e) => e.n === n)!;
  wire.write(replacement, extent.start + offset, "latin1");
  return wire;
}

function refused(bytes: Uint8Array): Iso8583Error {
  try {
    decode(bytes);
  } catch (error) {
    if (error instanceof Iso8583Error) return error;
    throw error;
  }
  expect.fail("decode accepted the message");
}

function without(fields: Readonly<Record<number, string>>, ...numbers: number[]): Record<number, string> {
  const out: Record<number, string> = { ...fields };
  for (const n of numbers) delete out[n];
  return out;
}

function only(fields: Readonly<Record<number, string>>, ...numbers: number[]): Record<number, string> {
  return Object.fromEntries(numbers.map((n) => [n, fields[n]!]));
}

describe("iso8583: salvage (what a refused message still tells)", function () {
  it("test_F3_badProcessingCodeStillYieldsDe7_11_32_37_41", function () {
    const bytes = corrupt(PURCHASE, 3, 2, "A");
    expect(refused(bytes).category).to.equal("non_numeric");
    expect(refused(bytes).partial).to.deep.equal({ 2: PURCHASE.fields[2] }); // decode stops at DE 3
    expect(salvage(bytes)).to.deep.equal({ mti: "0200", fields: without(PURCHASE.fields, 3) });
  });

  it("test_F3_badAmountAndBadProcessingCodeCostOnlyThemselves", function () {
    const bytes = corrupt(PURCHASE, 4, 11, "-");
    bytes.write("\x00", extents(PURCHASE).find((e) => e.n === 3)!.start, "latin1");
    expect(salvage(bytes)).to.deep.equal({ mti: "0200", fields: without(PURCHASE.fields, 3, 4) });
  });

  it("test_F3_badCharacterInAnAnsElementCostsOnlyThatElement", function () {
    const bytes = corrupt(PURCHASE, 41, 4, "\x7f");
    expect(refused(bytes).category).to.equal("bad_character");
    expect(salvage(bytes).fields).to.deep.equal(without(PURCHASE.fields, 41));
  });

  it("test_F3_badLlvarPrefixOfDe32KeepsTheElementsBeforeItAndNoneAfter", function () {
    const wire = encode(PURCHASE);
    const de32 = extents(PURCHASE).find((e) => e.n === 32)!;
    for (const prefix of ["1X", " 1", "12", "99"]) {
      const bytes = Buffer.from(wire);
      bytes.write(prefix, de32.prefixStart, "latin1");
      refused(bytes);
      expect(salvage(bytes), prefix).to.deep.equal({
        mti: "0200",
        fields: only(PURCHASE.fields, 2, 3, 4, 7, 11, 12, 13),
      });
    }
  });

  it("stops at a length beyond the end of the message", function () {
    const message = { mti: "0200", fields: { 3: "000000", 11: "000001", 48: "abc" } };
    const bytes = ascii(encode(message).toString("latin1").replace("003abc", "004abc"));
    expect(refused(bytes).category).to.equal("length_exceeds_remaining");
    expect(salvage(bytes).fields).to.deep.equal({ 3: "000000", 11: "000001" });
  });

  it("test_F3_badPrimaryBitmapYieldsOnlyTheMti", function () {
    const bytes = encode(PURCHASE);
    bytes.write("G", 9, "latin1");
    expect(refused(bytes).category).to.equal("bad_bitmap");
    expect(salvage(bytes)).to.deep.equal({ mti: "0200", fields: {} });
    expect(salvage(bytes.subarray(0, 15))).to.deep.equal({ mti: "0200", fields: {} });
  });

  it("a bad secondary bitmap keeps the elements 2..64 and none after", function () {
    const message = { mti: "0400", fields: { 3: "000000", 11: "000001", 41: "TERM0001", 90: "0".repeat(42) } };
    const bytes = encode(message);
    bytes.write("z", 30, "latin1");
    expect(refused(bytes).category).to.equal("bad_bitmap");
    expect(salvage(bytes)).to.deep.equal({ mti: "0400", fields: { 3: "000000", 11: "000001", 41: "TERM0001" } });
    // bit 1 set but the message ends before the secondary bitmap does: no element
    expect(salvage(bytes.subarray(0, 30))).to.deep.equal({ mti: "0400", fields: {} });
  });

  it("test_F3_truncatedMessageYieldsTheElementsBeforeTheCut", function () {
    const wire = encode(PURCHASE);
    const de37 = extents(PURCHASE).find((e) => e.n === 37)!;
    const bytes = wire.subarray(0, de37.start + 5);
    expect(refused(bytes).category).to.equal("truncated");
    expect(salvage(bytes)).to.deep.equal({
      mti: "0200",
      fields: only(PURCHASE.fields, 2, 3, 4, 7, 11, 12, 13, 32),
    });
    const de2 = extents(PURCHASE).find((e) => e.n === 2)!;
    expect(salvage(wire.subarray(0, de2.prefixStart + 1)).fields).to.deep.equal({});
  });

  it("reads the elements of a message whose MTI is refused, and gives no MTI", function () {
    for (const mti of ["0900", "1200", "02A0"]) {
      const bytes = encode(PURCHASE);
      bytes.write(mti, 0, "latin1");
      expect(refused(bytes).mti).to.equal(undefined);
      expect(salvage(bytes), mti).to.deep.equal({ mti: undefined, fields: { ...PURCHASE.fields } });
    }
    expect(salvage(ascii("020"))).to.deep.equal({ mti: undefined, fields: {} });
    expect(salvage(new Uint8Array(0))).to.deep.equal({ mti: undefined, fields: {} });
  });

  it("stops at a set bit 65, keeping the elements 2..64", function () {
    const message = { mti: "0200", fields: { 3: "000000", 11: "000001", 70: "301" } };
    const bytes = encode(message);
    bytes.write("C", 20, "latin1"); // secondary bitmap "8..." -> "C...": bit 65 and 66
    expect(refused(bytes).field).to.equal(65);
    expect(salvage(bytes).fields).to.deep.equal({ 3: "000000", 11: "000001" });
  });

  it("keeps every element when only trailing bytes are wrong", function () {
    const bytes = Buffer.concat([encode(PURCHASE), ascii("XYZ")]);
    expect(refused(bytes).category).to.equal("trailing_data");
    expect(salvage(bytes)).to.deep.equal({ mti: "0200", fields: { ...PURCHASE.fields } });
  });

  it("limit: a length digit replaced by another digit shifts what follows, and no reader can tell", function () {
    // DE 2's prefix 16 -> 17: DE 2 takes DE 3's first digit, everything after moves by one byte.
    const bytes = encode(PURCHASE);
    bytes.write("7", 21, "latin1");
    const error = refused(bytes);
    const salvaged = salvage(bytes);
    // salvage keeps what the shifted bytes say, exactly as decode's own partial does
    expect(salvaged.fields[2]).to.equal(`${PURCHASE.fields[2]}0`);
    expect(salvaged.fields[2]).to.equal(error.partial[2]);
  });

  describe("properties", function () {
    const oneElementMessage = messageArb().filter((m) => Object.values(m.fields).some((v) => v.length > 0));

    it("salvage of a valid message is its decoding", function () {
      fc.assert(
        fc.property(messageArb(), (message) => {
          const wire = encode(message);
          expect(salvage(wire)).to.deep.equal(decode(wire));
        }),
        { numRuns: 300 },
      );
    });

    it("test_F3_aCorruptValueCostsOnlyThatElement: every other element is recovered exactly", function () {
      fc.assert(
        fc.property(oneElementMessage, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (message, i, j, byte) => {
          const nonEmpty = extents(message).filter((e) => e.end > e.start);
          const target = nonEmpty[i % nonEmpty.length]!;
          const bytes = encode(message);
          const at = target.start + (j % (target.end - target.start));
          bytes[at] = byte;
          const salvaged = salvage(bytes);
          expect(salvaged.mti).to.equal(message.mti);
          expect(without(salvaged.fields, target.n)).to.deep.equal(without(message.fields, target.n));
          const wireText = bytes.toString("latin1", target.start, target.end);
          let accepted = true;
          try {
            decode(bytes);
          } catch {
            accepted = false;
          }
          // the corrupt element is kept only when it is still valid, and then as its wire text
          expect(salvaged.fields[target.n]).to.equal(accepted ? wireText : undefined);
        }),
        { numRuns: 2000 },
      );
    });

    it("test_F3_noInventedValues: after any single-byte substitution decode refuses, every element salvage returns is the original's", function () {
      // Excluded: a bitmap hex digit replaced by another hex digit, or a length digit by another
      // digit. Those change the message's layout in a way no reader can detect (see the limit test).
      const HEX = /^[0-9A-Fa-f]$/;
      const DIGIT = /^[0-9]$/;
      fc.assert(
        fc.property(messageArb(), fc.nat(), fc.integer({ min: 0, max: 255 }), (message, i, byte) => {
          const bytes = encode(message);
          const at = i % bytes.length;
          const before = String.fromCharCode(bytes[at]!);
          const after = String.fromCharCode(byte);
          const header = Object.keys(message.fields).some((n) => Number(n) > 64) ? 36 : 20;
          if (at >= 4 && at < header && HEX.test(before) && HEX.test(after)) {
            if (before.toUpperCase() !== after.toUpperCase()) return;
          }
          const prefix = extents(message).find((e) => at >= e.prefixStart && at < e.start);
          if (prefix !== undefined && DIGIT.test(after)) return;
          bytes[at] = byte;
          let decoded: Iso8583Message | undefined;
          try {
            decoded = decode(bytes);
          } catch (error) {
            if (!(error instanceof Iso8583Error)) throw error;
          }
          const salvaged = salvage(bytes);
          if (decoded !== undefined) {
            expect(salvaged).to.deep.equal(decoded);
            return;
          }
          for (const [n, value] of Object.entries(salvaged.fields)) {
            expect(value, `element ${n}`).to.equal(message.fields[Number(n)]);
          }
        }),
        { numRuns: 5000 },
      );
    });

    it("never throws, on random bytes and on mutations of valid messages", function () {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          salvage(bytes);
        }),
        { numRuns: 2000 },
      );
      const mutation = fc.tuple(
        fc.constantFrom("replace", "delete", "insert", "truncate"),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
      );
      fc.assert(
        fc.property(messageArb(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (message, mutations) => {
          const bytes = [...encode(message)];
          for (const [kind, at, byte] of mutations) {
            const i = at % (bytes.length + 1);
            if (kind === "replace" && i < bytes.length) bytes[i] = byte;
            else if (kind === "delete") bytes.splice(i, 1);
            else if (kind === "insert") bytes.splice(i, 0, byte);
            else bytes.length = i;
          }
          const salvaged = salvage(Uint8Array.from(bytes));
          for (const n of Object.keys(salvaged.fields).map(Number)) expect(n).to.be.within(2, 128);
        }),
        { numRuns: 1000 },
      );
    });
  });
});
