import { expect } from "chai";
import fc from "fast-check";

import { decode, encode, Iso8583Error, responseMti, type Iso8583Message } from "../../src/iso8583/codec.js";
import { FIELDS, FieldTableError, parseFieldTable, type FieldSpec } from "../../src/iso8583/fields.js";
import { valueOf } from "./message-arbitrary.js";

const ascii = (text: string): Buffer => Buffer.from(text, "latin1");

/** A bitmap (primary, or primary + secondary when an element > 64 is set) in uppercase hex. */
function bitmap(...elements: number[]): string {
  const secondary = elements.some((n) => n > 64);
  let bits = 0n;
  for (const n of [...elements, ...(secondary ? [1] : [])]) bits |= 1n << BigInt(128 - n);
  const hex = bits.toString(16).toUpperCase().padStart(32, "0");
  return secondary ? hex : hex.slice(0, 16);
}

function decodeError(text: string | Buffer): Iso8583Error {
  try {
    decode(typeof text === "string" ? ascii(text) : text);
  } catch (error) {
    if (error instanceof Iso8583Error) return error;
    throw error;
  }
  expect.fail(`decoded without error: ${String(text)}`);
}

function encodeError(message: Iso8583Message): Iso8583Error {
  try {
    encode(message);
  } catch (error) {
    if (error instanceof Iso8583Error) return error;
    throw error;
  }
  expect.fail("encoded without error");
}

function expectError(error: Iso8583Error, category: string, field: number, offset: number): void {
  expect({ category: error.category, field: error.field, offset: error.offset }).to.deep.equal({
    category,
    field,
    offset,
  });
  expect(error.code).to.equal(`ISO8583_${category.toUpperCase()}`);
}

const PAN = "4761739001010119";

describe("iso8583: field table", function () {
  it("lists the 127 elements 2..128 with the profile's classes and lengths", function () {
    const specs = FIELDS.filter((spec): spec is FieldSpec => spec !== undefined);
    expect(specs).to.have.length(127);
    expect(FIELDS[0]).to.equal(undefined);
    expect(FIELDS[1]).to.equal(undefined);
    expect(FIELDS[2]).to.deep.equal({
      number: 2,
      name: "PAN - PRIMARY ACCOUNT NUMBER",
      content: "n",
      lengthType: "LLVAR",
      maxLength: 19,
    });
    expect(FIELDS[48]).to.include({ content: "ans", lengthType: "LLLVAR", maxLength: 999 });
    expect(FIELDS[128]).to.include({ content: "b", lengthType: "fixed", maxLength: 16 });
  });

  it("refuses a malformed table naming the line", function () {
    const header = "field\tname\tcontent\tlength_type\tmax_length\n";
    expect(() => parseFieldTable("nope\n")).to.throw(FieldTableError, /line 1/);
    expect(() => parseFieldTable(`${header}2\tPAN\tq\tLLVAR\t19\n`)).to.throw(FieldTableError, /line 2.*content/);
    expect(() => parseFieldTable(`${header}2\tPAN\tn\tLLVAR\t100\n`)).to.throw(FieldTableError, /too large/);
    expect(() => parseFieldTable(`${header}2\tPAN\tn\tLLVAR\t19\n`)).to.throw(FieldTableError, /field 3 missing/);
  });
});

