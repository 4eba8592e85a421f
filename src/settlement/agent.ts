/**
 * A bank's settlement agent: links the bank's core-banking ledger (SQLite) to
 * `InterbankSettlement`.
 *
 * As the debtor bank (A) it takes payment orders over HTTP, debits the
 * customer and credits the trust account in the same SQLite transaction that
 * records the payment, then initiates it on chain (A's trust account mints
 * into the settlement contract). As the creditor bank (B) it sees the payment
 * arrive, credits the beneficiary and smelts, or rejects. As A again it books
 * the acknowledgement, takes a rejected payment back, or refunds an expired one.
 *
 * Exactly once, across crashes:
 * - Chain-driven postings (`bookings.ts`) are made by a
 *   `ConfirmedEventFollower` in atomic mode: the posting, the payment's status
 *   and the follower's checkpoint commit together, and every posting has a
 *   unique key per (payment, step).
 * - Every transaction the agent owes is first written to an outbox row (in
 *   the transaction that made it due), then sent. A row that existed before a
 *   restart, or whose send failed, is checked against the settlement's record
 *   on chain (terms digest and state) before anything is resent; a step that
 *   already landed is not sent again. A row is done when the step's event is
 *   confirmed and applied. The contract refuses any step twice anyway, so a
 *   duplicate could only cost gas, never money.
 */
import { getAddress, type Provider, type Signer } from "ethers";

import { ChainReorgError, ConfirmedEventFollower } from "../chain/events.js";
import type { Service } from "../chain/service.js";
import { BankChainError, messageOf } from "../errors.js";
import { waitForReceipt } from "../chain/receipts.js";
import { Poller } from "../chain/poller.js";
import type { RetryPolicy } from "../chain/retry.js";
import type { JsonHttpServer } from "../chain/http.js";
import type { Store } from "../store/store.js";
import { IInterbankSettlement__factory, type IInterbankSettlement } from "../../typechain-types/index.js";
import {
  accountView,
  AgentUnavailableError,
  DuplicatePaymentError,
  PaymentRefusedError,
  paymentView,
  type AccountView,
  type PaymentRequest,
  type PaymentView,
} from "./api.js";
import { systemClock, type Clock } from "../chain/clock.js";
import { CoreLedger, LedgerInsufficientFundsError, type BalanceReport } from "./core-ledger.js";
import { Bookkeeper, FOLLOWED_EVENTS } from "./bookings.js";
import { paymentsHttpServer } from "./http.js";
import {
  paymentKey,
  PaymentStore,
  PaymentStoreError,
  type BankRef,
  type Direction,
  type OutboxRow,
  type OutboxStep,
  type PaymentRecord,
} from "./payments.js";
import { revertOf, type DecodedRevert } from "./reverts.js";
import {
  accountRefOf,
  fiatRefOf,
  MAX_SETTLEMENT_AMOUNT,
  reasonCodeOf,
  settlementIdOf,
  settlementStateName,
  termsDigest,
  termsTuple,
  type RejectReason,
  type SettlementState,
  type SettlementTerms,
} from "./terms.js";

/** The agent cannot run as configured (wrong key, unknown bank). */
export class AgentConfigError extends BankChainError {}

/** A bank the agent can pay to or hear from. */
export interface BankDirectoryEntry {
  /** A short id customers use (`A`, `B`). */
  readonly id: string;
  /** The bank's `TrustAccount` address: how the settlement contract names it. */
  readonly trustAccount: string;
}

