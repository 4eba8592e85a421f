/**
 * Posts the gateway's operations to the AccountLedger in batches: the
 * operations waiting when a transaction goes out travel together in one
 * `execute(ops)`, each with its own outcome (the contract runs each one on its
 * own and reports a refused one by `OperationRejected` without undoing the
 * rest).
 *
 * Pipelined: up to `maxInFlight` transactions are under way at once, sent
 * one at a time (the next only once the node has answered for the previous),
 * so their nonces follow the order they are sent in: a node-held key (ethers'
 * `JsonRpcSigner`, as `npm start`'s devnet accounts) goes out as one bare
 * `eth_sendTransaction` and the node assigns nonce and fees on arrival; a key
 * signed here gets its nonce from the poster (read once, read again after any
 * failed send or lost transaction) and cached chain id and fee data
 * (refreshed in the background every `FEE_TTL_MS`). Their receipts are
 * awaited together, every `pollMs`, by one `eth_getTransactionReceipt` per
 * hash issued in the same tick (a JSON-RPC provider sends them as one HTTP
 * batch), bypassing ethers' 250 ms cache of identical calls.
 *
 * An operation waits in the queue while its key, or the key it refers to
 * (`ref`), is in a transaction under way, so one key is never in two
 * transactions in flight (nor twice in one).
 *
 * Outcomes:
 * - `applied`: the operation is on the ledger (also when its key was already
 *   used, i.e. an earlier attempt of the same message landed);
 * - `rejected`: the ledger refused it (custom error name and arguments); nothing changed;
 * - `unavailable`: no verdict in time. `posted` says whether it may have
 *   landed (`unknown`) or certainly did not (`no`: the transaction reverted as
 *   a whole, ran the operation out of gas, or was refused by the node before
 *   it could enter a block: connection refused, gas estimate failed, nonce
 *   already used or taken, insufficient funds, or never sent).
 * A send of a key signed here refused for its nonce (used, or taken by a
 * pending transaction) is certainly not in a block: the poster reads the nonce
 * again and sends the same operations once more, once.
 */
import {
  ZeroHash,
  type ContractRunner,
  type Interface,
  type Provider,
  type Signer,
  type TransactionRequest,
} from "ethers";

import { messageOf } from "../errors.js";
import { hasCode, revertOf } from "../chain/reverts.js";
import { AccountLedger__factory, type AccountLedger } from "../../typechain-types/index.js";

/** `AccountLedger.OperationKind`, in the contract's order (a test checks it against the ABI). */
export const OPERATION_KIND = {
  hold: 1,
  capture: 2,
  release: 3,
  debit: 4,
  credit: 5,
  reverse: 6,
  forceHold: 13,
  forceDebit: 14,
  void: 15,
} as const;

export type LedgerOperationKind = keyof typeof OPERATION_KIND;

export interface LedgerOperation {
  readonly kind: LedgerOperationKind;
  /** bytes32 idempotency key, single-use on the ledger. */
  readonly key: string;
  readonly wallet: string;
  /** bytes32: the hold's key (capture, release) or the original's key (reverse); zero otherwise. */
  readonly ref: string;
  /** Minor units; for `reverse`, the part to undo (0: all that is outstanding). */
  readonly amount: bigint;
}

export type LedgerOutcome =
  | { readonly status: "applied"; readonly transactionHash: string }
  | { readonly status: "rejected"; readonly error: string; readonly args: readonly unknown[] }
  | { readonly status: "unavailable"; readonly posted: "no" | "unknown"; readonly reason: string };

export interface LedgerPosterOptions {
  readonly ledger: string;
  readonly signer: Signer;
  /** For reads (`keyState`, receipts); defaults to the signer's provider. */
  readonly provider?: Provider;
  /** Operations per transaction (default 100). */
  readonly maxBatch?: number;
  /** Transactions under way at once (default 4). */
  readonly maxInFlight?: number;
  /** How long one transaction may take from send to receipt before its operations are `unavailable` (default 5 s). */
  readonly timeoutMs?: number;
  /** Delay between two rounds of receipt questions (default 10 ms). */
  readonly pollMs?: number;
  /**
   * Called synchronously right before a batch is signed and sent (again before
   * a resend): the last moment to make durable whatever must be durable before
   * its operations can land (the gateway's journal rows). If it throws, the
   * batch is not sent and its operations are `unavailable` with `posted: "no"`.
   */
  readonly beforeSend?: () => void;
}