describe("iso8583: codec", function () {
  it("encodes a known message to the exact wire text and back", function () {
    const message = { mti: "0200", fields: { 2: PAN, 3: "000000", 4: "000000005000", 11: "123456", 49: "978" } };
    const wire = `0200${bitmap(2, 3, 4, 11, 49)}16${PAN}000000000000005000123456978`;
    expect(bitmap(2, 3, 4, 11, 49)).to.equal("7020000000008000");
    expect(encode(message).toString("latin1")).to.equal(wire);
    expect(decode(ascii(wire))).to.deep.equal(message);
  });

  it("round-trips every MTI class 1 to 8", function () {
    for (let cls = 1; cls <= 8; cls++) {
      for (const fn of ["0", "1", "2", "3"]) {
        const message = { mti: `0${cls}${fn}0`, fields: { 11: "000001", 70: "301" } };
        expect(decode(encode(message))).to.deep.equal(message);
      }
    }
  });

  it("writes the secondary bitmap only when an element 66..128 is present", function () {
    const primary = encode({ mti: "0800", fields: { 11: "123456", 64: "ABCDEF0123456789" } }).toString("latin1");
    expect(primary.slice(4, 20)).to.equal("0020000000000001");
    expect(primary).to.have.length(4 + 16 + 6 + 16);
    const secondary = encode({ mti: "0800", fields: { 11: "123456", 70: "001", 128: "0123456789ABCDEF" } });
    expect(secondary.toString("latin1", 4, 36)).to.equal("80200000000000000400000000000001");
    expect(decode(secondary).fields).to.deep.equal({ 11: "123456", 70: "001", 128: "0123456789ABCDEF" });
  });

  it("handles every length type at its maximum and empty variable values", function () {
    const fields = {
      2: "1".repeat(19),
      35: `${"4".repeat(16)}=${"9".repeat(20)}`,
      43: "A".repeat(40),
      48: "x".repeat(999),
      90: "0".repeat(42),
      104: "d".repeat(100),
      127: "~".repeat(999),
    };
    const wire = encode({ mti: "0100", fields });
    expect(wire.toString("latin1", 36, 38)).to.equal("19");
    expect(decode(wire).fields).to.deep.equal(fields);
    const empty = { mti: "0100", fields: { 2: "", 48: "", 102: "" } };
    const emptyWire = encode(empty).toString("latin1");
    expect(emptyWire.slice(36)).to.equal("0000000");
    expect(decode(ascii(emptyWire))).to.deep.equal(empty);
  });

  it("accepts a lowercase bitmap and a zero secondary bitmap", function () {
    const wire = `0800${bitmap(11, 70).toLowerCase()}123456301`;
    expect(decode(ascii(wire)).fields).to.deep.equal({ 11: "123456", 70: "301" });
    const zeroSecondary = `0200${"C".padEnd(32, "0")}16${PAN}`;
    expect(decode(ascii(zeroSecondary)).fields).to.deep.equal({ 2: PAN });
  });

  it("keeps lowercase b values as the wire text on decode but refuses them on encode", function () {
    const wire = `0200${bitmap(52)}0123456789abcdef`;
    expect(decode(ascii(wire)).fields).to.deep.equal({ 52: "0123456789abcdef" });
    expectError(encodeError({ mti: "0200", fields: { 52: "0123456789abcdef" } }), "bad_character", 52, 20);
  });

  it("decodes from a Uint8Array that is not a Buffer", function () {
    const bytes = new Uint8Array(encode({ mti: "0200", fields: { 3: "000000" } }));
    expect(decode(bytes)).to.deep.equal({ mti: "0200", fields: { 3: "000000" } });
  });

  describe("decode errors (category, field, offset)", function () {
    it("truncated: MTI, primary bitmap, fixed value, length prefix", function () {
      expectError(decodeError("020"), "truncated", 0, 0);
      expectError(decodeError("0200F000"), "truncated", 1, 4);
      expectError(decodeError(`0200${bitmap(3)}0000`), "truncated", 3, 20);
      expectError(decodeError(`0200${bitmap(3, 4)}000000000`), "truncated", 4, 26);
      expectError(decodeError(`0200${bitmap(48)}09`), "truncated", 48, 20);
    });

    it("non_numeric: MTI and n / x+n content", function () {
      expectError(decodeError("02X0"), "non_numeric", 0, 2);
      expectError(decodeError(`0200${bitmap(3, 4)}000000${"0000000050A0"}`), "non_numeric", 4, 36);
      expectError(decodeError(`0200${bitmap(28)}C0000000X`), "non_numeric", 28, 28);
    });

    it("unknown_mti_class: version and class", function () {
      const version = decodeError(`1200${bitmap(3)}000000`);
      expectError(version, "unknown_mti_class", 0, 0);
      expect(version.mti).to.equal(undefined);
      expectError(decodeError(`0900${bitmap(3)}000000`), "unknown_mti_class", 0, 1);
      expectError(decodeError(`0000${bitmap(3)}000000`), "unknown_mti_class", 0, 1);
    });

    it("bad_bitmap: non-hex primary or secondary, bit 65", function () {
      expectError(decodeError("0200F0000000G0000000"), "bad_bitmap", 1, 12);
      expectError(decodeError(`0200${"8".padEnd(16, "0")}00000000000000Z0`), "bad_bitmap", 1, 34);
      const bit65 = decodeError(`0200${bitmap(66).slice(0, 16)}C000000000000000001`);
      expectError(bit65, "bad_bitmap", 65, 20);
      expect(bit65.mti).to.equal("0200");
    });

    it("secondary_bitmap_missing", function () {
      expectError(decodeError(`0200${"8".padEnd(16, "0")}0000`), "secondary_bitmap_missing", 1, 20);
    });

    it("field_missing, with the elements decoded before in partial", function () {
      const error = decodeError(`0200${bitmap(3, 4)}000000`);
      expectError(error, "field_missing", 4, 26);
      expect(error.partial).to.deep.equal({ 3: "000000" });
      expect(error.mti).to.equal("0200");
      expectError(decodeError(`0200${bitmap(3)}`), "field_missing", 3, 20);
    });

    it("bad_length_prefix, field_too_long, length_exceeds_remaining", function () {
      expectError(decodeError(`0200${bitmap(2)}1X${PAN}`), "bad_length_prefix", 2, 20);
      expectError(decodeError(`0200${bitmap(2)}20${"1".repeat(20)}`), "field_too_long", 2, 20);
      expectError(decodeError(`0200${bitmap(104)}101${"a".repeat(101)}`), "field_too_long", 104, 36);
      expectError(decodeError(`0200${bitmap(2)}161234`), "length_exceeds_remaining", 2, 22);
    });

    it("bad_character: ans, z, x+n sign, b", function () {
      expectError(decodeError(`0200${bitmap(41)}TERM\x7f001`), "bad_character", 41, 24);
      expectError(decodeError(`0200${bitmap(35)}05123X5`), "bad_character", 35, 25);
      expectError(decodeError(`0200${bitmap(28)}A00000000`), "bad_character", 28, 20);
      expectError(decodeError(`0200${bitmap(52)}0123456789ABCDEG`), "bad_character", 52, 35);
      expectError(decodeError(ascii(`0200${bitmap(48)}003a`).subarray(0, 23)), "length_exceeds_remaining", 48, 23);
    });

    it("trailing_data names the last element decoded (1 when none)", function () {
      expectError(decodeError(`0200${bitmap(3, 11)}000000123456X`), "trailing_data", 11, 32);
      expectError(decodeError(`0800${"0".repeat(16)}00`), "trailing_data", 1, 20);
    });

    it("follows the profile's check order", function () {
      // a non-hex bitmap beats a short message body; a bad prefix beats a short remainder
      expectError(decodeError("0200G000000000000000"), "bad_bitmap", 1, 4);
      expectError(decodeError(`0200${bitmap(2, 3)}X`), "truncated", 2, 20);
      expectError(decodeError(`0200${bitmap(2)}9`), "truncated", 2, 20);
    });
  });

  describe("encode errors", function () {
    it("checks the MTI first", function () {
      expectError(encodeError({ mti: "020", fields: {} }), "truncated", 0, 0);
      expectError(encodeError({ mti: "02000", fields: {} }), "field_too_long", 0, 0);
      expectError(encodeError({ mti: "02a0", fields: { 1: "x" } }), "non_numeric", 0, 2);
      expectError(encodeError({ mti: "0900", fields: {} }), "unknown_mti_class", 0, 1);
      expectError(encodeError({ mti: "2200", fields: {} }), "unknown_mti_class", 0, 0);
    });

    it("refuses element numbers 1, 65 and outside 2..128 as bad_bitmap", function () {
      expectError(encodeError({ mti: "0200", fields: { 1: "x" } }), "bad_bitmap", 1, 4);
      expectError(encodeError({ mti: "0200", fields: { 65: "00" } }), "bad_bitmap", 65, 4);
      expectError(encodeError({ mti: "0200", fields: { 129: "0" } }), "bad_bitmap", 129, 4);
      expectError(encodeError({ mti: "0200", fields: { 0: "0" } }), "bad_bitmap", 0, 4);
      const odd = { mti: "0200", fields: { abc: "0" } } as unknown as Iso8583Message;
      expectError(encodeError(odd), "bad_bitmap", 1, 4);
    });

    it("reports each element in ascending order at the offset it would start", function () {
      expectError(encodeError({ mti: "0200", fields: { 2: "1".repeat(20) } }), "field_too_long", 2, 20);
      expectError(encodeError({ mti: "0200", fields: { 2: PAN, 3: "0000000" } }), "field_too_long", 3, 38);
      expectError(encodeError({ mti: "0200", fields: { 3: "00000", 4: "x" } }), "truncated", 3, 20);
      expectError(encodeError({ mti: "0200", fields: { 3: "00000A", 4: "x" } }), "non_numeric", 3, 20);
      expectError(encodeError({ mti: "0200", fields: { 3: "000000", 41: "TERM\n001" } }), "bad_character", 41, 26);
      expectError(encodeError({ mti: "0200", fields: { 28: "X00000000" } }), "bad_character", 28, 20);
      expectError(encodeError({ mti: "0200", fields: { 28: "C0000000X" } }), "non_numeric", 28, 20);
      expectError(encodeError({ mti: "0200", fields: { 35: "1234X" } }), "bad_character", 35, 20);
      expectError(encodeError({ mti: "0200", fields: { 43: "é".repeat(40) } }), "bad_character", 43, 20);
      expectError(encodeError({ mti: "0200", fields: { 3: "000000", 102: "ü" } }), "bad_character", 102, 42);
    });
  });

  it("gives the response MTI of requests and advices", function () {
    expect(["0100", "0200", "0400", "0420", "0800", "0401", "0220"].map(responseMti)).to.deep.equal([
      "0110",
      "0210",
      "0410",
      "0430",
      "0810",
      "0410",
      "0230",
    ]);
    expectError(
      ((): Iso8583Error => {
        try {
          responseMti("0210");
        } catch (error) {
          if (error instanceof Iso8583Error) return error;
        }
        expect.fail("no error");
      })(),
      "unknown_mti_class",
      0,
      2,
    );
    expect(() => responseMti("x")).to.throw(Iso8583Error);
  });

  describe("properties", function () {
    const model: Record<string, fc.Arbitrary<string>> = {};
    for (const spec of FIELDS) if (spec !== undefined && spec.number !== 65) model[String(spec.number)] = valueOf(spec);
    const numbers = Object.keys(model).map(Number);
    const subset = (pool: number[]): fc.Arbitrary<Record<string, string>> =>
      fc
        .subarray(pool, { maxLength: 12 })
        .chain((picked) =>
          fc.record(Object.fromEntries(picked.map((n) => [String(n), model[String(n)]!])), { noNullPrototype: true }),
        );
    const messageArb: fc.Arbitrary<Iso8583Message> = fc.record({
      mti: fc
        .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 99 }))
        .map(([cls, rest]) => `0${cls}${String(rest).padStart(2, "0")}`),
      fields: fc.oneof(
        fc.record(model, { requiredKeys: [], noNullPrototype: true }) as fc.Arbitrary<Record<string, string>>,
        subset(numbers),
        subset(numbers.filter((n) => n < 65)),
      ),
    });

    it("decode(encode(m)) equals m over every element 2..128 but 65", function () {
      fc.assert(
        fc.property(messageArb, (message) => {
          const wire = encode(message);
          expect(decode(wire)).to.deep.equal({ mti: message.mti, fields: { ...message.fields } });
          expect(encode(decode(wire)).equals(wire)).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });

    function onlyIso8583Errors(bytes: Uint8Array): void {
      try {
        decode(bytes);
      } catch (error) {
        if (!(error instanceof Iso8583Error)) throw error;
        expect(error.offset).to.be.within(0, bytes.length);
      }
    }

    it("throws nothing but Iso8583Error on random bytes", function () {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), onlyIso8583Errors), { numRuns: 2000 });
      const printable = fc.string({ unit: fc.constantFrom(..."0123456789ABCDEF"), maxLength: 80 });
      fc.assert(
        fc.property(printable, (text) => onlyIso8583Errors(ascii(`02${text}`))),
        { numRuns: 2000 },
      );
    });

    it("throws nothing but Iso8583Error on mutations of valid messages", function () {
      const mutation = fc.tuple(
        fc.constantFrom("replace", "delete", "insert", "truncate"),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
      );
      fc.assert(
        fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (message, mutations) => {
          const bytes = [...encode(message)];
          for (const [kind, at, byte] of mutations) {
            const i = at % (bytes.length + 1);
            if (kind === "replace" && i < bytes.length) bytes[i] = byte;
            else if (kind === "delete") bytes.splice(i, 1);
            else if (kind === "insert") bytes.splice(i, 0, byte);
            else bytes.length = i;
          }
          onlyIso8583Errors(Uint8Array.from(bytes));
        }),
        { numRuns: 1000 },
      );
    });
  });
});
