/**
 * Posts the gateway's operations to the AccountLedger in batches: the
 * operations waiting while one transaction is under way go out together in
 * the next `execute(ops)`, each with its own outcome (the contract runs each
 * one on its own and reports a refused one by `OperationRejected` without
 * undoing the rest). One transaction is in flight at a time, so the signer's
 * nonces never race.
 *
 * Outcomes:
 * - `applied`: the operation is on the ledger (also when its key was already
 *   used, i.e. an earlier attempt of the same message landed);
 * - `rejected`: the ledger refused it (custom error name and arguments); nothing changed;
 * - `unavailable`: no verdict in time. `posted` says whether it may have
 *   landed (`unknown`) or certainly did not (`no`: the transaction reverted as
 *   a whole, or was never sent).
 */
import { ZeroHash, type ContractRunner, type Interface, type Provider, type Signer } from "ethers";

import { messageOf } from "../errors.js";
import { waitForReceipt } from "../chain/receipts.js";
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
  /** For reads (`isKeyUsed`); defaults to the signer's provider. */
  readonly provider?: Provider;
  /** Operations per transaction (default 100). */
  readonly maxBatch?: number;
  /** How long one transaction may take from send to receipt before its operations are `unavailable` (default 5 s). */
  readonly timeoutMs?: number;
}

/** Gas of one batch: a base plus a bound per operation (a hold or debit uses about 60k through the self-call). */
const GAS_BASE = 80_000n;
const GAS_PER_OPERATION = 150_000n;

interface Pending {
  readonly operation: LedgerOperation;
  readonly resolve: (outcome: LedgerOutcome) => void;
}

export class LedgerPoster {
  readonly #ledger: AccountLedger;
  readonly #reader: AccountLedger;
  readonly #interface: Interface;
  readonly #maxBatch: number;
  readonly #timeoutMs: number;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;

  constructor(options: LedgerPosterOptions) {
    this.#ledger = AccountLedger__factory.connect(options.ledger, options.signer);
    const reader: ContractRunner | null = options.provider ?? options.signer.provider;
    this.#reader = AccountLedger__factory.connect(options.ledger, reader);
    this.#interface = AccountLedger__factory.createInterface();
    this.#maxBatch = options.maxBatch ?? 100;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Queues `operation` for the next batch; resolves with its outcome, never rejects. */
  post(operation: LedgerOperation): Promise<LedgerOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ operation, resolve });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#running !== undefined) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      // An operation queued after the drain loop ended but before this ran.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  /** Whether the ledger has used `key`; throws when the chain cannot be read. */
  async isKeyUsed(key: string): Promise<boolean> {
    return withTimeout(this.#reader.isKeyUsed(key), this.#timeoutMs, "isKeyUsed");
  }

  /** Resolves once every queued operation has its outcome. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const outcomes = await this.#send(batch.map((item) => item.operation));
      batch.forEach((item, index) => item.resolve(outcomes[index]!));
    }
  }

  async #send(operations: readonly LedgerOperation[]): Promise<LedgerOutcome[]> {
    const ops = operations.map((op) => ({
      kind: OPERATION_KIND[op.kind],
      key: op.key,
      wallet: op.wallet,
      ref: op.ref === "" ? ZeroHash : op.ref,
      amount: op.amount,
    }));
    let hash: string | undefined;
    try {
      const gasLimit = GAS_BASE + GAS_PER_OPERATION * BigInt(ops.length);
      const sent = await withTimeout(this.#ledger.execute(ops, { gasLimit }), this.#timeoutMs, "send");
      hash = sent.hash;
      const receipt = await waitForReceipt(sent.provider, sent.hash, { timeoutMs: this.#timeoutMs });
      if (receipt.status !== 1) {
        return operations.map(() => ({
          status: "unavailable",
          posted: "no",
          reason: `batch ${receipt.hash} reverted`,
        }));
      }
      const rejected = new Map<string, { error: string; args: readonly unknown[] }>();
      for (const log of receipt.logs) {
        let parsed;
        try {
          parsed = this.#interface.parseLog(log);
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
      return operations.map((op): LedgerOutcome => {
        const refusal = rejected.get(op.key.toLowerCase());
        if (refusal === undefined) return { status: "applied", transactionHash: receipt.hash };
        // An earlier attempt of the same message already applied this key.
        if (refusal.error === "KeyUsed") return { status: "applied", transactionHash: receipt.hash };
        if (refusal.error === "") return { status: "unavailable", posted: "no", reason: "out of gas in the batch" };
        return { status: "rejected", ...refusal };
      });
    } catch (error) {
      const posted = hash === undefined && isRefusedBeforeSending(error) ? "no" : "unknown";
      return operations.map(() => ({ status: "unavailable", posted, reason: messageOf(error) }));
    }
  }
}

/**
 * The transaction certainly never reached a block: the node refused the
 * connection, or refused the call itself (ethers' `CALL_EXCEPTION` from the gas
 * estimate). Decided from the errors' codes along the `cause` chain, never
 * from message text.
 */
function isRefusedBeforeSending(error: unknown): boolean {
  return hasCode(error, "ECONNREFUSED") || hasCode(error, "CALL_EXCEPTION");
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
