/**
 * The `ShareRegistry` as the keys services read it: one wallet's whole configuration (owner, account, threshold,
 * epoch, holders, commitments, recoverers) in one call, and the registry's refusals as `KeysError`s.
 */
import { getAddress, type Provider, type Signer } from "ethers";

import { ShareRegistry__factory, type ShareRegistry } from "../../typechain-types/index.js";
import { decodeRevert } from "../chain/reverts.js";
import { KeysError } from "./errors.js";

/** One wallet as the registry holds it now. */
export interface WalletView {
  readonly walletId: string;
  readonly owner: string;
  readonly account: string;
  readonly threshold: number;
  readonly epoch: number;
  readonly retired: boolean;
  /** Holder addresses; share i is holder i's, `holders[i - 1]`. */
  readonly holders: readonly string[];
  /** The share commitments of the current epoch, by index like `holders`. */
  readonly commitments: readonly string[];
  /** Who may fetch shares besides the owner: recovery keys (passphrase-derived) and guardians. */
  readonly recoverers: readonly string[];
}

/** Reads wallets from a `ShareRegistry`. */
export class ShareRegistryReader {
  readonly contract: ShareRegistry;
  readonly address: string;

  constructor(address: string, runner: Provider | Signer) {
    this.address = getAddress(address);
    this.contract = ShareRegistry__factory.connect(this.address, runner);
  }

  /** The wallet's configuration; `KEYS_UNKNOWN_WALLET` when the registry has none under `walletId`. */
  async wallet(walletId: string): Promise<WalletView> {
    let head: Awaited<ReturnType<ShareRegistry["walletOf"]>>;
    try {
      head = await this.contract.walletOf(walletId);
    } catch (error) {
      const revert = decodeRevert(error, ShareRegistry__factory.abi);
      if (revert?.errorName === "UnknownWallet") {
        throw new KeysError("KEYS_UNKNOWN_WALLET", `the registry has no wallet ${walletId}`, { walletId });
      }
      throw error;
    }
    const [holders, commitments, recoverers] = await Promise.all([
      this.contract.holdersOf(walletId),
      this.contract.commitmentsOf(walletId),
      this.contract.recoverersOf(walletId),
    ]);
    return {
      walletId: walletId.toLowerCase(),
      owner: getAddress(head.owner),
      account: getAddress(head.account),
      threshold: Number(head.threshold),
      epoch: Number(head.epoch),
      retired: head.retired,
      holders: holders.map((holder) => getAddress(holder)),
      commitments: commitments.map((commitment) => commitment.toLowerCase()),
      recoverers: recoverers.map((recoverer) => getAddress(recoverer)),
    };
  }
}
