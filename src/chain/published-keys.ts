/**
 * The keys everyone has: the first accounts of the public test mnemonic
 * ("test test … junk") that Hardhat's in-process network, Anvil and the
 * `npm start` devnet fund, printed by both tools at start. A remote network
 * refuses them as duty keys: anyone can sign with them.
 */
import { HDNodeWallet } from "ethers";

import { DEVNET_ACCOUNT_COUNT } from "./networks.js";

/** Hardhat's and Anvil's default mnemonic, from which the devnet's accounts come. */
export const PUBLIC_TEST_MNEMONIC = "test test test test test test test test test test test junk";

/** How many of its accounts are checked: every devnet account, and more than either tool prints. */
const PUBLISHED_ACCOUNTS = Math.max(DEVNET_ACCOUNT_COUNT, 40);

let published: ReadonlyMap<string, number> | undefined;

/**
 * The index of `privateKey` among the public test mnemonic's accounts, or
 * undefined when it is not one of them. `privateKey` is 64 hex digits, with or
 * without `0x`, in either case.
 */
export function publishedKeyIndex(privateKey: string): number | undefined {
  if (published === undefined) {
    const root = HDNodeWallet.fromPhrase(PUBLIC_TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");
    published = new Map(
      Array.from({ length: PUBLISHED_ACCOUNTS }, (_, index) => [root.deriveChild(index).privateKey, index] as const),
    );
  }
  const hex = /^0x/i.test(privateKey) ? privateKey.slice(2) : privateKey;
  return published.get(`0x${hex.toLowerCase()}`);
}
