import { expect } from "chai";

import { Coalescer, type Outcome } from "../../src/chain/coalesce.js";
import { BankChainError } from "../../src/errors.js";

/** A coalescer that doubles numbers and records its batches; with `held`, each flush waits for `release()`. */
function doubler(maxBatch: number, held = false) {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const coalescer = new Coalescer<number, number>({
    maxBatch,
    flush: async (items) => {
      batches.push([...items]);
      if (held) await new Promise<void>((resolve) => gates.push(resolve));
      return items.map((item): Outcome<number> =>
        item < 0 ? { error: new Error(`negative ${item}`) } : { value: item * 2 },
      );
    },
  });
  /** Lets the oldest waiting flush answer. */
  const release = () => gates.shift()?.();
  return { coalescer, batches, release };
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: (error as Error).message }),
  );

describe("kit: Coalescer", function () {
  it("sends a lone call on its own, without waiting for company", async function () {
    const { coalescer, batches } = doubler(10);
    expect(await coalescer.run(21)).to.equal(42);
    expect(batches).to.deep.equal([[21]]);
  });

  it("puts the calls of one turn in one batch, and those that come while it is out in the next", async function () {
    const { coalescer, batches, release } = doubler(10, true);
    const first = [1, 2, 3].map((n) => coalescer.run(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).to.deep.equal([[1, 2, 3]]);
    const second = [4, 5].map((n) => coalescer.run(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches, "nothing goes while a batch is out").to.deep.equal([[1, 2, 3]]);
    release();
    expect(await Promise.all(first)).to.deep.equal([2, 4, 6]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).to.deep.equal([
      [1, 2, 3],
      [4, 5],
    ]);
    release();
    expect(await Promise.all(second)).to.deep.equal([8, 10]);
  });

  it("never puts more than maxBatch items in one batch", async function () {
    const { coalescer, batches } = doubler(2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => coalescer.run(n)))).to.deep.equal([2, 4, 6, 8, 10]);
    expect(batches).to.deep.equal([[1, 2], [3, 4], [5]]);
  });

  it("fails only the items whose outcome is an error", async function () {
    const { coalescer, batches } = doubler(10);
    const results = await Promise.all([1, -2, 3].map((n) => settle(coalescer.run(n))));
    expect(results).to.deep.equal([{ value: 2 }, { error: "negative -2" }, { value: 6 }]);
    expect(batches).to.deep.equal([[1, -2, 3]]);
  });

  it("fails every item of a batch whose flush throws, and goes on with the next calls", async function () {
    let fail = true;
    const coalescer = new Coalescer<number, number>({
      maxBatch: 10,
      flush: async (items) => {
        if (fail) throw new Error("node down");
        return items.map((value) => ({ value }));
      },
    });
    expect(await Promise.all([1, 2].map((n) => settle(coalescer.run(n))))).to.deep.equal([
      { error: "node down" },
      { error: "node down" },
    ]);
    fail = false;
    expect(await coalescer.run(7)).to.equal(7);
  });

  it("fails a batch whose flush answers for the wrong number of items, naming the counts", async function () {
    const coalescer = new Coalescer<number, number>({ maxBatch: 10, flush: async () => [{ value: 1 }] });
    const results = await Promise.all([1, 2].map((n) => coalescer.run(n).catch((error: unknown) => error)));
    for (const error of results) {
      expect(error).to.be.instanceOf(BankChainError);
      expect(error).to.include({ code: "COALESCER_OUTCOMES", message: "a batch of 2 came back with 1 outcomes" });
    }
  });

  it("takes batches of one: each call alone, in order", async function () {
    const { coalescer, batches } = doubler(1);
    expect(await Promise.all([1, 2, 3].map((n) => coalescer.run(n)))).to.deep.equal([2, 4, 6]);
    expect(batches).to.deep.equal([[1], [2], [3]]);
  });

  it("refuses a batch size that is not a whole number of at least one", function () {
    for (const maxBatch of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Coalescer({ maxBatch, flush: async () => [] }))
        .to.throw(BankChainError)
        .with.property("code", "COALESCER_BAD_BATCH");
    }
  });
});
