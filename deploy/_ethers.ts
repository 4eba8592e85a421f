/**
 * Shared by the deploy scripts (rocketh skips files starting with `_`): ethers
 * on rocketh's provider, and transactions that are sent only when the chain is
 * not already in the wanted state, so a deploy can be re-run safely.
 */
import { BrowserProvider, type ContractTransactionResponse, type Eip1193Provider, type JsonRpcSigner } from "ethers";

import { waitForReceipt } from "../src/chain/receipts.js";

export interface EthersEnv {
  readonly provider: BrowserProvider;
  signer(address: string): Promise<JsonRpcSigner>;
}

export function ethersFor(env: { network: { provider: unknown } }): EthersEnv {
  const provider = new BrowserProvider(env.network.provider as Eip1193Provider, undefined, { pollingInterval: 100 });
  return { provider, signer: (address) => provider.getSigner(address) };
}

/** Sends `send()` unless `done()` already holds, waits for it, and logs what it did. */
export async function ensure(
  what: string,
  done: () => Promise<boolean>,
  send: () => Promise<ContractTransactionResponse>,
): Promise<void> {
  if (await done()) return;
  const tx = await send();
  const receipt = await waitForReceipt(tx.provider, tx.hash);
  if (receipt.status !== 1) throw new Error(`deploy step failed: ${what} (${tx.hash})`);
  console.log(`  - ${what} (${tx.hash})`);
}
