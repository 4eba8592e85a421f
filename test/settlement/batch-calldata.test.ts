/**
 * The agents encode their batch calls by hand (`batchCalldata`): checked byte for byte against ethers' ABI
 * coder for `initiateBatch`, `smeltBatch`, `acknowledgeBatch` and a lone `initiate`, with values at the edges of their types, and
 * refused for values outside them.
 */
import { expect } from "chai";
import { getAddress, hexlify, randomBytes } from "ethers";

import { batchCalldata, termsTuple, termsWords, type SettlementTerms } from "../../src/settlement/terms.js";
import { IInterbankSettlement__factory } from "../../typechain-types/index.js";

const iface = IInterbankSettlement__factory.createInterface();
const terms = (edge: "low" | "high" | "random"): SettlementTerms => ({
  id: edge === "low" ? `0x${"00".repeat(32)}` : edge === "high" ? `0x${"ff".repeat(32)}` : hexlify(randomBytes(32)),
  debtorBank: getAddress(edge === "high" ? `0x${"ff".repeat(20)}` : hexlify(randomBytes(20))),
  creditorBank: hexlify(randomBytes(20)), // lower case, as ethers also takes it
  amount: edge === "low" ? 1n : edge === "high" ? 2n ** 256n - 1n : BigInt(hexlify(randomBytes(16))),
  creditorAccountRef: hexlify(randomBytes(32)),
  deadline: edge === "low" ? 0 : edge === "high" ? 2 ** 40 - 1 : 1_796_571_797,
});

describe("settlement: the agents' batch calldata against ethers' ABI coder", function () {
  for (const size of [1, 2, 5, 50]) {
    it(`batches of ${size}: the same bytes for all three batch functions`, function () {
      const batch = Array.from({ length: size }, (_, i) => terms((["low", "high", "random"] as const)[i % 3]!));
      const refs = batch.map(() => hexlify(randomBytes(32)));
      const tuples = batch.map(termsTuple);
      expect(batchCalldata(iface.getFunction("initiateBatch").selector, batch)).to.equal(
        iface.encodeFunctionData("initiateBatch", [tuples]),
      );
      expect(batchCalldata(iface.getFunction("acknowledgeBatch").selector, batch)).to.equal(
        iface.encodeFunctionData("acknowledgeBatch", [tuples]),
      );
      expect(batchCalldata(iface.getFunction("smeltBatch").selector, batch, refs)).to.equal(
        iface.encodeFunctionData("smeltBatch", [tuples, refs]),
      );
    });
  }

  it("one initiate (the agents' check of an order arriving alone): the same bytes", function () {
    for (const edge of ["low", "high", "random"] as const) {
      const one = terms(edge);
      expect(iface.getFunction("initiate").selector + termsWords(one)).to.equal(
        iface.encodeFunctionData("initiate", [termsTuple(one)]),
      );
    }
  });

  it("refuses a value outside its type, and references that do not match the terms, with a typed error", function () {
    const selector = iface.getFunction("initiateBatch").selector;
    const good = terms("random");
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return "none";
    };
    expect(codeOf(() => batchCalldata(selector, [{ ...good, amount: 2n ** 256n }]))).to.equal(
      "SETTLEMENT_INVALID_AMOUNT",
    );
    expect(codeOf(() => batchCalldata(selector, [{ ...good, amount: -1n }]))).to.equal("SETTLEMENT_INVALID_AMOUNT");
    expect(codeOf(() => batchCalldata(selector, [{ ...good, deadline: 2 ** 40 }]))).to.equal(
      "SETTLEMENT_INVALID_DEADLINE",
    );
    expect(codeOf(() => batchCalldata(selector, [{ ...good, id: "0x1234" }]))).to.equal("SETTLEMENT_INVALID_WORD");
    expect(codeOf(() => batchCalldata(selector, [{ ...good, debtorBank: "0x12" }]))).to.equal(
      "SETTLEMENT_INVALID_ADDRESS",
    );
    expect(codeOf(() => batchCalldata(selector, [good], []))).to.equal("SETTLEMENT_BATCH_LENGTHS");
    expect(codeOf(() => batchCalldata(selector, [good], ["0x12"]))).to.equal("SETTLEMENT_INVALID_WORD");
  });
});