export interface BankAgentOptions {
  readonly store: Store;
  readonly provider: Provider;
  /** The bank's agent key: `agentOf(own trust account)` in the settlement contract. */
  readonly signer: Signer;
  /** The `InterbankSettlement` address. */
  readonly settlement: string;
  /** This bank's id in `banks`. */
  readonly bankId: string;
  /** Every bank, this one included. */
  readonly banks: readonly BankDirectoryEntry[];
  /** ISO 4217 code of the token's currency: the only one the agent takes. */
  readonly currency: string;
  readonly clock?: Clock;
  /** Blocks an event must be buried under before the agent acts on it. */
  readonly confirmations: number;
  /** Where the follower starts without a checkpoint: the settlement's deployment block. */
  readonly fromBlock?: number;
  /** HTTP host, 127.0.0.1 unless told. */
  readonly host?: string;
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  readonly log?: (line: string) => void;
  /** Pause between polls of the chain when idle. */
  readonly pollIntervalMs?: number;
  /** The largest payment the agent accepts (minor units). */
  readonly maxAmount?: bigint;
  /** Seconds from acceptance (chain time) that bank B has to smelt or reject. */
  readonly ttlSeconds?: number;
  /** Most acknowledgements sent in one `acknowledgeBatch`. */
  readonly ackBatchSize?: number;
  /**
   * Most outbox rows one round of the loop handles before it reads the chain again: lower keeps latency
   * even under load (events are applied between rounds), higher makes bigger acknowledgement batches.
   */
  readonly rowsPerRound?: number;
  /**
   * Told of each step of a payment, synchronously, at these points:
   * - `accept:committed`: the payment and the customer debit are committed; the HTTP reply is not sent;
   * - `<step>:sending`: the outbox row is durable, the transaction not yet sent;
   * - `<step>:landed`: the receipt is in, the outbox row not yet marked done;
   * - `apply:<Event>`: an event's postings are written inside the follower's transaction, not yet committed;
   * - `event:<Event>`: the event and the follower's checkpoint are committed.
   * `scripts/bank-agent.ts` uses it to crash the agent at a chosen point.
   */
  readonly onStep?: (point: string, paymentId: string) => void;
}

export const DEFAULT_MAX_AMOUNT = 1_000_000_000n;
const DEFAULT_TTL_SECONDS = 3_600;
const DEFAULT_ACK_BATCH = 100;
const DEFAULT_ROWS_PER_ROUND = 100;
const RETRY_DELAY_MS = 1_000;
/** The loop after a failed round: 1 s, doubling, at most 10 s. */
const LOOP_RETRY: RetryPolicy = { baseMs: RETRY_DELAY_MS, maxMs: 10_000, factor: 2 };
/** How long a step that landed waits for its event to be confirmed before the chain is asked again. */
const LANDED_RECHECK_MS = 5_000;

/** What sending a step can find on chain: do it, it is done, not yet, or never. */
type Verdict =
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

export class BankAgent implements Service {
  readonly name: string;
  readonly bankId: string;
  readonly ledger: CoreLedger;
  readonly payments: PaymentStore;

  readonly #store: Store;
  readonly #provider: Provider;
  readonly #signer: Signer;
  readonly #settlement: IInterbankSettlement;
  readonly #settlementAddress: string;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #onStep: (point: string, paymentId: string) => void;
  readonly #me: string;
  readonly #banks: readonly BankDirectoryEntry[];
  readonly #currency: string;
  readonly #maxAmount: bigint;
  readonly #ttl: number;
  readonly #ackBatch: number;
  readonly #rowsPerRound: number;
  readonly #pollMs: number;
  readonly #follower: ConfirmedEventFollower;
  readonly #http: JsonHttpServer;
  readonly #books: Bookkeeper;
  /** Outbox rows up to this id existed before this run: check the chain before sending them. */
  #rowsBeforeStart = 0;
  #stopping = true;
  readonly #poller: Poller;
  #applied: Array<{ point: string; id: string }> = [];
  readonly #configuredUrl: string;

