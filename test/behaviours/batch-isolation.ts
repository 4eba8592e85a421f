/**
 * Shared behaviour: a batch entry point isolates its items. One bad item is
 * refused with an event carrying its custom error, the other items are
 * applied, and the batch itself does not revert; a batch of only bad items
 * changes nothing.
 */
import { expect } from "chai";
import type { BaseContract, ContractTransactionResponse } from "ethers";

import { encodeError, type ExpectedError } from "./fixture.js";

/** How one contract's batch is driven; `I` is one item of the batch. */
export interface BatchAdapter<I> {
  /** The entry point, for the test titles: "AccountLedger.execute". */
  readonly entryPoint: string;
  /** The `index`-th good item (0 and 1 are used), each valid on its own and next to the others. */
  good(index: number): Promise<I>;
  /** The `index`-th bad item (0 and 1 are used) and the custom error it fails with. */
  bad(index: number): Promise<{ readonly item: I; readonly error: ExpectedError }>;
  /** The batch's per-item results, from a static call. */
  preview(items: readonly I[]): Promise<readonly boolean[]>;
  /** Sends the batch. */
  submit(items: readonly I[]): Promise<ContractTransactionResponse>;
  /** Sends `item` through the contract's single-item entry point. */
  alone(item: I): Promise<ContractTransactionResponse>;
  /** The contract and event that report a refused item: `event(id, reason)`. */
  readonly rejected: { readonly contract: BaseContract; readonly event: string; id(item: I): Promise<string> };
  /** Whether `item` took effect. */
  applied(item: I): Promise<boolean>;
  /** The balances and records the items move (plain values, compared deeply). */
  probe(): Promise<readonly unknown[]>;
}

async function mined(tx: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await tx).wait();
  expect(receipt?.status, "batch reverted").to.equal(1);
}

export function shouldBehaveLikeIsolatingBatch<I>(adapter: () => BatchAdapter<I>): void {
  describe("batch isolation", function () {
    it("a bad item alone reverts with the custom error the batch reports for it", async function () {
      const a = adapter();
      const { item, error } = await a.bad(0);
      await expect(a.alone(item))
        .to.be.revertedWithCustomError(error.contract, error.name)
        .withArgs(...error.args);
    });

    it("refuses the bad item with its reason, applies the others, and does not revert", async function () {
      const a = adapter();
      const first = await a.good(0);
      const { item: bad, error } = await a.bad(0);
      const second = await a.good(1);
      const items = [first, bad, second];
      expect(await a.preview(items)).to.deep.equal([true, false, true]);
      const tx = a.submit(items);
      await expect(tx)
        .to.emit(a.rejected.contract, a.rejected.event)
        .withArgs(await a.rejected.id(bad), encodeError(error));
      await mined(tx);
      const receipt = await (await tx).wait();
      const refusals = receipt!.logs.filter(
        (log) => a.rejected.contract.interface.parseLog(log)?.name === a.rejected.event,
      );
      expect(refusals, "refusal events").to.have.length(1);
      expect(await a.applied(first), "first good item").to.equal(true);
      expect(await a.applied(bad), "bad item").to.equal(false);
      expect(await a.applied(second), "second good item").to.equal(true);
    });

    it("a batch of only bad items refuses each, changes nothing and does not revert", async function () {
      const a = adapter();
      const bads = [await a.bad(0), await a.bad(1)];
      const items = bads.map((b) => b.item);
      expect(await a.preview(items)).to.deep.equal([false, false]);
      const before = await a.probe();
      const tx = a.submit(items);
      for (const b of bads) {
        await expect(tx)
          .to.emit(a.rejected.contract, a.rejected.event)
          .withArgs(await a.rejected.id(b.item), encodeError(b.error));
      }
      await mined(tx);
      expect(await a.probe()).to.deep.equal(before);
      for (const item of items) expect(await a.applied(item)).to.equal(false);
    });
  });
}