/** Gas of one batch: a base plus a bound per operation (a hold or debit uses about 60k through the self-call). */
const GAS_BASE = 80_000n;
const GAS_PER_OPERATION = 150_000n;
/** How long fee data is used before it is read again (in the background). */
export const FEE_TTL_MS = 5_000;

interface Pending {
  readonly operation: LedgerOperation;
  readonly resolve: (outcome: LedgerOutcome) => void;
}

/** A transaction under way. */
interface Batch {
  readonly items: readonly Pending[];
  /** Lower-case keys of its operations. */
  readonly keys: readonly string[];
  readonly hash: string;
  /** When its operations become `unavailable` (ms since epoch). */
  readonly deadline: number;
}

/** What the poster reads from a receipt, raw JSON-RPC or ethers'. */
interface ReceiptView {
  readonly hash: string;
  readonly status: number;
  readonly logs: readonly { readonly address: string; readonly topics: readonly string[]; readonly data: string }[];
}

interface ChainParameters {
  readonly chainId: bigint;
  readonly fees:
    | { readonly type: 2; readonly maxFeePerGas: bigint; readonly maxPriorityFeePerGas: bigint }
    | { readonly type: 0; readonly gasPrice: bigint };
  readonly readAt: number;
}

/** A provider that can send raw JSON-RPC (ethers' `JsonRpcApiProvider`, Hardhat's provider). */
interface RawRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** ethers' `JsonRpcSigner`: sends by `eth_sendTransaction` and returns the bare hash. */
interface UncheckedSender {
  sendUncheckedTransaction(tx: TransactionRequest): Promise<string>;
}

