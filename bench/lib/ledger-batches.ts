/**
 * What the gateway sent to the chain during a run, read back from the blocks:
 * its `AccountLedger.execute(ops)` transactions, how many operations each
 * carried, their gas, and how many blocks they took.
 */
import type { Provider } from "ethers";

import { AccountLedger__factory } from "../../typechain-types/index.js";

export interface BatchFigures {
  readonly transactions: number;
  readonly operations: number;
  readonly blocks: number;
  readonly gas: bigint;
  readonly batchMean: number;
  readonly batchP50: number;
  readonly batchMax: number;
}

/** The `execute` transactions `from` sent in blocks `fromBlock..toBlock`. */
export async function ledgerBatches(
  provider: Provider,
  from: string,
  fromBlock: number,
  toBlock: number,
): Promise<BatchFigures> {
  const ledger = AccountLedger__factory.createInterface();
  const sizes: number[] = [];
  const blocks = new Set<number>();
  let gas = 0n;
  for (let n = fromBlock; n <= toBlock; n += 1) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== from.toLowerCase()) continue;
      const call = ledger.parseTransaction({ data: tx.data });
      if (call?.name !== "execute") continue;
      sizes.push((call.args[0] as unknown[]).length);
      blocks.add(n);
      gas += (await provider.getTransactionReceipt(tx.hash))!.gasUsed;
    }
  }
  sizes.sort((x, y) => x - y);
  const operations = sizes.reduce((sum, size) => sum + size, 0);
  return {
    transactions: sizes.length,
    operations,
    blocks: blocks.size,
    gas,
    batchMean: sizes.length === 0 ? 0 : Math.round((operations / sizes.length) * 10) / 10,
    batchP50: sizes[Math.floor(sizes.length / 2)] ?? 0,
    batchMax: sizes.at(-1) ?? 0,
  };
}
