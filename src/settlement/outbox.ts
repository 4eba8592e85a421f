/**
 * A bank agent's outbox sender: sends the on-chain steps the agent owes
 * (outbox rows written by `bookings.ts` in the transaction that made them due),
 * waits for their receipts, and decides what a row that may already have
 * landed, or whose send failed, means now: send it, it landed, wait, or never
 * (a verdict from the settlement's record on chain).
 *
 * A row is never marked done here: it is done when the step's event is
 * confirmed and applied (`PaymentStore.doneByStep`). Here it is sent, marked
 * landed (looked at again later in case a reorg dropped it), retried later, or
 * voided; a refused `initiate` fails its payment and re-credits the customer.
 */
import type { Provider, Signer } from "ethers";

import { loggerOf, type Logger } from "../chain/log.js";
import { waitForReceipt } from "../chain/receipts.js";
import { messageOf } from "../errors.js";
import type { IInterbankSettlement } from "../../typechain-types/index.js";
import type { OutboxRow, OutboxStep, PaymentRecord, PaymentStore } from "./payments.js";
import { paymentRevertOf } from "./reverts.js";
import {
  fiatRefOf,
  reasonCodeOf,
  settlementStateName,
  termsDigest,
  termsTuple,
  type RejectReason,
  type SettlementState,
} from "./terms.js";

/** Pause before a row that failed, or must wait, is tried again. */
export const RETRY_DELAY_MS = 1_000;
/** How long a step that landed waits for its event to be confirmed before the chain is asked again. */
const LANDED_RECHECK_MS = 5_000;
/** How long a sent transaction may take to be mined before the round gives up on it (the row is checked again). */
const RECEIPT_TIMEOUT_MS = 120_000;

/** What sending a step can find on chain: do it, it is done, not yet, or never. */
export type Verdict =
  | { readonly kind: "send" }
  | { readonly kind: "landed" }
  | { readonly kind: "wait"; readonly why: string }
  | { readonly kind: "void"; readonly why: string };

/** The states in which each step has landed, and the state it needs to be sent. */
const STEP_STATES: Record<OutboxStep, { readonly landed: readonly SettlementState[]; readonly from: SettlementState }> =
  {
    initiate: { landed: [], from: "None" },
    smelt: { landed: ["Smelted", "Acknowledged"], from: "Delivered" },
    reject: { landed: ["Rejected", "Returned"], from: "Delivered" },
    acknowledge: { landed: ["Acknowledged"], from: "Smelted" },
    return: { landed: ["Returned"], from: "Rejected" },
    refund: { landed: ["Refunded"], from: "Expired" },
  };

/**
 * The verdict on sending `step` for a payment, from the settlement's record on
 * chain: whether its terms digest is this payment's (`mine`) and its state
 * (`stateOf`, which shows a passed deadline as `Expired`).
 */
export function verdictOf(
  step: OutboxStep,
  chain: { readonly mine: boolean; readonly state: SettlementState },
): Verdict {
  const { mine, state } = chain;
  if (step === "initiate") {
    if (mine) return { kind: "landed" };
    if (state === "None") return { kind: "send" };
    return { kind: "void", why: "the id is used on chain by another payment" };
  }
  if (!mine) return { kind: "void", why: "the settlement record on chain has other terms" };
  const { landed, from } = STEP_STATES[step];
  if (landed.includes(state)) return { kind: "landed" };
  if (state === from) return { kind: "send" };
  if (step === "refund" && state === "Delivered") return { kind: "wait", why: "not expired yet in chain time" };
  return { kind: "void", why: `the settlement is ${state}, not ${from}` };
}

