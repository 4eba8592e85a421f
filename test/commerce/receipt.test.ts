import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import canonicalize from "canonicalize";
import fc from "fast-check";

import { CommerceError } from "../../src/commerce/errors.js";
import {
  canonicalJson,
  receiptCanonicalJson,
  receiptHash,
  referenceSchema,
  type CanonicalValue,
  type Receipt,
} from "../../src/commerce/receipt.js";

const receipt: Receipt = {
  orderId: "ORD-000042",
  reference: `0x${"11".repeat(32)}`,
  sku: "sku-espresso",
  quantity: 2,
  amount: "3998",
  currency: "EUR",
  paidAt: 1_700_000_000,
  retailer: 'Café "Shop"',
};

/** Written by hand: keys in byte order, no whitespace, the é as itself, the quotes escaped, the amount a string. */
const LITERAL =
  '{"amount":"3998","currency":"EUR","orderId":"ORD-000042","paidAt":1700000000,"quantity":2,' +
  '"reference":"0x1111111111111111111111111111111111111111111111111111111111111111",' +
  '"retailer":"Café \\"Shop\\"","sku":"sku-espresso"}';

function refusal(fn: () => unknown): CommerceError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(CommerceError);
    return error as CommerceError;
  }
  expect.fail("expected a CommerceError");
}

