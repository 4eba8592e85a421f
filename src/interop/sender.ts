/**
 * How the interop services send a transaction so that a crash at any point
 * never sends it twice: the transaction is signed first and the signed bytes
 * (and so its hash and nonce) are stored by the caller before they are
 * broadcast. After a restart a stored transaction is looked up by its hash:
 * mined (its receipt decides), pending (wait), or unknown to the node — then
 * the same bytes are broadcast again while its nonce is still free, and given
 * up once another transaction took that nonce (the caller then reads the
 * chain to decide what to do). The contracts' own replay guards are the last
 * line; the stored bytes are the first.
 */
import { Transaction, type JsonRpcProvider, type TransactionReceipt, type Wallet } from "ethers";

import { hasCode } from "../chain/reverts.js";
import { messageOf } from "../errors.js";
import type { NodeDirectory } from "./nodes.js";

/** A transaction signed and not yet known to be final. */
export interface SignedTx {
  readonly chainId: bigint;
  readonly hash: string;
  readonly nonce: number;
  /** The signed bytes, hex. */
  readonly raw: string;
}

/** Where a stored transaction stands. */
export type TxFate =
  | { readonly kind: "mined"; readonly receipt: TransactionReceipt }
  | { readonly kind: "pending" }
  /** Its nonce was taken by another transaction: it will never be mined. */
  | { readonly kind: "dropped" };

export interface SenderOptions {
  readonly nodes: NodeDirectory;
  /** The sending key (not connected: a provider is chosen per chain). */
  readonly wallet: Wallet;
  /** Gas above the estimate (the state may change between estimate and mining; unused gas is refunded). */
  readonly gasMargin?: (estimate: bigint) => bigint;
}

const defaultMargin = (estimate: bigint): bigint => estimate / 4n + 50_000n;

export class SignedSender {
  readonly #nodes: NodeDirectory;
  readonly #wallet: Wallet;
  readonly #margin: (estimate: bigint) => bigint;

  constructor(options: SenderOptions) {
    this.#nodes = options.nodes;
    this.#wallet = options.wallet;
    this.#margin = options.gasMargin ?? defaultMargin;
  }

  /** The sending address. */
  get address(): string {
    return this.#wallet.address;
  }

  /**
   * Estimates, fills in and signs a call of `to` with `data` on `chainId`;
   * nothing is sent. A revert in the estimate is thrown as ethers raised it
   * (decode it with `decodeRevert`): the chain would refuse the call now.
   */
  async sign(chainId: bigint, to: string, data: string): Promise<SignedTx> {
    return this.#nodes.withNode(chainId, async (provider) => {
      const wallet = this.#wallet.connect(provider);
      const estimate = await wallet.estimateGas({ to, data });
      const populated = await wallet.populateTransaction({ to, data, gasLimit: estimate + this.#margin(estimate) });
      const raw = await wallet.signTransaction(populated);
      const parsed = Transaction.from(raw);
      return { chainId, hash: parsed.hash!, nonce: parsed.nonce, raw };
    });
  }

  /**
   * Broadcasts a signed transaction. A node that already has it, or that fails
   * in a way that leaves it unknown whether it took it, is not an error: ask
   * `fate` later. A refusal of the transaction itself (nonce taken, funds)
   * is thrown.
   */
  async broadcast(tx: SignedTx): Promise<void> {
    let provider: JsonRpcProvider;
    try {
      provider = await this.#nodes.providerFor(tx.chainId);
    } catch {
      return; // No node now: `fate` decides later.
    }
    try {
      await provider.broadcastTransaction(tx.raw);
    } catch (error) {
      if (/already known|known transaction|already imported/i.test(messageOf(error))) return;
      if (hasCode(error, "NONCE_EXPIRED") || hasCode(error, "INSUFFICIENT_FUNDS") || hasCode(error, "CALL_EXCEPTION")) {
        throw error;
      }
      // Network trouble: it may or may not have arrived.
      this.#nodes.markFailed(tx.chainId, provider);
    }
  }

  /**
   * Where `tx` stands: mined, pending, or dropped (its nonce is used by
   * another transaction). A transaction the node does not know whose nonce
   * is still free is broadcast again and reported pending.
   */
  async fate(tx: SignedTx): Promise<TxFate> {
    return this.#nodes.withNode(tx.chainId, async (provider) => {
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (receipt !== null) return { kind: "mined", receipt };
      if ((await provider.getTransaction(tx.hash)) !== null) return { kind: "pending" };
      const used = await provider.getTransactionCount(this.#wallet.address, "latest");
      if (used > tx.nonce) {
        // The nonce moved on: mined meanwhile, or replaced. One more look for the receipt decides.
        const late = await provider.getTransactionReceipt(tx.hash);
        return late === null ? { kind: "dropped" } : { kind: "mined", receipt: late };
      }
      try {
        await provider.broadcastTransaction(tx.raw);
      } catch (error) {
        if (hasCode(error, "NONCE_EXPIRED")) return { kind: "dropped" };
        // Another transaction of ours holds the nonce in the pool: this one is dropped once that one is mined.
        if (hasCode(error, "REPLACEMENT_UNDERPRICED")) return { kind: "pending" };
        if (!/already known|known transaction|already imported/i.test(messageOf(error))) throw error;
      }
      return { kind: "pending" };
    });
  }
}
