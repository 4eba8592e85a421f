/**
 * How the interop services send a transaction so that a crash at any point
 * never sends it twice: the transaction is signed first, the caller stores
 * the signed bytes (and so its hash and nonce), and only then are they
 * broadcast. After a restart a stored transaction is looked up by its hash:
 * mined (its receipt decides), pending (wait), or unknown to the node — then
 * the same bytes are broadcast again while their nonce is still free, and
 * given up once another transaction took that nonce (the caller then reads
 * the chain to decide what to do). The contracts' own replay guards are the
 * last line; the stored bytes are the first.
 *
 * Signing, storing and broadcasting hold a lock per key and chain, shared by
 * every sender of the process, so two services sharing the key (the API
 * gateway and the relayer on the `relayer` duty) never sign two transactions
 * with one nonce.
 */
import { Transaction, type JsonRpcProvider, type Signer, type TransactionReceipt } from "ethers";

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
  /** The sending key, not connected: it is connected to a healthy node of each chain as needed. */
  readonly signer: Signer;
  /** Gas above the estimate (the state may change between estimate and mining; unused gas is refunded). */
  readonly gasMargin?: (estimate: bigint) => bigint;
}

/** One `send`'s own needs. */
export interface SendOptions {
  /**
   * Gas on top of the estimate and the margin: what the transaction must still have left should a part of it fail
   * where the estimate succeeded (an InteropGateway batch item is owed `MIN_BATCH_ITEM_GAS` even when it fails).
   */
  readonly extraGas?: bigint;
}

const defaultMargin = (estimate: bigint): bigint => estimate / 4n + 50_000n;
/**
 * One queue per (key, chain) for the whole process: two services holding the
 * same key (the API gateway and the relayer on the `relayer` duty) each have
 * a sender, and must still never sign two transactions with one nonce.
 */
const LOCKS = new Map<string, Promise<void>>();
const KNOWN = /already known|known transaction|already imported/i;

export class SignedSender {
  readonly #nodes: NodeDirectory;
  readonly #signer: Signer;
  readonly #margin: (estimate: bigint) => bigint;
  #address: string | undefined;

  constructor(options: SenderOptions) {
    this.#nodes = options.nodes;
    this.#signer = options.signer;
    this.#margin = options.gasMargin ?? defaultMargin;
  }

  /** The sending address. */
  async address(): Promise<string> {
    this.#address ??= await this.#signer.getAddress();
    return this.#address;
  }

  /**
   * Estimates, signs (with `options.extraGas` on top of the estimate and the
   * margin), hands the signed transaction to `record` (which must store it
   * durably, synchronously) and broadcasts it. A revert in the
   * estimate is thrown as ethers raised it, before anything is recorded
   * (decode it with `decodeRevert`): the chain would refuse the call now. A
   * broadcast that may or may not have arrived is not an error: ask `fate`.
   */
  async send(
    chainId: bigint,
    to: string,
    data: string,
    record: (tx: SignedTx) => void,
    options: SendOptions = {},
  ): Promise<SignedTx> {
    return this.#locked(chainId, async () => {
      const tx = await this.#nodes.withNode(chainId, async (provider) => {
        const signer = this.#signer.connect(provider);
        const estimate = await signer.estimateGas({ to, data });
        const populated = await signer.populateTransaction({
          to,
          data,
          gasLimit: estimate + this.#margin(estimate) + (options.extraGas ?? 0n),
        });
        const raw = await signer.signTransaction(populated);
        const parsed = Transaction.from(raw);
        return { chainId, hash: parsed.hash!, nonce: parsed.nonce, raw };
      });
      record(tx);
      await this.#broadcast(tx);
      return tx;
    });
  }

  /**
   * Where `tx` stands: mined, pending, or dropped (its nonce is used by
   * another transaction). A transaction the node does not know whose nonce
   * is still free is broadcast again and reported pending.
   */
  async fate(tx: SignedTx): Promise<TxFate> {
    const address = await this.address();
    return this.#locked(tx.chainId, () =>
      this.#nodes.withNode(tx.chainId, async (provider): Promise<TxFate> => {
        const receipt = await provider.getTransactionReceipt(tx.hash);
        if (receipt !== null) return { kind: "mined", receipt };
        if ((await provider.getTransaction(tx.hash)) !== null) return { kind: "pending" };
        const used = await provider.getTransactionCount(address, "latest");
        if (used > tx.nonce) {
          // The nonce moved on: mined meanwhile, or taken by another transaction. One more look decides.
          const late = await provider.getTransactionReceipt(tx.hash);
          return late === null ? { kind: "dropped" } : { kind: "mined", receipt: late };
        }
        try {
          await provider.broadcastTransaction(tx.raw);
        } catch (error) {
          if (hasCode(error, "NONCE_EXPIRED")) return { kind: "dropped" };
          // Another transaction of ours holds the nonce in the pool: this one is dropped once that one is mined.
          if (hasCode(error, "REPLACEMENT_UNDERPRICED")) return { kind: "pending" };
          if (!KNOWN.test(messageOf(error))) throw error;
        }
        return { kind: "pending" };
      }),
    );
  }

  async #broadcast(tx: SignedTx): Promise<void> {
    let provider: JsonRpcProvider;
    try {
      provider = await this.#nodes.providerFor(tx.chainId);
    } catch {
      return; // No node now: `fate` decides later.
    }
    try {
      await provider.broadcastTransaction(tx.raw);
    } catch (error) {
      if (KNOWN.test(messageOf(error))) return;
      if (hasCode(error, "NONCE_EXPIRED") || hasCode(error, "INSUFFICIENT_FUNDS")) throw error;
      // Network trouble: it may or may not have arrived.
      this.#nodes.markFailed(tx.chainId, provider);
    }
  }

  /** Runs `fn` after every earlier call of any sender of this process for this key and `chainId` has finished. */
  async #locked<T>(chainId: bigint, fn: () => Promise<T>): Promise<T> {
    const key = `${await this.address()}:${chainId}`;
    const before = LOCKS.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    LOCKS.set(key, settled);
    void settled.then(() => {
      if (LOCKS.get(key) === settled) LOCKS.delete(key);
    });
    return run;
  }
}