describe("commerce: receipt canonical JSON and receiptHash", function () {
  it("hashes the known answer: keccak256 of the hand-written canonical string", function () {
    expect(receiptCanonicalJson(receipt)).to.equal(LITERAL);
    expect(receiptHash(receipt)).to.equal(keccak256(toUtf8Bytes(LITERAL)));
    // Pinned, so a change of the hash function or of the encoding cannot go unnoticed.
    expect(receiptHash(receipt)).to.equal("0xced8e6f88688258a36c3d885ac4f56766c3e159234a0637e19e46c8ba28286b9");
  });

  it("does not depend on the order the receipt's keys were written in", function () {
    const shuffled = Object.fromEntries(Object.entries(receipt).reverse()) as unknown as Receipt;
    expect(Object.keys(shuffled)[0]).to.equal("retailer");
    expect(receiptHash(shuffled)).to.equal(receiptHash(receipt));
  });

  it("changes with every field", function () {
    const changed: Partial<Record<keyof Receipt, unknown>> = {
      orderId: "ORD-000043",
      reference: `0x${"12".repeat(32)}`,
      sku: "sku-book",
      quantity: 3,
      amount: "3999",
      currency: "USD",
      paidAt: 1_700_000_001,
      retailer: 'Cafe "Shop"',
    };
    const hashes = new Set([receiptHash(receipt)]);
    for (const [field, value] of Object.entries(changed)) {
      hashes.add(receiptHash({ ...receipt, [field]: value } as Receipt));
    }
    expect(hashes.size).to.equal(9);
  });

  it("refuses a receipt with an amount that is not a canonical integer string, or any other malformed field", function () {
    for (const [field, value] of [
      ["amount", 3998],
      ["amount", "1e3"],
      ["amount", "-1"],
      ["amount", "01"],
      ["amount", "0"],
      ["amount", " 1"],
      ["amount", (2n ** 64n).toString()],
      ["quantity", 1.5],
      ["quantity", 0],
      ["quantity", 11],
      ["paidAt", 1.5],
      ["paidAt", 2 ** 53],
      ["reference", `0x${"AB".repeat(32)}`],
      ["reference", `0x${"ab".repeat(31)}`],
      ["currency", "eur"],
      ["currency", "xEUR"],
      ["currency", "EURO"],
      ["reference", `x0x${"11".repeat(32)}`],
      ["reference", `0x${"11".repeat(32)}x`],
      ["orderId", ""],
    ] as const) {
      const error = refusal(() => receiptHash({ ...receipt, [field]: value } as unknown as Receipt));
      expect(error.code, `${field}=${String(value)}`).to.equal("RECEIPT_INVALID");
      expect(error.details.field).to.equal(field);
    }
    expect(receiptHash({ ...receipt, amount: (2n ** 64n - 1n).toString() })).to.match(/^0x[0-9a-f]{64}$/);
    const extra = refusal(() => receiptHash({ ...receipt, note: "x" } as unknown as Receipt));
    expect(extra.code).to.equal("RECEIPT_INVALID");
    const missing = { ...receipt } as Partial<Receipt>;
    delete missing.retailer;
    expect(refusal(() => receiptHash(missing as Receipt)).details.field).to.equal("retailer");
  });

  describe("referenceSchema (the order reference a retailer is sent)", function () {
    it("accepts 0x and 64 hex digits in any case and reads them lower case", function () {
      const upper = `0x${"AB".repeat(32)}`;
      expect(referenceSchema.parse(upper)).to.equal(`0x${"ab".repeat(32)}`);
      expect(referenceSchema.parse(`0x${"0f".repeat(32)}`)).to.equal(`0x${"0f".repeat(32)}`);
    });

    it("refuses anything around, inside or missing from the 64 digits", function () {
      const digits = "ab".repeat(32);
      for (const value of [
        `x0x${digits}`,
        ` 0x${digits}`,
        `0x${digits}0`,
        `0x${digits}\n`,
        `0x${digits.slice(1)}`,
        "0xa",
        `0x${"g".repeat(64)}`,
        digits,
      ]) {
        expect(referenceSchema.safeParse(value).success, JSON.stringify(value)).to.equal(false);
      }
    });
  });

  describe("canonicalJson", function () {
    it("sorts keys at every depth, writes no whitespace and strings as JSON.stringify does", function () {
      expect(canonicalJson({ b: [{ z: 1, a: "\n\u0001\u2028" }], a: null, "": true })).to.equal(
        '{"":true,"a":null,"b":[{"a":"\\n\\u0001\u2028","z":1}]}',
      );
    });

    it("sorts integer-like keys as strings too, not in the order JavaScript enumerates them", function () {
      const value = { a: 4, "10": 1, "9": 2, "": 3 };
      expect(Object.keys(value)).to.deep.equal(["9", "10", "a", ""]);
      expect(canonicalJson(value)).to.equal('{"":3,"10":1,"9":2,"a":4}');
    });

    it("refuses what has no single spelling: fractions, unsafe integers, bigints, undefined, objects of a class", function () {
      for (const value of [1.5, 2 ** 53, -0.1, Number.NaN, Infinity, 10n, undefined, new Date(0), new Map()]) {
        const error = refusal(() => canonicalJson({ x: value } as unknown as CanonicalValue));
        expect(error.code).to.equal("RECEIPT_INVALID");
        expect(error.details.field).to.equal("$.x");
      }
    });

    it("reads back to the same value and does not depend on key order (property)", function () {
      const json = fc.letrec((tie) => ({
        value: fc.oneof(
          { depthSize: "small" },
          fc.string({ unit: "grapheme" }),
          fc.maxSafeInteger(),
          fc.boolean(),
          fc.constant(null),
          fc.array(tie("value"), { maxLength: 4 }),
          fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
        ),
      })).value as fc.Arbitrary<CanonicalValue>;
      const reversed = (value: CanonicalValue): CanonicalValue => {
        if (Array.isArray(value)) return value.map(reversed);
        if (value !== null && typeof value === "object") {
          return Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          );
        }
        return value;
      };
      fc.assert(
        fc.property(json, (value) => {
          const text = canonicalJson(value);
          expect(JSON.parse(text)).to.deep.equal(value);
          expect(canonicalJson(reversed(value))).to.equal(text);
        }),
        { numRuns: 300 },
      );
    });

    it("writes what RFC 8785 (JCS) writes for the same values: the npm `canonicalize` 5.1.0, an outside implementation", function () {
      expect(receiptCanonicalJson(receipt)).to.equal(canonicalize(receipt));
      // A lone surrogate has no RFC 8785 spelling: both refuse it.
      for (const text of ["\ud800", "a\udc00b"]) {
        expect(() => canonicalize(text)).to.throw();
        expect(() => canonicalJson({ sku: text }))
          .to.throw(CommerceError, "lone UTF-16 surrogate")
          .with.property("details")
          .that.deep.equals({ field: "$.sku" });
      }
      const json = fc.letrec((tie) => ({
        value: fc.oneof(
          { depthSize: "small" },
          fc.string({ unit: "binary" }),
          fc.maxSafeInteger(),
          fc.boolean(),
          fc.constant(null),
          fc.array(tie("value"), { maxLength: 4 }),
          fc.dictionary(fc.string({ unit: "binary" }), tie("value"), { maxKeys: 5 }),
        ),
      })).value as fc.Arbitrary<CanonicalValue>;
      fc.assert(
        fc.property(json, (value) => {
          expect(canonicalJson(value)).to.equal(canonicalize(value));
        }),
        { numRuns: 500 },
      );
    });
  });
});
