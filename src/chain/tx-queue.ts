/**
 * Pipelined sending from one key: transactions go out one after another
 * without waiting for the one before to be mined, each with its nonce counted
 * here rather than asked of the node, with the chain id and fees read once and
 * refreshed in the background. Their receipts are awaited together by one
 * loop (one `eth_getTransactionReceipt` per hash per round).
 *
 * Nonces, never two transactions on one:
 * - the first send reads the node's `pending` count; each send after it takes
 *   the next number, in the order `send` was called (sends are serialized:
 *   the next one starts when the node has answered the one before);
 * - a send the node refused, or whose answer was lost, forgets the count: the
 *   next send reads it again from the node, which counts every transaction it
 *   holds, so a number in use is never handed out again;
 * - a transaction that is neither mined nor known to the node when its
 *   receipt is overdue was dropped: its `mined` promise rejects with
 *   `TxDroppedError` and the count is read again, so the next send takes the
 *   freed number and the transactions queued behind the gap can be mined.
 *
 * The caller decides what a failed or dropped transaction means (for a bank
 * agent: look at the settlement's record on chain before sending again).
 */
import type { Provider, Signer, TransactionRequest } from "ethers";

import { BankChainError, messageOf } from "../errors.js";
import { Pause } from "./pause.js";
import { readReceipt, type MinedReceipt } from "./raw-reads.js";

/** A transaction that is neither mined nor known to the node any more: its nonce is free again. */
export class TxDroppedError extends BankChainError {}
/** No receipt in the time allowed, but the node still holds the transaction. */
export class TxOverdueError extends BankChainError {}

/** One transaction handed to the node. */
export interface QueuedTx {
  readonly hash: string;
  readonly nonce: number;
  /** Resolves with the receipt, whatever its status; rejects with `TxDroppedError` or `TxOverdueError`. */
  readonly mined: Promise<MinedReceipt>;
}

export interface TxQueueOptions {
  readonly provider: Provider;
  /** The sending key, connected to `provider`. */
  readonly signer: Signer;
  /** Pause between two rounds of receipt questions (default 50 ms). */
  readonly receiptPollMs?: number;
  /** How long a transaction may stay unmined before it is looked at as dropped or overdue (default 120 s). */
  readonly receiptTimeoutMs?: number;
  /** Age after which the fee figures are read again in the background (default 5 s). */
  readonly feeTtlMs?: number;
}

type Fees =
  | { readonly type: 2; readonly maxFeePerGas: bigint; readonly maxPriorityFeePerGas: bigint }
  | { readonly type: 0; readonly gasPrice: bigint };

interface Watched {
  readonly hash: string;
  readonly nonce: number;
  readonly deadline: number;
  readonly resolve: (receipt: MinedReceipt) => void;
  readonly reject: (error: unknown) => void;
}

export class TxQueue {
  readonly #provider: Provider;
  readonly #signer: Signer;
  readonly #pollMs: number;
  readonly #timeoutMs: number;
  readonly #feeTtlMs: number;
  /** The next nonce to hand out, or undefined: read it from the node first. */
  #next: number | undefined;
  #chainId: bigint | undefined;
  #fees: { readonly fees: Fees; readonly readAt: number } | undefined;
  #refreshing: Promise<void> | undefined;
  /** The tail of the send queue. */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #watched = new Map<string, Watched>();
  #watching = false;
  /** The receipt loop's wait for its next round, which `close()` ends at once. */
  readonly #pause = new Pause();
  #address: string | undefined;

  constructor(options: TxQueueOptions) {
    this.#provider = options.provider;
    this.#signer = options.signer;
    this.#pollMs = options.receiptPollMs ?? 50;
    this.#timeoutMs = options.receiptTimeoutMs ?? 120_000;
    this.#feeTtlMs = options.feeTtlMs ?? 5_000;
  }

  /** Transactions sent whose receipts are still awaited. */
  get inFlight(): number {
    return this.#watched.size;
  }

  /**
   * Sends `tx` (its `to`, `data` and `gasLimit`; nonce, chain id and fees are filled in here) after every
   * earlier `send` of this queue has been answered by the node. Resolves once the node holds it; an error
   * means the node refused it or may not have it (the nonce count is then read again). `beforeSend`, when given,
   * is told the nonce before the transaction is handed to the node, so that a caller can keep it first (a send
   * whose answer is lost may still have reached the node); if it throws, nothing is sent and the send rejects with
   * its error.
   */
  send(
    tx: Pick<TransactionRequest, "to" | "data" | "gasLimit" | "value">,
    beforeSend?: (nonce: number) => void,
  ): Promise<QueuedTx> {
    // The tail never rejects (see below), so the next send starts once the one before is answered, either way.
    const run = this.#tail.then(() => this.#send(tx, beforeSend));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops watching: every receipt still awaited rejects with `TxOverdueError` (the transactions may still be
   * mined; the caller looks at them again when it starts next). Sends after this start watching anew.
   */
  close(): void {
    for (const watched of this.#watched.values()) {
      watched.reject(
        new TxOverdueError("CHAIN_TX_OVERDUE", `stopped before ${watched.hash} was mined`, { hash: watched.hash }),
      );
    }
    this.#watched.clear();
    // A loop waiting for its next round ends now rather than a poll later (one in a round ends when the round does).
    this.#pause.wake();
  }

