/**
 * A duty's key as an ethers `Wallet`, for services that sign raw transactions or typed data off line (the
 * certificate issuer, the reward oracles): on the devnet the public test mnemonic's account at the duty's index;
 * elsewhere the key the chain connection holds for the duty (its configuration variable).
 */
import { HDNodeWallet, Wallet, type Signer } from "ethers";

import { BankChainError } from "../errors.js";
import type { ChainConnection } from "./config.js";
import { DUTIES, isDevnet, type DutyName } from "./networks.js";
import { PUBLIC_TEST_MNEMONIC } from "./published-keys.js";

/** A duty's key is not available on this network. */
export class DutyKeyError extends BankChainError {}

/**
 * The wallet of `duty` on `chain`, connected to its provider.
 * @throws DutyKeyError `DUTY_KEY_MISSING` when the connection holds no key for the duty.
 */
export async function dutyWallet(chain: ChainConnection, duty: DutyName): Promise<Wallet> {
  const index = DUTIES.findIndex((entry) => entry.name === duty);
  if (isDevnet(chain.chainId)) {
    const node = HDNodeWallet.fromPhrase(
      PUBLIC_TEST_MNEMONIC,
      undefined,
      `m/44'/60'/0'/0/${DUTIES[index]!.devnetIndex}`,
    );
    return new Wallet(node.privateKey, chain.provider);
  }
  const signers: Signer[] = await chain.getSigners();
  const signer = signers[index];
  if (!(signer instanceof Wallet)) {
    throw new DutyKeyError("DUTY_KEY_MISSING", `the ${duty} duty's key is not configured on network ${chain.network}`, {
      duty,
      network: chain.network,
    });
  }
  return new Wallet(signer.privateKey, chain.provider);
}