  constructor(options: BankAgentOptions) {
    const own = options.banks.find((bank) => bank.id === options.bankId);
    if (own === undefined) {
      throw new AgentConfigError("AGENT_UNKNOWN_BANK", `bank ${options.bankId} is not in the bank directory`, {
        bank: options.bankId,
      });
    }
    this.name = `bank-${options.bankId.toLowerCase()}`;
    this.bankId = options.bankId;
    this.#store = options.store;
    this.#provider = options.provider;
    this.#signer = options.signer;
    this.#settlement = IInterbankSettlement__factory.connect(options.settlement, options.signer);
    this.#settlementAddress = getAddress(options.settlement);
    this.#clock = options.clock ?? systemClock;
    const log = options.log ?? (() => undefined);
    this.#log = (line) => log(`${this.name}: ${line}`);
    this.#onStep = options.onStep ?? (() => undefined);
    this.#me = getAddress(own.trustAccount);
    this.#banks = options.banks.map((bank) => ({ id: bank.id, trustAccount: getAddress(bank.trustAccount) }));
    this.#currency = options.currency;
    this.#maxAmount = options.maxAmount ?? DEFAULT_MAX_AMOUNT;
    if (this.#maxAmount <= 0n || this.#maxAmount > MAX_SETTLEMENT_AMOUNT) {
      throw new AgentConfigError("AGENT_BAD_MAX_AMOUNT", `maxAmount must be from 1 to ${MAX_SETTLEMENT_AMOUNT}`, {
        maxAmount: this.#maxAmount.toString(),
      });
    }
    this.#ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.#ackBatch = options.ackBatchSize ?? DEFAULT_ACK_BATCH;
    this.#rowsPerRound = options.rowsPerRound ?? DEFAULT_ROWS_PER_ROUND;
    this.#pollMs = options.pollIntervalMs ?? 250;
    this.#poller = new Poller({
      tick: () => this.#tick(),
      intervalMs: this.#pollMs,
      retry: LOOP_RETRY,
      onError: (error) => {
        const reorg =
          error instanceof ChainReorgError ? " (a reorg deeper than the confirmations: needs an operator)" : "";
        this.#log(`loop error${reorg}: ${messageOf(error)}`);
      },
    });

    this.ledger = new CoreLedger(options.store, this.#clock);
    this.payments = new PaymentStore(options.store, this.#clock);
    this.#books = new Bookkeeper({
      store: options.store,
      ledger: this.ledger,
      payments: this.payments,
      bank: { id: this.bankId, address: this.#me },
      banks: this.#banks.map((bank) => ({ id: bank.id, address: bank.trustAccount })),
      currency: this.#currency,
      log: this.#log,
      onApplied: (point, paymentId) => {
        // Inside the follower's transaction: `apply:` now (a crash rolls the event back), `event:` after commit.
        this.#onStep(point.replace(/^event:/, "apply:"), paymentId);
        this.#applied.push({ point, id: paymentId });
      },
    });

    const iface = this.#settlement.interface;
    this.#follower = new ConfirmedEventFollower({
      provider: options.provider,
      store: options.store,
      name: `settlement-agent:${options.bankId}`,
      filter: {
        address: options.settlement,
        topics: [FOLLOWED_EVENTS.map((name) => iface.getEvent(name).topicHash)],
      },
      confirmations: options.confirmations,
      fromBlock: options.fromBlock ?? 0,
      atomic: true,
      handler: (log) => this.#books.apply(log),
    });
    this.#configuredUrl = `http://${options.host ?? "127.0.0.1"}:${options.port}`;
    const follower = this.#follower;
    this.#http = paymentsHttpServer(
      {
        submit: (request) => this.submit(request),
        payment: (id, direction) => this.payment(id, direction),
        account: (id) => this.account(id),
        ledger: () => this.ledger.checkBalanced(),
      },
      {
        host: options.host ?? "127.0.0.1",
        port: options.port,
        log: this.#log,
        title: `bank ${options.bankId}'s settlement agent`,
        health: {
          blockNumber: () => options.provider.getBlockNumber(),
          followerNextBlock: () => follower.checkpoint().nextBlock,
          checkDatabase: () => options.store.check(),
        },
      },
    );
  }

  /** The HTTP API's base URL (with the port actually bound, once started). */
  get url(): string {
    return this.#http.url ?? this.#configuredUrl;
  }

  /** This bank's trust account. */
  get trustAccount(): string {
    return this.#me;
  }

  async start(): Promise<void> {
    if (!this.#stopping) return;
    const agent = await this.#settlement.agentOf(this.#me);
    const key = await this.#signer.getAddress();
    if (getAddress(agent) !== getAddress(key)) {
      throw new AgentConfigError(
        "AGENT_WRONG_KEY",
        `the settlement's agent of bank ${this.bankId} (${this.#me}) is ${agent}, but this agent signs as ${key}`,
        { bank: this.bankId, agent, key },
      );
    }
    this.#rowsBeforeStart = this.payments.lastRowId();
    try {
      await this.#http.start();
    } catch (error) {
      throw new AgentConfigError(
        "AGENT_HTTP_FAILED",
        `${this.name} cannot listen at ${this.#configuredUrl}: ${messageOf(error)}` +
          (hasCode(error, "EADDRINUSE") ? " (the port is in use: choose another with BANK_A_PORT / BANK_B_PORT)" : ""),
        { url: this.#configuredUrl },
      );
    }
    this.#stopping = false;
    this.#poller.start();
    this.#log(`listening at ${this.url}; trust account ${this.#me}`);
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#http.stop();
    await this.#poller.stop();
  }

  /**
   * Opens a customer account, funded with `deposit` from the bank's cash
   * (an idempotent posting: opening it again changes nothing).
   */
  openCustomerAccount(spec: Parameters<Bookkeeper["openCustomerAccount"]>[0]): AccountView {
    this.#books.openCustomerAccount(spec);
    return this.account(spec.id)!;
  }

  account(id: string): AccountView | undefined {
    const account = this.ledger.account(id);
    return account === undefined ? undefined : accountView(account, this.#currency);
  }

  /** A payment by end-to-end id: the outbound one if both directions have it, unless `direction` says. */
  payment(id: string, direction?: Direction): PaymentView | undefined {
    const record =
      direction === undefined
        ? (this.payments.get("outbound", id) ?? this.payments.get("inbound", id))
        : this.payments.get(direction, id);
    return record === undefined ? undefined : this.#view(record);
  }

  /** Checks the core ledger (see `CoreLedger.checkBalanced`). */
  checkBalanced(): BalanceReport {
    return this.ledger.checkBalanced();
  }

  /**
   * Accepts a payment order of a customer of this bank: checks it, asks the
   * settlement contract whether it would take it now, then in one SQLite
   * transaction records it, debits the customer, credits the trust account and
   * writes the `initiate` intent. When this returns, the money has left the
   * customer's account; the agent's loop puts it on chain.
   *
   * @throws PaymentRefusedError (nothing posted), DuplicatePaymentError, AgentUnavailableError
   */
  async submit(request: PaymentRequest): Promise<PaymentView> {
    if (this.#stopping) throw new AgentUnavailableError("AGENT_STOPPING", `${this.name} is stopping`);
    const { base, creditor } = this.#checkRequest(request);
    const terms = await this.#checkOnChain(request, base);
    try {
      this.#books.accept(request, terms, creditor);
    } catch (error) {
      if (error instanceof LedgerInsufficientFundsError) {
        throw insufficientFunds(request, String(error.details.balance));
      }
      if (error instanceof PaymentStoreError && error.code === "PAYMENT_EXISTS") throw duplicate(request.endToEndId);
      throw error;
    }
    this.#step("accept:committed", request.endToEndId);
    this.#log(`accepted ${request.endToEndId}: ${terms.amount} ${this.#currency} to ${creditor.id}`);
    this.#poller.wake();
    return this.#view(this.payments.get("outbound", request.endToEndId)!);
  }

  #view(record: PaymentRecord): PaymentView {
    return paymentView(record, this.ledger.entries(paymentKey(record.direction, record.id)));
  }

  #fail(row: OutboxRow, payment: PaymentRecord, reason: string): void {
    this.#books.fail(row, payment, reason);
    this.#log(`failed ${payment.id}: ${reason}; customer re-credited`);
  }

  // ───────────────────────────── request checks ─────────────────────────────

  #checkRequest(request: PaymentRequest): { base: Omit<SettlementTerms, "deadline">; creditor: BankRef } {
    if (request.currency !== this.#currency) {
      throw new PaymentRefusedError(
        "CURRENCY_UNSUPPORTED",
        `this bank settles ${this.#currency} only, not ${request.currency}`,
        "currency",
        { currency: request.currency },
      );
    }
    if (request.amount === 0n) {
      throw new PaymentRefusedError("AMOUNT_ZERO", "amount must be at least 1 minor unit", "amount");
    }
    if (request.amount > this.#maxAmount) {
      throw new PaymentRefusedError(
        "AMOUNT_OVER_CAP",
        `amount ${request.amount} is above the largest payment this bank sends, ${this.#maxAmount}`,
        "amount",
        { amount: request.amount.toString(), cap: this.#maxAmount.toString() },
      );
    }
    const creditor = this.#banks.find((bank) => bank.id === request.creditorBank);
    if (creditor === undefined) {
      throw new PaymentRefusedError(
        "UNKNOWN_BANK",
        `unknown creditor bank ${request.creditorBank}; known banks: ${this.#banks.map((bank) => bank.id).join(", ")}`,
        "creditorBank",
        { creditorBank: request.creditorBank },
      );
    }
    if (creditor.trustAccount === this.#me) {
      throw new PaymentRefusedError(
        "SAME_BANK",
        `a payment to another account of bank ${this.bankId} is not an interbank payment`,
        "creditorBank",
      );
    }
    const debtor = this.ledger.account(request.debtorAccount);
    if (debtor === undefined || debtor.category !== "customer") {
      throw new PaymentRefusedError(
        "UNKNOWN_DEBTOR_ACCOUNT",
        `bank ${this.bankId} has no customer account ${request.debtorAccount}`,
        "debtorAccount",
      );
    }
    if (debtor.status !== "active") {
      throw new PaymentRefusedError(
        "DEBTOR_ACCOUNT_NOT_ACTIVE",
        `account ${debtor.id} is ${debtor.status}`,
        "debtorAccount",
        { status: debtor.status },
      );
    }
    if (this.payments.has("outbound", request.endToEndId)) throw duplicate(request.endToEndId);
    if (debtor.balance < request.amount) throw insufficientFunds(request, debtor.balance.toString());
    const base = {
      id: settlementIdOf(request.endToEndId),
      debtorBank: this.#me,
      creditorBank: creditor.trustAccount,
      amount: request.amount,
      creditorAccountRef: accountRefOf(request.creditorAccount),
    };
    return { base, creditor: { id: creditor.id, address: creditor.trustAccount } };
  }

  /** The terms with their deadline (chain time + TTL), once the contract says it would initiate them now. */
  async #checkOnChain(request: PaymentRequest, base: Omit<SettlementTerms, "deadline">): Promise<SettlementTerms> {
    let revert: DecodedRevert | undefined;
    try {
      const block = await this.#provider.getBlock("latest");
      if (block === null) throw new Error("the node has no latest block");
      const terms: SettlementTerms = { ...base, deadline: block.timestamp + this.#ttl };
      await this.#settlement.initiate.staticCall(termsTuple(terms));
      return terms;
    } catch (error) {
      revert = revertOf(error);
      if (revert === undefined) {
        throw new AgentUnavailableError("CHAIN_UNAVAILABLE", `cannot reach the chain: ${messageOf(error)}`);
      }
    }
    throw refusal(request, revert);
  }

  // ───────────────────────────── the loop ─────────────────────────────

  /** One round: apply confirmed events, notice expired payments, send what is owed. True if it did anything. */
  async #tick(): Promise<boolean> {
    this.#applied = [];
    const handled = await this.#follower.poll();
    for (const { point, id } of this.#applied) this.#step(point, id);
    this.#applied = [];
    const expired = await this.#scanExpired();
    const sent = await this.#sendPending();
    return handled > 0 || expired > 0 || sent > 0;
  }

  #step(point: string, paymentId: string): void {
    this.#log(`step ${point} ${paymentId}`);
    this.#onStep(point, paymentId);
  }

  /** Queues a refund for every outbound payment whose deadline has passed in chain time. */
  async #scanExpired(): Promise<number> {
    if (!this.payments.hasOpenOutbound()) return 0;
    const block = await this.#provider.getBlock("latest");
    if (block === null) return 0;
    const expired = this.payments.expiredOutbound(block.timestamp);
    for (const payment of expired) {
      this.#store.transaction(() => {
        this.payments.update("outbound", payment.id, {
          creditorLeg: "Expired",
          note: `deadline ${payment.terms.deadline} passed without a smelt or rejection; refund due`,
        });
        this.payments.enqueue("outbound", payment.id, "refund");
      });
      this.#log(`expired ${payment.id}: refund queued`);
    }
    return expired.length;
  }

  // ───────────────────────────── sending ─────────────────────────────

  async #sendPending(): Promise<number> {
    const rows = this.payments.pending(this.#rowsPerRound);
    if (rows.length === 0) return 0;
    let sent = 0;
    const acks: Array<{ row: OutboxRow; payment: PaymentRecord }> = [];
    const waits: Array<Promise<void>> = [];
    for (const row of rows) {
      if (this.#stopping) break;
      const payment = this.payments.get(row.direction, row.paymentId);
      if (payment === undefined) {
        this.payments.void(row.rowId, "no such payment");
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
      const pending = await this.#send([{ row, payment }]);
      if (pending !== undefined) {
        waits.push(pending);
        sent += 1;
      }
    }
    for (let i = 0; i < acks.length && !this.#stopping; i += this.#ackBatch) {
      const pending = await this.#send(acks.slice(i, i + this.#ackBatch));
      if (pending !== undefined) {
        waits.push(pending);
        sent += 1;
      }
    }
    const failed = (await Promise.allSettled(waits)).find((result) => result.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
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
        this.payments.landed(row.rowId, null, LANDED_RECHECK_MS);
        this.#log(`${row.step} ${payment.id} has landed; not resent`);
        return false;
      case "wait":
        this.payments.retryLater(row.rowId, verdict.why, RETRY_DELAY_MS);
        return false;
      case "void":
        if (row.step === "initiate") this.#fail(row, payment, verdict.why);
        else {
          this.payments.void(row.rowId, verdict.why);
          this.#log(`${row.step} ${payment.id} will not be sent: ${verdict.why}`);
        }
        return false;
    }
  }

  /** What the chain says about sending `step` for `payment` now. */
  async #verdict(step: OutboxStep, payment: PaymentRecord): Promise<Verdict> {
    const record = await this.#settlement.settlement(payment.terms.id);
    const stored = settlementStateName(record.state);
    const mine = record.termsDigest.toLowerCase() === termsDigest(payment.terms);
    if (step === "initiate") {
      if (mine) return { kind: "landed" };
      if (stored === "None") return { kind: "send" };
      return { kind: "void", why: "the id is used on chain by another payment" };
    }
    if (!mine) return { kind: "void", why: "the settlement record on chain has other terms" };
    const state = settlementStateName(await this.#settlement.stateOf(payment.terms.id));
    const { landed, from } = STEP_STATES[step];
    if (landed.includes(state)) return { kind: "landed" };
    if (state === from) return { kind: "send" };
    if (step === "refund" && state === "Delivered") return { kind: "wait", why: "not expired yet in chain time" };
    return { kind: "void", why: `the settlement is ${state}, not ${from}` };
  }

  /**
   * Sends one step (or one batch of acknowledgements) and returns a promise
   * that settles once its receipt is handled; undefined if nothing was sent.
   */
  async #send(items: ReadonlyArray<{ row: OutboxRow; payment: PaymentRecord }>): Promise<Promise<void> | undefined> {
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
    for (const { row } of items) this.payments.sent(row.rowId, hash);
    return this.#awaitReceipt(hash).then(
      async (status) => {
        if (status === 1) {
          for (const { row, payment } of items) {
            this.#step(`${step}:landed`, payment.id);
            this.payments.landed(row.rowId, hash, LANDED_RECHECK_MS);
          }
          this.#poller.wake();
          return;
        }
        await this.#sendFailed(items, new Error(`transaction ${hash} reverted`));
      },
      async (error: unknown) => {
        await this.#sendFailed(items, error);
      },
    );
  }

  /**
   * Sends one step. The gas limit is the estimate plus a margin: the estimate is exact for the state it
   * ran on, and a payment mined a moment later can cost more (the settlement's token balance going from
   * zero to non-zero, a corridor window rolling over); unused gas is refunded, so the margin costs nothing.
   */
  async #call(step: OutboxStep, payments: readonly PaymentRecord[]): Promise<{ hash: string }> {
    const to = this.#settlementAddress;
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
      timeoutMs: 120_000,
      pollMs: Math.min(this.#pollMs, 100),
    });
    return receipt.status ?? 0;
  }

  /** A send failed (or reverted): ask the chain what that means for each row. */
  async #sendFailed(items: ReadonlyArray<{ row: OutboxRow; payment: PaymentRecord }>, error: unknown): Promise<void> {
    const revert = revertOf(error);
    const reason = revert === undefined ? messageOf(error) : revert.name || "reverted";
    for (const { row, payment } of items) {
      let verdict: Verdict;
      try {
        verdict = await this.#verdict(row.step, payment);
      } catch (readError) {
        this.payments.retryLater(row.rowId, `${reason}; state unreadable: ${messageOf(readError)}`, RETRY_DELAY_MS);
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
          this.payments.retryLater(row.rowId, reason, 0);
          continue;
        }
        this.payments.retryLater(row.rowId, reason, RETRY_DELAY_MS);
        this.#log(`${row.step} ${payment.id} failed, will retry: ${reason}`);
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
      this.payments.retryLater(row.rowId, `${reason}; a transaction of the agent is still pending`, RETRY_DELAY_MS);
      return;
    }
    this.#fail(row, payment, reason);
  }
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