  /** Forgets the nonce count and the fees: the next send reads both from the node. */
  resync(): void {
    this.#next = undefined;
    this.#fees = undefined;
  }

  async #send(
    tx: Pick<TransactionRequest, "to" | "data" | "gasLimit" | "value">,
    beforeSend: ((nonce: number) => void) | undefined,
  ): Promise<QueuedTx> {
    let nonce: number | undefined;
    try {
      this.#address ??= await this.#signer.getAddress();
      this.#chainId ??= (await this.#provider.getNetwork()).chainId;
      this.#next ??= await this.#provider.getTransactionCount(this.#address, "pending");
      nonce = this.#next;
      const fees = await this.#currentFees();
      beforeSend?.(nonce);
      const sent = await this.#signer.sendTransaction({ ...tx, ...fees, nonce, chainId: this.#chainId });
      this.#next = nonce + 1;
      return { hash: sent.hash, nonce, mined: this.#watch(sent.hash, nonce) };
    } catch (error) {
      // Refused, or the answer lost: whatever became of this nonce, the next send asks the node again.
      this.resync();
      throw error;
    }
  }

  async #currentFees(): Promise<Fees> {
    const cached = this.#fees;
    if (cached !== undefined) {
      if (Date.now() - cached.readAt >= this.#feeTtlMs && this.#refreshing === undefined) {
        this.#refreshing = this.#readFees()
          .then((fees) => void (this.#fees = { fees, readAt: Date.now() }))
          .catch(() => undefined) // the old figures stay until a read succeeds
          .finally(() => (this.#refreshing = undefined));
      }
      return cached.fees;
    }
    const fees = await this.#readFees();
    this.#fees = { fees, readAt: Date.now() };
    return fees;
  }

  async #readFees(): Promise<Fees> {
    const data = await this.#provider.getFeeData();
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) {
      return { type: 2, maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas };
    }
    if (data.gasPrice === null) throw new BankChainError("CHAIN_NO_FEE_DATA", "the node gave no fee data");
    return { type: 0, gasPrice: data.gasPrice };
  }

  #watch(hash: string, nonce: number): Promise<MinedReceipt> {
    const mined = new Promise<MinedReceipt>((resolve, reject) => {
      this.#watched.set(hash, { hash, nonce, deadline: Date.now() + this.#timeoutMs, resolve, reject });
    });
    void this.#loop();
    return mined;
  }

  /** Asks for every watched receipt, round after round, until none is left. */
  async #loop(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    try {
      while (this.#watched.size > 0) {
        const round = [...this.#watched.values()];
        await Promise.all(round.map((watched) => this.#check(watched)));
        if (this.#watched.size > 0) await this.#pause.wait(this.#pollMs);
      }
    } finally {
      this.#watching = false;
    }
  }

  async #check(watched: Watched): Promise<void> {
    let receipt: MinedReceipt | null;
    try {
      receipt = await readReceipt(this.#provider, watched.hash);
    } catch {
      receipt = null; // the node did not answer: ask again next round, or judge it if its time is up
    }
    if (receipt !== null) {
      this.#watched.delete(watched.hash);
      watched.resolve(receipt);
      return;
    }
    if (Date.now() < watched.deadline) return;
    this.#watched.delete(watched.hash);
    try {
      watched.resolve(await this.#overdue(watched));
    } catch (error) {
      watched.reject(error);
    }
  }

  /**
   * A transaction past its deadline: overdue while the node holds it or while a nonce below it is still open
   * (a node need not show a transaction queued behind a gap); dropped when the node has forgotten it and its
   * nonce is the next one the chain expects, or was taken by another transaction.
   */
  async #overdue(watched: Watched): Promise<MinedReceipt> {
    const overdue = (why: string) =>
      new TxOverdueError("CHAIN_TX_OVERDUE", `${watched.hash} is not mined after ${this.#timeoutMs} ms: ${why}`, {
        hash: watched.hash,
      });
    let used: number;
    try {
      if ((await this.#provider.getTransaction(watched.hash)) !== null) throw overdue("the node still holds it");
      used = await this.#provider.getTransactionCount(this.#address!, "latest");
      if (watched.nonce > used) throw overdue(`it waits behind nonce ${used}, still open`);
      if (watched.nonce < used) {
        const late = await readReceipt(this.#provider, watched.hash);
        if (late !== null) return late;
      }
    } catch (error) {
      if (error instanceof TxOverdueError) throw error;
      throw overdue(`the node did not say where it is: ${messageOf(error)}`);
    }
    this.resync();
    throw new TxDroppedError(
      "CHAIN_TX_DROPPED",
      watched.nonce === used
        ? `the node no longer holds ${watched.hash}: nonce ${watched.nonce} is free again`
        : `nonce ${watched.nonce} of ${watched.hash} was taken by another transaction`,
      { hash: watched.hash, nonce: watched.nonce },
    );
  }
}
