/**
 * Shared behaviour: an operation keyed by a reference (a fiat reference, an
 * operation key, a payment or bill id, a voucher, an EIP-3009 nonce) goes
 * through once; a second use of the same reference reverts with the
 * contract's custom error and its arguments and changes nothing; a different
 * reference still goes through.
 */
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

import type { ExpectedError } from "./fixture.js";

/** How one contract keys one operation; `R` is whatever names a reference there. */
export interface SingleUseAdapter<R> {
  /** The reference and the operation, for the test titles: "fiat reference of mintForDeposit". */
  readonly reference: string;
  /** The `index`-th fresh reference (0 and 1 are used; they must differ). */
  fresh(index: number): Promise<R>;
  /**
   * One use of `ref`. `attempt` (0, then 1) changes everything else the operation takes where it can
   * (amount, recipient, caller), so that the reference alone is what makes a second use a repeat.
   */
  use(ref: R, attempt: number): Promise<ContractTransactionResponse>;
  /** The error of a second use of `ref`. */
  reused(ref: R): ExpectedError;
  /** The balances and records the operation moves (plain values, compared deeply). */
  probe(refs: readonly R[]): Promise<readonly unknown[]>;
  /** The contract's own view of whether `ref` is spent, where it has one. */
  isUsed?(ref: R): Promise<boolean>;
}

/** Waits for `tx` to be mined; throws (failing the test) if it reverts. */
async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  expect(receipt?.status, "transaction not mined").to.equal(1);
}

export function shouldBehaveLikeSingleUseReference<R>(adapter: () => SingleUseAdapter<R>): void {
  describe("single-use reference", function () {
    it("goes through with a fresh reference, once, and marks it spent", async function () {
      const a = adapter();
      const first = await a.fresh(0);
      const before = await a.probe([first]);
      if (a.isUsed) expect(await a.isUsed(first), "fresh reference reported spent").to.equal(false);
      await mined(a.use(first, 0));
      // The probe sees the operation: otherwise "changes nothing" below would prove nothing.
      expect(await a.probe([first])).not.to.deep.equal(before);
      if (a.isUsed) expect(await a.isUsed(first), "used reference not reported spent").to.equal(true);
    });

    it("refuses a second use of the same reference with its custom error and changes nothing", async function () {
      const a = adapter();
      const first = await a.fresh(0);
      await mined(a.use(first, 0));
      const before = await a.probe([first]);
      const error = a.reused(first);
      await expect(a.use(first, 1))
        .to.be.revertedWithCustomError(error.contract, error.name)
        .withArgs(...error.args);
      expect(await a.probe([first])).to.deep.equal(before);
    });

    it("still goes through with a different reference after one was used", async function () {
      const a = adapter();
      const first = await a.fresh(0);
      const second = await a.fresh(1);
      await mined(a.use(first, 0));
      if (a.isUsed) expect(await a.isUsed(second), "an unused reference reported spent").to.equal(false);
      const before = await a.probe([first, second]);
      await mined(a.use(second, 1));
      expect(await a.probe([first, second])).not.to.deep.equal(before);
      if (a.isUsed) expect(await a.isUsed(second)).to.equal(true);
    });
  });
}
