/**
 * Waiting for a transaction's receipt by asking for it, never by block events.
 *
 * ethers' `tx.wait()` and `provider.waitForTransaction()` ask for the receipt
 * once, then wait for a *new* block to ask again, and a polling provider takes
 * the block it first sees as its baseline without announcing it. A node that
 * mines in the background after answering `eth_sendRawTransaction` (Anvil,
 * Geth, Besu; Hardhat mines before it answers) can put the transaction in that
 * very block; with automining and no other traffic no later block ever comes,
 * and the wait never ends. Polling `eth_getTransactionReceipt` has no such gap.
 */
import { makeError, type Provider, type TransactionReceipt } from "ethers";

import { BankChainError } from "../errors.js";

/** No receipt within the time allowed: the transaction may still be mined later. */
export class ReceiptTimeoutError extends BankChainError {}

export interface ReceiptWait {
  /** Give up after this long (default: wait as long as it takes). */
  readonly timeoutMs?: number;
  /** Delay between two questions; default 50 ms. */
  readonly pollMs?: number;
}

/** The receipt of `hash`, whatever its status; throws `ReceiptTimeoutError` after `timeoutMs`. */
export async function waitForReceipt(
  provider: Pick<Provider, "getTransactionReceipt">,
  hash: string,
  { timeoutMs, pollMs = 50 }: ReceiptWait = {},
): Promise<TransactionReceipt> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt !== null) return receipt;
    if (Date.now() >= deadline) {
      throw new ReceiptTimeoutError("CHAIN_RECEIPT_TIMEOUT", `no receipt for ${hash} within ${timeoutMs} ms`, {
        hash,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * What `tx.wait()` promises, without its gap: the receipt of a sent
 * transaction once mined; a reverted one throws ethers' own `CALL_EXCEPTION`
 * (as `wait()` does), so callers that tell reverts apart keep working.
 */
export async function mined(
  sent: { readonly hash: string; readonly provider: Pick<Provider, "getTransactionReceipt"> },
  options?: ReceiptWait,
): Promise<TransactionReceipt> {
  const receipt = await waitForReceipt(sent.provider, sent.hash, options);
  if (receipt.status !== 1) {
    throw makeError("transaction execution reverted", "CALL_EXCEPTION", {
      action: "sendTransaction",
      data: null,
      reason: null,
      invocation: null,
      revert: null,
      transaction: { to: receipt.to, from: receipt.from, data: "" },
      receipt,
    });
  }
  return receipt;
}
