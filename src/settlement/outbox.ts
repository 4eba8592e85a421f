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

import { systemClock, type Clock } from "../chain/clock.js";
import { loggerOf, type Logger } from "../chain/log.js";
import { TxQueue, type QueuedTx } from "../chain/tx-queue.js";
import { messageOf } from "../errors.js";
import { IInterbankSettlement__factory, type IInterbankSettlement } from "../../typechain-types/index.js";
import type { OutboxRow, OutboxStep, PaymentRecord, PaymentStore } from "./payments.js";
import { paymentRevertOf } from "./reverts.js";
import {
  batchCalldata,
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
/** How long a sent transaction may take to be mined before it is looked at again (the row is checked on chain). */
const RECEIPT_TIMEOUT_MS = 120_000;
/** How much longer than the receipt's deadline a sent row is held back from later rounds. */
const HOLD_MARGIN_MS = 5_000;
/** How long a step's gas per payment, learnt from an estimate, is reused for batches at least as big. */
export const GAS_LIMIT_TTL_MS = 60_000;

/** The selectors of the functions whose calldata is encoded by hand (`terms.ts`), worked out once. */
export const SELECTORS = (() => {
  const iface = IInterbankSettlement__factory.createInterface();
  return {
    initiate: iface.getFunction("initiate").selector,
    initiateBatch: iface.getFunction("initiateBatch").selector,
    smeltBatch: iface.getFunction("smeltBatch").selector,
    acknowledgeBatch: iface.getFunction("acknowledgeBatch").selector,
  };
})();

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
  /**
   * Most first attempts of `initiate` (or of `smelt`) sent in one `initiateBatch` (`smeltBatch`); 1 sends each
   * alone. A row sent again after a failure always goes alone, so one bad payment cannot fail a batch twice.
   */
  readonly stepBatchSize?: number;
  /** Most outbox rows one call of `sendPending` handles. */
  readonly rowsPerRound: number;
  /** Pause between two rounds of receipt questions (at most 100 ms is used). */
  readonly pollIntervalMs: number;
  /** How long a transaction may stay unmined before it is looked at as dropped or overdue (default 120 s). */
  readonly receiptTimeoutMs?: number;
  /** Whether the agent is stopping: no new row is sent then. */
  readonly stopping: () => boolean;
  /** The time a learnt gas figure is kept by (default the system clock). */
  readonly clock?: Clock;
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
  readonly #stepBatch: number;
  readonly #rowsPerRound: number;
  readonly #pollMs: number;
  readonly #stopping: () => boolean;
  readonly #clock: Clock;
  readonly #step: (point: string, paymentId: string) => void;
  readonly #fail: (row: OutboxRow, payment: PaymentRecord, reason: string) => void;
  readonly #wake: () => void;
  /** Lines about a payment carry its id as `paymentId` (a plain `log` gets the text alone). */
  readonly #logger: Logger;
  /** Outbox rows up to this id existed before this run: check the chain before sending them. */
  #rowsBeforeStart = 0;
  /** The agent's transactions, nonces counted here, sent without waiting for the ones before to be mined. */
  readonly #queue: TxQueue;
  /** Gas limits by step and batch size, from an estimate; a row sent again is estimated afresh. */
  /** Per step: the most gas a payment needed in an estimate, the smallest batch that estimate was of, until when. */
  readonly #gasPerPayment = new Map<
    OutboxStep,
    { readonly perPayment: bigint; readonly fromCount: number; readonly until: number }
  >();
  readonly #receiptTimeoutMs: number;
  /** Receipt handlers under way. */
  readonly #handling = new Set<Promise<void>>();

  constructor(options: OutboxSenderOptions) {
    this.#payments = options.payments;
    this.#provider = options.provider;
    this.#signer = options.signer;
    this.#settlement = options.settlement;
    this.#ackBatch = options.ackBatchSize;
    this.#stepBatch = options.stepBatchSize ?? 1;
    this.#rowsPerRound = options.rowsPerRound;
    this.#pollMs = options.pollIntervalMs;
    this.#stopping = options.stopping;
    this.#clock = options.clock ?? systemClock;
    this.#step = options.step;
    this.#fail = options.fail;
    this.#wake = options.wake;
    this.#logger = loggerOf(options.log);
    this.#receiptTimeoutMs = options.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS;
    this.#queue = new TxQueue({
      provider: options.provider,
      signer: options.signer,
      receiptPollMs: Math.min(options.pollIntervalMs, 100),
      receiptTimeoutMs: this.#receiptTimeoutMs,
    });
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
   * Sends what is owed now, oldest first (acknowledgements in batches), and returns how many transactions it
   * sent, once the node holds them: their receipts are handled in the background (`drain` waits for them). A
   * row stays out of later rounds until its receipt is handled.
   */
  async sendPending(): Promise<number> {
    const rows = this.#payments.pendingWithPayments(this.#rowsPerRound);
    let sent = 0;
    type Item = { row: OutboxRow; payment: PaymentRecord };
    const batches: Record<"smelt" | "acknowledge" | "initiate", Item[]> = { smelt: [], acknowledge: [], initiate: [] };
    // The payments came with their rows; once this round has waited on the node, receipts handled meanwhile may
    // have moved them, so from then on each is read again.
    let waited = false;
    for (const { row, payment: first } of rows) {
      if (this.#stopping()) break;
      const payment = waited ? this.#payments.get(row.direction, row.paymentId) : first;
      if (payment === undefined) {
        this.#payments.void(row.rowId, "no such payment");
        continue;
      }
      if (this.#mustCheck(row)) {
        waited = true;
        if (row.txHash !== null && (await this.#stillPending(row.txHash))) {
          // Its last transaction is still waiting on the node: another would only race it (on the next nonce).
          this.#payments.recheck(row.rowId, this.#receiptTimeoutMs);
          continue;
        }
        const verdict = await this.#verdict(row.step, payment);
        if (!this.#settleVerdict(row, payment, verdict)) continue;
      }
      if (row.step === "acknowledge" || ((row.step === "initiate" || row.step === "smelt") && row.attempts === 0)) {
        batches[row.step].push({ row, payment });
        continue;
      }
      waited = true;
      if (await this.#send([{ row, payment }])) sent += 1;
    }
    // Acknowledgements last, the biggest batches: they come in from every round's events.
    for (const step of ["smelt", "initiate", "acknowledge"] as const) {
      const items = batches[step];
      const size = step === "acknowledge" ? this.#ackBatch : this.#stepBatch;
      for (let i = 0; i < items.length && !this.#stopping(); i += size) {
        if (await this.#send(items.slice(i, i + size))) sent += 1;
      }
    }
    return sent;
  }

  /** Waits until the receipts of every transaction sent so far are handled. */
  async settled(): Promise<void> {
    while (this.#handling.size > 0) await Promise.all([...this.#handling]);
  }

  /** Waits (at most `timeoutMs`) for the receipts under way, then stops watching the rest (looked at on restart). */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.#handling]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#queue.close();
    await Promise.all([...this.#handling]);
  }

  /** Whether the node still holds `hash` unmined (a slow chain, or one waiting behind a lower nonce). */
  async #stillPending(hash: string): Promise<boolean> {
    const [tx, receipt] = await Promise.all([
      this.#provider.getTransaction(hash),
      this.#provider.getTransactionReceipt(hash),
    ]);
    return tx !== null && receipt === null;
  }

  /** Rows from before this run, or that failed once, may have landed already: look before sending. */
  #mustCheck(row: OutboxRow): boolean {
    return row.rowId <= this.#rowsBeforeStart || row.attempts > 0 || row.txHash !== null;
  }

  /**
   * Whether a transaction for the row may have reached a node: one was about to be handed over (its nonce is kept
   * first) or was (its hash is kept), or the row is from before this run and keeps no nonce (an agent before
   * migration 5 kept none, and could crash between handing one over and keeping its hash). A send refused at its
   * estimate reached none.
   */
  #mayHaveBeenSent(row: OutboxRow): boolean {
    return row.txNonce !== null || row.txHash !== null || row.rowId <= this.#rowsBeforeStart;
  }

  /** Acts on a verdict; true if the row should be sent now. */
  #settleVerdict(row: OutboxRow, payment: PaymentRecord, verdict: Verdict): boolean {
    switch (verdict.kind) {
      case "send":
        return true;
      case "landed":
        // Done once its event is confirmed and applied; until then look again now and then (a reorg may drop it).
        this.#payments.landed([row.rowId], null, LANDED_RECHECK_MS);
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
   * Sends one step (or one batch of acknowledgements) and returns whether the node took it; its receipt is
   * then handled in the background. The row is held back from later rounds until that handler has run.
   */
  async #send(items: ReadonlyArray<{ row: OutboxRow; payment: PaymentRecord }>): Promise<boolean> {
    const first = items[0]!;
    const step = first.row.step;
    for (const { payment } of items) this.#step(`${step}:sending`, payment.id);
    const fresh = items.every(({ row }) => row.attempts === 0);
    const rowIds = items.map(({ row }) => row.rowId);
    let nonce: number | undefined;
    /** The rows as stored now: with the nonce kept before the handover, and the hash once the node answered. */
    const stored = (hash: string | null) =>
      nonce === undefined
        ? items
        : items.map(({ row, payment }) => ({
            row: {
              ...row,
              attempts: row.attempts + (hash === null ? 0 : 1),
              txHash: hash ?? row.txHash,
              txNonce: Math.max(row.txNonce ?? 0, nonce!),
            },
            payment,
          }));
    let sent: QueuedTx;
    try {
      const to = await this.#settlement.getAddress();
      const data = this.#calldata(
        step,
        items.map((item) => item.payment),
      );
      const gasLimit = await this.#gasLimit(step, items.length, to, data, fresh);
      // The nonce is kept before the node gets the transaction: should its answer be lost, or the agent crash right
      // after, the row still knows which nonce must be used up before it may be given up.
      sent = await this.#queue.send({ to, data, gasLimit }, (next) => {
        this.#payments.sending(rowIds, next);
        nonce = next;
      });
    } catch (error) {
      await this.#sendFailed(stored(null), error);
      return false;
    }
    // Held past the receipt's deadline, so the queue's verdict on it (mined, dropped, overdue) always comes first.
    this.#payments.sent(rowIds, sent.hash, this.#receiptTimeoutMs + HOLD_MARGIN_MS);
    const after = stored(sent.hash);
    const handled: Promise<void> = sent.mined
      .then(
        async (receipt) => {
          if (receipt.status === 1) {
            this.#payments.landed(rowIds, sent.hash, LANDED_RECHECK_MS);
            for (const { payment } of items) this.#step(`${step}:landed`, payment.id);
            this.#wake();
            return;
          }
          this.#gasPerPayment.delete(step);
          await this.#sendFailed(after, new Error(`transaction ${sent.hash} reverted`));
        },
        async (error: unknown) => {
          await this.#sendFailed(after, error);
        },
      )
      .catch((error: unknown) => {
        // Handling the outcome failed: each row is due again after the retry delay (and checked on chain then).
        this.#logger.warn(`${step} ${sent.hash}: its outcome could not be handled: ${messageOf(error)}`);
        for (const { row } of items) {
          try {
            this.#payments.recheck(row.rowId, RETRY_DELAY_MS);
          } catch {
            // The store itself fails: the row's hold ends by itself, then it is checked on chain.
          }
        }
      })
      .finally(() => this.#handling.delete(handled));
    this.#handling.add(handled);
    return true;
  }

  /**
   * The gas limit of a step: an estimate plus a margin (the estimate is exact for the state it ran on, and a
   * payment mined a moment later can cost more: the settlement's token balance going from zero to non-zero, a
   * corridor window rolling over; unused gas is refunded, so the margin costs nothing). Each estimate, divided
   * by its batch's size, is the step's gas per payment for `GAS_LIMIT_TTL_MS`: rows sent for the first time in
   * a batch at least as big reuse it (a bigger batch spreads the transaction's fixed cost over more payments,
   * so it needs no more per payment), so the node runs no estimate per batch under load; a smaller batch, a
   * row sent again, or a step after a revert of its kind is estimated afresh.
   */
  async #gasLimit(step: OutboxStep, count: number, to: string, data: string, fresh: boolean): Promise<bigint> {
    const known = this.#gasPerPayment.get(step);
    const margin = (gas: bigint): bigint => gas + gas / 4n + 20_000n;
    const now = this.#clock.now();
    if (fresh && known !== undefined && known.until > now && count >= known.fromCount) {
      return margin(known.perPayment * BigInt(count));
    }
    const estimate = await this.#signer.estimateGas({ to, data });
    const perPayment = (estimate + BigInt(count) - 1n) / BigInt(count);
    const current = known !== undefined && known.until > now ? known : undefined;
    this.#gasPerPayment.set(step, {
      perPayment: current === undefined || perPayment > current.perPayment ? perPayment : current.perPayment,
      fromCount: current === undefined ? count : Math.min(count, current.fromCount),
      until: current?.until ?? now + GAS_LIMIT_TTL_MS,
    });
    return margin(estimate);
  }

  #calldata(step: OutboxStep, payments: readonly PaymentRecord[]): string {
    const iface = this.#settlement.interface;
    const payment = payments[0]!;
    const terms = termsTuple(payment.terms);
    switch (step) {
      case "initiate":
        return payments.length === 1
          ? iface.encodeFunctionData("initiate", [terms])
          : batchCalldata(
              SELECTORS.initiateBatch,
              payments.map((p) => p.terms),
            );
      case "smelt":
        return payments.length === 1
          ? iface.encodeFunctionData("smelt", [terms, fiatRefOf("credit", payment.terms.id)])
          : batchCalldata(
              SELECTORS.smeltBatch,
              payments.map((p) => p.terms),
              payments.map((p) => fiatRefOf("credit", p.terms.id)),
            );
      case "reject":
        return iface.encodeFunctionData("reject", [terms, reasonCodeOf((payment.reason ?? "AC01") as RejectReason)]);
      case "acknowledge":
        return payments.length === 1
          ? iface.encodeFunctionData("acknowledge", [terms])
          : batchCalldata(
              SELECTORS.acknowledgeBatch,
              payments.map((p) => p.terms),
            );
      case "return":
        return iface.encodeFunctionData("returnRejected", [terms, fiatRefOf("return", payment.terms.id)]);
      case "refund":
        return iface.encodeFunctionData("refundExpired", [terms, fiatRefOf("refund", payment.terms.id)]);
    }
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
        if (row.step === "initiate" && revert !== undefined && items.length === 1) {
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
   * Gives up an initiate the chain refused once no transaction sent for it can still land. A transaction the node
   * dropped stays valid while its nonce is free, and anyone who saw its bytes (another node's pool) can send it
   * again. Every nonce a row's transactions may have taken is kept before the transaction is handed over
   * (`txNonce`, the highest), so a row is given up only when the key's count on chain is above it and the chain,
   * asked after that count, shows no initiate. Until then the row waits while any transaction of the agent is
   * pending (it may be the row's own); with none pending, the agent uses the first free nonce up with a transfer of
   * nothing to itself, and again until the count passes the row's nonce. Neither waits for a block: the row is
   * looked at again in a later round, so one burn serves every row it covers and the outbox goes on meanwhile. A
   * row that may have been sent but keeps no nonce (from an agent before migration 5) takes the burn's.
   */
  async #failOutboundWhenSafe(row: OutboxRow, payment: PaymentRecord, reason: string): Promise<void> {
    const nonce = row.txNonce;
    let address: string;
    let latest: number;
    let pending: number;
    try {
      address = await this.#signer.getAddress();
      [latest, pending] = await Promise.all([
        this.#provider.getTransactionCount(address, "latest"),
        this.#provider.getTransactionCount(address, "pending"),
      ]);
      if (nonce !== null && latest > nonce) {
        // Every nonce the row's transactions took is used: none of them can land from now on. Asked again after the
        // count, in case one landed meanwhile.
        const verdict = await this.#verdict(row.step, payment);
        if (verdict.kind === "landed") this.#settleVerdict(row, payment, verdict);
        else this.#fail(row, payment, reason);
        return;
      }
    } catch (error) {
      this.#payments.retryLater(
        row.rowId,
        `${reason}; the chain could not be asked: ${messageOf(error)}`,
        RETRY_DELAY_MS,
      );
      return;
    }
    if (pending > latest) {
      // A transaction of the agent's is pending: it may be the row's own (a send whose answer was lost), or hold its
      // nonce, or be the burn of that nonce. Looked at again once it is mined.
      this.#payments.retryLater(row.rowId, `${reason}; a transaction of the agent is still pending`, RETRY_DELAY_MS);
      return;
    }
    if (!this.#mayHaveBeenSent(row)) {
      this.#fail(row, payment, reason);
      return;
    }
    try {
      // Numbered from the node's count: the first free nonce, which a dropped send may hold.
      this.#queue.resync();
      const burn = await this.#queue.send({ to: address, value: 0n, gasLimit: 21_000n }, (next) =>
        this.#payments.sending([row.rowId], next),
      );
      this.#payments.retryLater(
        row.rowId,
        `${reason}; nonce ${burn.nonce} being used up (${burn.hash})`,
        RETRY_DELAY_MS,
      );
      this.#logAbout(payment.id, `initiate ${payment.id} refused (${reason}); using up nonce ${burn.nonce} first`);
      // Not waited for: the row is looked at again after the delay. Not mined, the next look finds the nonce free.
      burn.mined.catch(() => undefined);
    } catch (error) {
      this.#payments.retryLater(row.rowId, `${reason}; its nonce not used up yet: ${messageOf(error)}`, RETRY_DELAY_MS);
    }
  }
}