export interface OutboxSenderOptions {
  readonly payments: PaymentStore;
  readonly provider: Provider;
  /** The agent's key. */
  readonly signer: Signer;
  /** The settlement contract, connected to `signer`. */
  readonly settlement: IInterbankSettlement;
  /** Most acknowledgements sent in one `acknowledgeBatch`. */
  readonly ackBatchSize: number;
  /** Most outbox rows one call of `sendPending` handles. */
  readonly rowsPerRound: number;
  /** Pause between two questions for a receipt (at most 100 ms is used). */
  readonly pollIntervalMs: number;
  /** Whether the agent is stopping: no new row is sent then. */
  readonly stopping: () => boolean;
  /** Told of `<step>:sending` and `<step>:landed` (see `BankAgentOptions.onStep`). */
  readonly step: (point: string, paymentId: string) => void;
  /** Gives up a payment whose `initiate` the chain refused: re-credits the customer. */
  readonly fail: (row: OutboxRow, payment: PaymentRecord, reason: string) => void;
  /** Asks the agent's loop for another round soon (a step landed). */
  readonly wake: () => void;
  readonly log: (line: string) => void;
}

export class OutboxSender {
  readonly #payments: PaymentStore;
  readonly #provider: Provider;
  readonly #signer: Signer;
  readonly #settlement: IInterbankSettlement;
  readonly #ackBatch: number;
  readonly #rowsPerRound: number;
  readonly #pollMs: number;
  readonly #stopping: () => boolean;
  readonly #step: (point: string, paymentId: string) => void;
  readonly #fail: (row: OutboxRow, payment: PaymentRecord, reason: string) => void;
  readonly #wake: () => void;
  /** Lines about a payment carry its id as `paymentId` (a plain `log` gets the text alone). */
  readonly #logger: Logger;
  /** Outbox rows up to this id existed before this run: check the chain before sending them. */
  #rowsBeforeStart = 0;

  constructor(options: OutboxSenderOptions) {
    this.#payments = options.payments;
    this.#provider = options.provider;
    this.#signer = options.signer;
    this.#settlement = options.settlement;
    this.#ackBatch = options.ackBatchSize;
    this.#rowsPerRound = options.rowsPerRound;
    this.#pollMs = options.pollIntervalMs;
    this.#stopping = options.stopping;
    this.#step = options.step;
    this.#fail = options.fail;
    this.#wake = options.wake;
    this.#logger = loggerOf(options.log);
  }