function duplicate(endToEndId: string): DuplicatePaymentError {
  return new DuplicatePaymentError(
    "DUPLICATE_END_TO_END_ID",
    `a payment with end-to-end id ${endToEndId} already exists`,
    { endToEndId },
  );
}

function insufficientFunds(request: PaymentRequest, balance: string): PaymentRefusedError {
  return new PaymentRefusedError(
    "INSUFFICIENT_FUNDS",
    `account ${request.debtorAccount} holds ${balance}, less than ${request.amount}`,
    "amount",
    { balance, amount: request.amount.toString() },
  );
}

/** The answer to a payment the settlement contract would refuse now. */
function refusal(request: PaymentRequest, revert: DecodedRevert): BankChainError {
  const args = revert.args.map((arg) => (typeof arg === "bigint" ? arg.toString() : String(arg)));
  const details = { error: revert.name, args };
  switch (revert.name) {
    case "InterbankSettlementInvalidState":
      return new DuplicatePaymentError(
        "DUPLICATE_END_TO_END_ID",
        `end-to-end id ${request.endToEndId} is already used on chain`,
        { endToEndId: request.endToEndId, ...details },
      );
    case "InterbankSettlementCorridorPaused":
      return new PaymentRefusedError(
        "CORRIDOR_PAUSED",
        `payments to bank ${request.creditorBank} are paused`,
        "creditorBank",
        details,
      );
    case "InterbankSettlementCorridorNotOpen":
      return new PaymentRefusedError(
        "CORRIDOR_NOT_OPEN",
        `there is no open corridor to bank ${request.creditorBank}`,
        "creditorBank",
        details,
      );
    case "InterbankSettlementInFlightLimitExceeded":
    case "InterbankSettlementWindowLimitExceeded":
      return new PaymentRefusedError(
        "CORRIDOR_LIMIT_EXCEEDED",
        `amount ${request.amount} is over the ${revert.name.includes("InFlight") ? "in-flight" : "window"} limit ` +
          `of the corridor to bank ${request.creditorBank} (used ${args[2]}, cap ${args[3]})`,
        "amount",
        details,
      );
    case "InterbankSettlementUnknownBank":
      return new PaymentRefusedError(
        "UNKNOWN_BANK",
        `a bank of this payment is not registered on chain`,
        "creditorBank",
        details,
      );
    case "InterbankSettlementUnauthorizedAgent":
      return new AgentUnavailableError(
        "AGENT_NOT_AUTHORIZED",
        "this agent's key is not the bank's agent on chain",
        details,
      );
    default:
      return new PaymentRefusedError(
        "CHAIN_REFUSED",
        `the settlement refused the payment: ${revert.name || "reverted without a reason"}`,
        undefined,
        details,
      );
  }
}