export class LedgerPoster {
  readonly #ledgerAddress: string;
  readonly #signer: Signer;
  readonly #reader: AccountLedger;
  readonly #provider: Provider;
  readonly #interface: Interface;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  readonly #pollMs: number;
  readonly #beforeSend: (() => void)[] = [];
  #queue: Pending[] = [];
  /** Transactions under way, by hash. */
  readonly #inFlight = new Map<string, Batch>();
  /** Keys of the operations in `#inFlight`, lower case. */
  readonly #busy = new Set<string>();
  /** The next nonce to use; undefined: read it from the chain first. */
  #nonce: number | undefined;
  #parameters: ChainParameters | undefined;
  #refreshing: Promise<void> | undefined;
  #pumpScheduled = false;
  #sending = false;
  #watching = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: LedgerPosterOptions) {
    const provider = options.provider ?? options.signer.provider;
    if (provider === null) throw new TypeError("LedgerPoster needs a provider: the signer has none and none was given");
    this.#ledgerAddress = options.ledger;
    this.#signer = options.signer;
    this.#provider = provider;
    const reader: ContractRunner = provider;
    this.#reader = AccountLedger__factory.connect(options.ledger, reader);
    this.#interface = AccountLedger__factory.createInterface();
    this.#maxBatch = Math.max(1, options.maxBatch ?? 100);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#pollMs = options.pollMs ?? 10;
    if (options.beforeSend !== undefined) this.#beforeSend.push(options.beforeSend);
  }

  /**
   * Adds a hook called synchronously right before every batch is sent (after
   * `beforeSend`); if one throws, the batch is not sent. The card gateway makes
   * its journal durable here: one commit for all the rows of a batch.
   */
  onBeforeSend(hook: () => void): void {
    this.#beforeSend.push(hook);
  }

  /** Queues `operation` for the next batch; resolves with its outcome, never rejects. */
  post(operation: LedgerOperation): Promise<LedgerOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ operation, resolve });
      this.#schedulePump();
    });
  }

  /**
   * What the ledger holds under `key`: `unused`, `void` (claimed by `voidKey`:
   * the operation meant for it can never land) or `used` by an operation.
   * Throws when the chain cannot be read.
   */
  async keyState(key: string): Promise<"unused" | "void" | "used"> {
    const record = await withTimeout(this.#reader.operationOf(key), this.#timeoutMs, "operationOf");
    const kind = Number(record.kind);
    return kind === 0 ? "unused" : kind === OPERATION_KIND.void ? "void" : "used";
  }

  /** Resolves once every queued operation has its outcome. */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0 || this.#sending || this.#pumpScheduled) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  #notify(): void {
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Forms the next batch after the I/O callbacks of this turn, so the messages that arrived together go together. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      void this.#pump();
    });
  }

  /** Sends batches, one at a time, while operations wait and fewer than `maxInFlight` transactions are under way. */
  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0 && this.#inFlight.size < this.#maxInFlight) {
        const batch = this.#take();
        if (batch.length === 0) break; // every waiting operation waits for a key under way
        await this.#send(batch);
      }
    } finally {
      this.#sending = false;
      this.#notify();
    }
  }

  /** Up to `maxBatch` queued operations whose key and ref are not under way, each key once; marks their keys busy. */
  #take(): Pending[] {
    const taken: Pending[] = [];
    const keys = new Set<string>();
    const rest: Pending[] = [];
    for (const item of this.#queue) {
      const key = item.operation.key.toLowerCase();
      const ref = item.operation.ref === "" ? ZeroHash : item.operation.ref.toLowerCase();
      const waits = this.#busy.has(key) || keys.has(key) || (ref !== ZeroHash && this.#busy.has(ref));
      if (waits || taken.length >= this.#maxBatch) {
        rest.push(item);
        continue;
      }
      taken.push(item);
      keys.add(key);
    }
    this.#queue = rest;
    for (const key of keys) this.#busy.add(key);
    return taken;
  }

  /** Signs and sends one batch (resending once after a refused nonce); it is then watched, or resolved as failed. */
  async #send(items: readonly Pending[]): Promise<void> {
    const keys = items.map((item) => item.operation.key.toLowerCase());
    const fail = (posted: "no" | "unknown", reason: string): void => {
      for (const key of keys) this.#busy.delete(key);
      for (const item of items) item.resolve({ status: "unavailable", posted, reason });
    };
    let data: string;
    try {
      data = this.#interface.encodeFunctionData("execute", [
        items.map(({ operation: op }) => ({
          kind: OPERATION_KIND[op.kind],
          key: op.key,
          wallet: op.wallet,
          ref: op.ref === "" ? ZeroHash : op.ref,
          amount: op.amount,
        })),
      ]);
    } catch (error) {
      // A malformed operation (not an address, not 32 bytes): nothing can be sent.
      fail("no", `not sent: ${messageOf(error)}`);
      return;
    }
    const gasLimit = GAS_BASE + GAS_PER_OPERATION * BigInt(items.length);
    const signer = this.#signer as Signer & Partial<UncheckedSender>;
    if (typeof signer.sendUncheckedTransaction === "function") {
      // A node-held key (ethers' JsonRpcSigner): one eth_sendTransaction, without its sendTransaction's
      // block-number read before and transaction poll after. The node assigns nonce and fees as each
      // transaction arrives, and they arrive one at a time, in order.
      const send = signer.sendUncheckedTransaction.bind(signer);
      await this.#sendWith(items, keys, fail, () => send({ to: this.#ledgerAddress, data, gasLimit }), false);
      return;
    }
    // A key signed here: the poster assigns nonce, chain id and fees.
    for (let attempt = 0; ; attempt++) {
      let parameters: ChainParameters;
      let nonce: number;
      try {
        parameters = await this.#chainParameters();
        nonce = this.#nonce ?? (await this.#pendingNonce());
      } catch (error) {
        fail("no", `not sent: ${messageOf(error)}`);
        return;
      }
      const tx: TransactionRequest = { to: this.#ledgerAddress, data, gasLimit, nonce, ...parameters.fees };
      tx.chainId = parameters.chainId;
      const sent = await this.#sendWith(
        items,
        keys,
        fail,
        async () => (await signer.sendTransaction(tx)).hash,
        attempt === 0,
      );
      if (sent === "sent") this.#nonce = nonce + 1;
      if (sent !== "resend") return;
    }
  }

  /**
   * Calls `beforeSend`, then `submit`; on success the batch is under way and watched. A failure
   * resolves the batch's operations, except a first refused nonce when `mayResend` (then "resend").
   */
  async #sendWith(
    items: readonly Pending[],
    keys: readonly string[],
    fail: (posted: "no" | "unknown", reason: string) => void,
    submit: () => Promise<string>,
    mayResend: boolean,
  ): Promise<"sent" | "failed" | "resend"> {
    try {
      for (const hook of this.#beforeSend) hook();
    } catch (error) {
      fail("no", `not sent: beforeSend failed: ${messageOf(error)}`);
      return "failed";
    }
    let hash: string;
    try {
      hash = await withTimeout(submit(), this.#timeoutMs, "send");
    } catch (error) {
      // Whatever happened to this nonce, the next send reads it again.
      this.#nonce = undefined;
      this.#parameters = undefined;
      if (mayResend && isNonceRefusal(error)) return "resend";
      fail(isRefusedBeforeSending(error) ? "no" : "unknown", messageOf(error));
      return "failed";
    }
    this.#inFlight.set(hash, { items, keys, hash, deadline: Date.now() + this.#timeoutMs });
    void this.#watch();
    return "sent";
  }

  /** Asks for the receipts of every transaction under way until none is left. */
  async #watch(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    try {
      while (this.#inFlight.size > 0) {
        const batches = [...this.#inFlight.values()];
        const wait = Math.max(50, Math.min(...batches.map((batch) => batch.deadline)) - Date.now());
        const receipts = await Promise.all(
          batches.map((batch) => withTimeout(this.#receipt(batch.hash), wait, "receipt").catch(() => null)),
        );
        const now = Date.now();
        batches.forEach((batch, index) => {
          const receipt = receipts[index];
          if (receipt !== null && receipt !== undefined) {
            this.#settle(batch, this.#outcomes(batch, receipt));
          } else if (now >= batch.deadline) {
            // Lost or late: the next send reads the nonce and the fees again.
            this.#nonce = undefined;
            this.#parameters = undefined;
            const reason = `no receipt for ${batch.hash} within ${this.#timeoutMs} ms`;
            this.#settle(
              batch,
              batch.items.map(() => ({ status: "unavailable", posted: "unknown", reason })),
            );
          }
        });
        if (this.#inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, this.#pollMs));
      }
    } finally {
      this.#watching = false;
    }
  }

  #settle(batch: Batch, outcomes: readonly LedgerOutcome[]): void {
    this.#inFlight.delete(batch.hash);
    for (const key of batch.keys) this.#busy.delete(key);
    batch.items.forEach((item, index) => item.resolve(outcomes[index]!));
    this.#schedulePump();
    this.#notify();
  }

  #outcomes(batch: Batch, receipt: ReceiptView): LedgerOutcome[] {
    if (receipt.status !== 1) {
      return batch.items.map(() => ({ status: "unavailable", posted: "no", reason: `batch ${receipt.hash} reverted` }));
    }
    const rejected = new Map<string, { error: string; args: readonly unknown[] }>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== this.#ledgerAddress.toLowerCase()) continue;
      let parsed;
      try {
        parsed = this.#interface.parseLog({ topics: [...log.topics], data: log.data });
      } catch {
        continue;
      }
      if (parsed?.name !== "OperationRejected") continue;
      const key = String(parsed.args[0]).toLowerCase();
      const reason = String(parsed.args[1]);
      if (reason === "0x") {
        // No reason: the operation ran out of gas inside the batch. Not applied; may be sent again.
        rejected.set(key, { error: "", args: [] });
        continue;
      }
      const revert = revertOf({ data: reason }, this.#interface);
      rejected.set(
        key,
        revert === undefined || revert.name === ""
          ? { error: `revert ${reason}`, args: [] }
          : { error: revert.name, args: [...revert.args] },
      );
    }
    return batch.items.map(({ operation: op }): LedgerOutcome => {
      const refusal = rejected.get(op.key.toLowerCase());
      if (refusal === undefined) return { status: "applied", transactionHash: receipt.hash };
      // An earlier send of the same operation already applied this key. Not for a void: there a used key
      // means the operation it was meant to stop landed first.
      if (refusal.error === "KeyUsed" && op.kind !== "void") {
        return { status: "applied", transactionHash: receipt.hash };
      }
      if (refusal.error === "") return { status: "unavailable", posted: "no", reason: "out of gas in the batch" };
      return { status: "rejected", ...refusal };
    });
  }

  /** The receipt of `hash`, or null while it is not mined; asked afresh every time (no provider cache). */
  async #receipt(hash: string): Promise<ReceiptView | null> {
    const raw = rawRpc(this.#provider);
    if (raw !== undefined) {
      const receipt = (await raw.send("eth_getTransactionReceipt", [hash])) as {
        transactionHash: string;
        status: string;
        logs: { address: string; topics: string[]; data: string }[];
      } | null;
      if (receipt === null) return null;
      return { hash: receipt.transactionHash, status: Number(receipt.status), logs: receipt.logs };
    }
    const receipt = await this.#provider.getTransactionReceipt(hash);
    if (receipt === null) return null;
    return { hash: receipt.hash, status: receipt.status ?? 0, logs: receipt.logs };
  }

  async #pendingNonce(): Promise<number> {
    const address = await this.#signer.getAddress();
    const raw = rawRpc(this.#provider);
    const count =
      raw === undefined
        ? await this.#provider.getTransactionCount(address, "pending")
        : Number(await raw.send("eth_getTransactionCount", [address, "pending"]));
    return count;
  }

  /** Chain id and fee data: read once, then refreshed in the background when older than `FEE_TTL_MS`. */
  async #chainParameters(): Promise<ChainParameters> {
    const cached = this.#parameters;
    if (cached !== undefined) {
      if (Date.now() - cached.readAt >= FEE_TTL_MS && this.#refreshing === undefined) {
        this.#refreshing = this.#readParameters()
          .then((fresh) => void (this.#parameters = fresh))
          .catch(() => undefined) // the old figures stay until a read succeeds
          .finally(() => (this.#refreshing = undefined));
      }
      return cached;
    }
    this.#parameters = await this.#readParameters();
    return this.#parameters;
  }

  async #readParameters(): Promise<ChainParameters> {
    const [network, fees] = await Promise.all([
      withTimeout(this.#provider.getNetwork(), this.#timeoutMs, "getNetwork"),
      withTimeout(this.#provider.getFeeData(), this.#timeoutMs, "getFeeData"),
    ]);
    const readAt = Date.now();
    if (fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null) {
      return {
        chainId: network.chainId,
        fees: { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas },
        readAt,
      };
    }
    if (fees.gasPrice === null) throw new Error("the node gave no fee data");
    return { chainId: network.chainId, fees: { type: 0, gasPrice: fees.gasPrice }, readAt };
  }
}

function rawRpc(provider: Provider): RawRpc | undefined {
  const candidate = provider as Provider & Partial<RawRpc>;
  return typeof candidate.send === "function" ? (candidate as RawRpc) : undefined;
}

/** The node refused the transaction for its nonce (already used, or taken by a pending one): it is in no block. */
function isNonceRefusal(error: unknown): boolean {
  return hasCode(error, "NONCE_EXPIRED") || hasCode(error, "REPLACEMENT_UNDERPRICED");
}

/**
 * The transaction certainly never reached a block: the node refused the
 * connection, or refused the transaction itself (ethers' `CALL_EXCEPTION` from
 * the gas estimate, a nonce already used or taken, funds short of the gas).
 * Decided from the errors' codes along the `cause` chain, never from message text.
 */
function isRefusedBeforeSending(error: unknown): boolean {
  return (
    hasCode(error, "ECONNREFUSED") ||
    hasCode(error, "CALL_EXCEPTION") ||
    hasCode(error, "INSUFFICIENT_FUNDS") ||
    isNonceRefusal(error)
  );
}

export class TimeoutError extends Error {}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