  /** One line about `paymentId`, with the id as a field. */
  #logAbout(paymentId: string, line: string, level: "info" | "warn" = "info"): void {
    this.#logger.child({ paymentId })[level](line);
  }

  /** Notes the rows that exist now as from before this run: each is checked on chain before it is sent. */
  start(): void {
    this.#rowsBeforeStart = this.#payments.lastRowId();
  }

  /**
   * Sends what is owed now, oldest first (acknowledgements in batches), and
   * waits for every receipt; returns how many transactions it sent.
   */
  async sendPending(): Promise<number> {
    const rows = this.#payments.pending(this.#rowsPerRound);
    let sent = 0;
    const acks: Array<{ row: OutboxRow; payment: PaymentRecord }> = [];
    const waits: Array<Promise<void>> = [];
    // Caught at once: a receipt's failure must not go unhandled while later rows are sent.
    const failures: unknown[] = [];
    const wait = (handled: Promise<void>) => waits.push(handled.catch((error: unknown) => void failures.push(error)));
    for (const row of rows) {
      if (this.#stopping()) break;
      const payment = this.#payments.get(row.direction, row.paymentId);
      if (payment === undefined) {
        this.#payments.void(row.rowId, "no such payment");
        continue;
      }
      if (this.#mustCheck(row)) {
        const verdict = await this.#verdict(row.step, payment);
        if (!this.#settleVerdict(row, payment, verdict)) continue;
      }
      if (row.step === "acknowledge") {
        acks.push({ row, payment });
        continue;
      }
      const sending = await this.#send([{ row, payment }]);
      if (sending !== undefined) {
        wait(sending.handled);
        sent += 1;
      }
    }
    for (let i = 0; i < acks.length && !this.#stopping(); i += this.#ackBatch) {
      const sending = await this.#send(acks.slice(i, i + this.#ackBatch));
      if (sending !== undefined) {
        wait(sending.handled);
        sent += 1;
      }
    }
    await Promise.all(waits);
    if (failures.length > 0) throw failures[0];
    return sent;
  }

  /** Rows from before this run, or that failed once, may have landed already: look before sending. */
  #mustCheck(row: OutboxRow): boolean {
    return row.rowId <= this.#rowsBeforeStart || row.attempts > 0 || row.txHash !== null;
  }

  /** Acts on a verdict; true if the row should be sent now. */
  #settleVerdict(row: OutboxRow, payment: PaymentRecord, verdict: Verdict): boolean {
    switch (verdict.kind) {
      case "send":
        return true;
      case "landed":
        // Done once its event is confirmed and applied; until then look again now and then (a reorg may drop it).
        this.#payments.landed(row.rowId, null, LANDED_RECHECK_MS);
        this.#logAbout(payment.id, `${row.step} ${payment.id} has landed; not resent`);
        return false;
      case "wait":
        this.#payments.retryLater(row.rowId, verdict.why, RETRY_DELAY_MS);
        return false;
      case "void":
        if (row.step === "initiate") this.#fail(row, payment, verdict.why);
        else {
          this.#payments.void(row.rowId, verdict.why);
          this.#logAbout(payment.id, `${row.step} ${payment.id} will not be sent: ${verdict.why}`);
        }
        return false;
    }
  }

  /** What the chain says about sending `step` for `payment` now. */
  async #verdict(step: OutboxStep, payment: PaymentRecord): Promise<Verdict> {
    // `stateOf` rather than the stored state: it shows a passed deadline as `Expired`.
    const [record, state] = await Promise.all([
      this.#settlement.settlement(payment.terms.debtorBank, payment.terms.id),
      this.#settlement.stateOf(payment.terms.debtorBank, payment.terms.id),
    ]);
    const mine = record.termsDigest.toLowerCase() === termsDigest(payment.terms);
    return verdictOf(step, { mine, state: settlementStateName(state) });
  }

  /**
   * Sends one step (or one batch of acknowledgements); once it is sent, returns
   * `handled`, which settles when its receipt is handled (wrapped: an async
   * function returning the promise itself would wait for it). Undefined if
   * nothing was sent.
   */
  async #send(
    items: ReadonlyArray<{ row: OutboxRow; payment: PaymentRecord }>,
  ): Promise<{ readonly handled: Promise<void> } | undefined> {
    const first = items[0]!;
    const step = first.row.step;
    for (const { payment } of items) this.#step(`${step}:sending`, payment.id);
    let hash: string;
    try {
      const tx = await this.#call(
        step,
        items.map((item) => item.payment),
      );
      hash = tx.hash;
    } catch (error) {
      await this.#sendFailed(items, error);
      return undefined;
    }
    for (const { row } of items) this.#payments.sent(row.rowId, hash);
    const handled = this.#awaitReceipt(hash).then(
      async (status) => {
        if (status === 1) {
          for (const { row, payment } of items) {
            this.#step(`${step}:landed`, payment.id);
            this.#payments.landed(row.rowId, hash, LANDED_RECHECK_MS);
          }
          this.#wake();
          return;
        }
        await this.#sendFailed(items, new Error(`transaction ${hash} reverted`));
      },
      async (error: unknown) => {
        await this.#sendFailed(items, error);
      },
    );
    return { handled };
  }

  /**
   * Sends one step. The gas limit is the estimate plus a margin: the estimate is exact for the state it
   * ran on, and a payment mined a moment later can cost more (the settlement's token balance going from
   * zero to non-zero, a corridor window rolling over); unused gas is refunded, so the margin costs nothing.
   */
  async #call(step: OutboxStep, payments: readonly PaymentRecord[]): Promise<{ hash: string }> {
    const to = await this.#settlement.getAddress();
    const data = this.#calldata(step, payments);
    const estimate = await this.#signer.estimateGas({ to, data });
    return this.#signer.sendTransaction({ to, data, gasLimit: estimate + estimate / 4n + 20_000n });
  }

  #calldata(step: OutboxStep, payments: readonly PaymentRecord[]): string {
    const iface = this.#settlement.interface;
    const payment = payments[0]!;
    const terms = termsTuple(payment.terms);
    switch (step) {
      case "initiate":
        return iface.encodeFunctionData("initiate", [terms]);
      case "smelt":
        return iface.encodeFunctionData("smelt", [terms, fiatRefOf("credit", payment.terms.id)]);
      case "reject":
        return iface.encodeFunctionData("reject", [terms, reasonCodeOf((payment.reason ?? "AC01") as RejectReason)]);
      case "acknowledge":
        return payments.length === 1
          ? iface.encodeFunctionData("acknowledge", [terms])
          : iface.encodeFunctionData("acknowledgeBatch", [payments.map((p) => termsTuple(p.terms))]);
      case "return":
        return iface.encodeFunctionData("returnRejected", [terms, fiatRefOf("return", payment.terms.id)]);
      case "refund":
        return iface.encodeFunctionData("refundExpired", [terms, fiatRefOf("refund", payment.terms.id)]);
    }
  }

  async #awaitReceipt(hash: string): Promise<number> {
    const receipt = await waitForReceipt(this.#provider, hash, {
      timeoutMs: RECEIPT_TIMEOUT_MS,
      pollMs: Math.min(this.#pollMs, 100),
    });
    return receipt.status ?? 0;
  }

  /** A send failed (or reverted): ask the chain what that means for each row. */
  async #sendFailed(items: ReadonlyArray<{ row: OutboxRow; payment: PaymentRecord }>, error: unknown): Promise<void> {
    const revert = paymentRevertOf(error);
    const reason = revert === undefined ? messageOf(error) : revert.errorName || "reverted";
    for (const { row, payment } of items) {
      let verdict: Verdict;
      try {
        verdict = await this.#verdict(row.step, payment);
      } catch (readError) {
        this.#payments.retryLater(row.rowId, `${reason}; state unreadable: ${messageOf(readError)}`, RETRY_DELAY_MS);
        continue;
      }
      if (verdict.kind === "send") {
        // The chain would take the step, so the failure was ours or the network's, or (for initiate) a
        // refusal by the corridor, the token or the reserve ledger.
        if (row.step === "initiate" && revert !== undefined) {
          await this.#failOutboundWhenSafe(row, payment, reason);
          continue;
        }
        if (items.length > 1) {
          // One bad member fails a whole batch; the next round checks each row again.
          this.#payments.retryLater(row.rowId, reason, 0);
          continue;
        }
        this.#payments.retryLater(row.rowId, reason, RETRY_DELAY_MS);
        this.#logAbout(payment.id, `${row.step} ${payment.id} failed, will retry: ${reason}`, "warn");
        continue;
      }
      if (verdict.kind === "void" && row.step === "initiate") {
        await this.#failOutboundWhenSafe(row, payment, verdict.why);
        continue;
      }
      this.#settleVerdict(row, payment, verdict);
    }
  }

  /**
   * Gives up an initiate the chain refused, unless a transaction of this agent
   * is still pending (it could be that initiate, landing later).
   */
  async #failOutboundWhenSafe(row: OutboxRow, payment: PaymentRecord, reason: string): Promise<void> {
    const address = await this.#signer.getAddress();
    const [latest, pending] = await Promise.all([
      this.#provider.getTransactionCount(address, "latest"),
      this.#provider.getTransactionCount(address, "pending"),
    ]);
    if (pending > latest) {
      this.#payments.retryLater(row.rowId, `${reason}; a transaction of the agent is still pending`, RETRY_DELAY_MS);
      return;
    }
    this.#fail(row, payment, reason);
  }
}
