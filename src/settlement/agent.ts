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
 *   the transaction that made it due), then sent by the `OutboxSender`
 *   (`outbox.ts`), which this agent runs once per round. A row that existed before a
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
import { hasCode, type ContractRevertError } from "../chain/reverts.js";
import { Coalescer, type Outcome } from "../chain/coalesce.js";
import { AdmissionBusyError, AdmissionGate } from "../chain/admission.js";
import { HeadWatcher } from "../chain/heads.js";
import { Poller } from "../chain/poller.js";
import type { RetryPolicy } from "../chain/retry.js";
import type { JsonHttpServer } from "../chain/http.js";
import { lineLog, loggerOf, type Logger } from "../chain/log.js";
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
  type PaymentRecord,
} from "./payments.js";
import { OutboxSender, RETRY_DELAY_MS, SELECTORS } from "./outbox.js";
import { paymentRevertOf, settlementErrorOf } from "./reverts.js";
import {
  accountRefOf,
  batchCalldata,
  MAX_SETTLEMENT_AMOUNT,
  settlementIdOf,
  termsWords,
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
  /** Pause between polls of the chain when idle and no new block came. */
  readonly pollIntervalMs?: number;
  /**
   * Pause between two questions for the chain's newest block number: a new block wakes the agent at once, so
   * this bounds how late it sees the events of a block (default `DEFAULT_HEAD_POLL_MS`).
   */
  readonly headPollMs?: number;
  /** The largest payment the agent accepts (minor units). */
  readonly maxAmount?: bigint;
  /** Seconds from acceptance (chain time) that bank B has to smelt or reject. */
  readonly ttlSeconds?: number;
  /** Most acknowledgements sent in one `acknowledgeBatch`. */
  readonly ackBatchSize?: number;
  /**
   * Most payments initiated (smelted) in one `initiateBatch` (`smeltBatch`): what is due when a round starts
   * goes out together, so a batch never waits for more payments; 1 sends each alone.
   */
  readonly stepBatchSize?: number;
  /** How long a sent transaction may stay unmined before the agent looks at it as dropped or overdue (default 120 s). */
  readonly receiptTimeoutMs?: number;
  /**
   * Most outbox rows one round of the loop handles before it reads the chain again: lower keeps latency
   * even under load (events are applied between rounds), higher makes bigger acknowledgement batches.
   */
  readonly rowsPerRound?: number;
  /**
   * Most outbound payments the agent holds open at once: accepted and not yet acknowledged, returned, refunded
   * or failed (default `DEFAULT_MAX_OPEN_PAYMENTS`). An order beyond it waits for one to close, up to
   * `admissionWaitMs`, then is refused `503 AGENT_BUSY` with nothing posted. Payments open = rate × time each is
   * open: an agent short of CPU that accepted every order at once would only make each wait behind the backlog.
   */
  readonly maxOpenPayments?: number;
  /** How long an order may wait for room under `maxOpenPayments` before it is refused (ms, default 5 s). */
  readonly admissionWaitMs?: number;
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
/** Pause between polls of the chain when idle (ms). */
export const DEFAULT_POLL_MS = 250;
/** Pause between two questions for the newest block (ms). */
export const DEFAULT_HEAD_POLL_MS = 20;
/** How long `stop()` waits for the receipts of transactions under way (the rest are checked on the next start). */
const STOP_DRAIN_MS = 5_000;
const DEFAULT_TTL_SECONDS = 3_600;
const DEFAULT_ACK_BATCH = 100;
const DEFAULT_STEP_BATCH = 50;
const DEFAULT_ROWS_PER_ROUND = 100;
/** Most outbound payments open at once by default: room for a busy bank on a chain with slow blocks. */
export const DEFAULT_MAX_OPEN_PAYMENTS = 1_000;
export const DEFAULT_ADMISSION_WAIT_MS = 5_000;
/** The loop after a failed round: 1 s, doubling, at most 10 s. */
const LOOP_RETRY: RetryPolicy = { baseMs: RETRY_DELAY_MS, maxMs: 10_000, factor: 2 };

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
  /** The same log, structured: lines about one payment carry its id as `paymentId`. */
  readonly #logger: Logger;
  readonly #onStep: (point: string, paymentId: string) => void;
  readonly #me: string;
  readonly #banks: readonly BankDirectoryEntry[];
  readonly #currency: string;
  readonly #maxAmount: bigint;
  readonly #ttl: number;
  readonly #follower: ConfirmedEventFollower;
  readonly #http: JsonHttpServer;
  readonly #books: Bookkeeper;
  readonly #outbox: OutboxSender;
  #stopping = true;
  readonly #poller: Poller;
  /** Orders wait here while `maxOpenPayments` are open. */
  readonly #admission: AdmissionGate;
  readonly #heads: HeadWatcher;
  /** "Would the settlement take this payment now?", asked once for the orders that arrive together. */
  readonly #checks: Coalescer<Omit<SettlementTerms, "deadline">, SettlementTerms>;
  /** The agent's key (known once started). */
  #key: string | undefined;
  #applied: Array<{ point: string; id: string }> = [];
  /** The newest block's time as last read, and the head watcher's block number then (`#chainTime`). */
  #latestBlock: { readonly head: number; readonly timestamp: number } | undefined;
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
    // Every line starts `<bank>: `; a plain `log` function gets exactly the text it always did.
    this.#logger = loggerOf(options.log ?? (() => undefined)).child({}, { msgPrefix: `${this.name}: ` });
    this.#log = lineLog(this.#logger);
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
    const maxOpen = options.maxOpenPayments ?? DEFAULT_MAX_OPEN_PAYMENTS;
    if (!Number.isSafeInteger(maxOpen) || maxOpen < 1) {
      throw new AgentConfigError("AGENT_BAD_MAX_OPEN_PAYMENTS", `maxOpenPayments must be a whole number ≥ 1`, {
        maxOpenPayments: maxOpen,
      });
    }
    const pollMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.#poller = new Poller({
      tick: () => this.#tick(),
      intervalMs: pollMs,
      retry: LOOP_RETRY,
      onError: (error) => {
        const reorg =
          error instanceof ChainReorgError ? " (a reorg deeper than the confirmations: needs an operator)" : "";
        this.#log(`loop error${reorg}: ${messageOf(error)}`);
      },
    });

    this.#heads = new HeadWatcher({
      provider: options.provider,
      pollMs: options.headPollMs ?? DEFAULT_HEAD_POLL_MS,
      onError: (error) => this.#log(`cannot read the newest block: ${messageOf(error)}`),
    });
    this.#heads.onHead(() => this.#poller.wake());
    this.#checks = new Coalescer({
      flush: (bases) => this.#checkGroup(bases),
      maxBatch: options.stepBatchSize ?? DEFAULT_STEP_BATCH,
    });

    this.ledger = new CoreLedger(options.store, this.#clock);
    this.payments = new PaymentStore(options.store, this.#clock);
    this.#admission = new AdmissionGate({
      limit: maxOpen,
      waitMs: options.admissionWaitMs ?? DEFAULT_ADMISSION_WAIT_MS,
      open: () => this.payments.openOutboundCount(),
    });
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

    this.#outbox = new OutboxSender({
      payments: this.payments,
      provider: options.provider,
      signer: options.signer,
      settlement: this.#settlement,
      ackBatchSize: options.ackBatchSize ?? DEFAULT_ACK_BATCH,
      stepBatchSize: options.stepBatchSize ?? DEFAULT_STEP_BATCH,
      ...(options.receiptTimeoutMs === undefined ? {} : { receiptTimeoutMs: options.receiptTimeoutMs }),
      rowsPerRound: options.rowsPerRound ?? DEFAULT_ROWS_PER_ROUND,
      pollIntervalMs: pollMs,
      stopping: () => this.#stopping,
      clock: this.#clock,
      step: (point, paymentId) => this.#step(point, paymentId),
      fail: (row, payment, reason) => this.#fail(row, payment, reason),
      wake: () => this.#poller.wake(),
      log: this.#log,
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
        payments: this.payments,
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
    this.#key = getAddress(key);
    this.#latestBlock = undefined;
    this.#outbox.start();
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
    this.#admission.reopen();
    this.#poller.start();
    this.#heads.start();
    this.#log(`listening at ${this.url}; trust account ${this.#me}`);
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#admission.close(`${this.name} is stopping`);
    await this.#http.stop();
    await this.#heads.stop();
    await this.#poller.stop();
    await this.#outbox.drain(STOP_DRAIN_MS);
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
    const leave = await this.#admit();
    let terms: SettlementTerms;
    try {
      terms = await this.#checkOnChain(request, base);
      this.#accept(request, terms, creditor);
    } finally {
      // Recorded as open (the store counts it now) or refused: either way no longer being admitted.
      leave();
    }
    this.#step("accept:committed", request.endToEndId);
    this.#logger
      .child({ paymentId: request.endToEndId })
      .info(`accepted ${request.endToEndId}: ${terms.amount} ${this.#currency} to ${creditor.id}`);
    this.#poller.wake();
    return this.#view(this.payments.get("outbound", request.endToEndId)!);
  }

  /** Waits for room under `maxOpenPayments`; the returned function ends the admission. */
  async #admit(): Promise<() => void> {
    try {
      return await this.#admission.enter();
    } catch (error) {
      if (error instanceof AdmissionBusyError && error.code === "ADMISSION_CLOSED") {
        throw new AgentUnavailableError("AGENT_STOPPING", `${this.name} is stopping`);
      }
      if (error instanceof AdmissionBusyError) {
        throw new AgentUnavailableError(
          "AGENT_BUSY",
          `${this.name} holds its most open payments; none closed in time: try again later`,
          error.details,
        );
      }
      throw error;
    }
  }

  /** Records the payment, debits the customer and queues its `initiate`, in one SQLite transaction. */
  #accept(request: PaymentRequest, terms: SettlementTerms, creditor: BankRef): void {
    try {
      this.#books.accept(request, terms, creditor);
    } catch (error) {
      if (error instanceof LedgerInsufficientFundsError) {
        throw insufficientFunds(request, String(error.details.balance));
      }
      if (error instanceof PaymentStoreError && error.code === "PAYMENT_EXISTS") throw duplicate(request.endToEndId);
      throw error;
    }
  }

  #view(record: PaymentRecord): PaymentView {
    return paymentView(record, this.ledger.entries(paymentKey(record.direction, record.id)));
  }

  #fail(row: OutboxRow, payment: PaymentRecord, reason: string): void {
    this.#books.fail(row, payment, reason);
    this.#logger.child({ paymentId: payment.id }).warn(`failed ${payment.id}: ${reason}; customer re-credited`);
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
    try {
      return await this.#checks.run(base);
    } catch (error) {
      const revert = paymentRevertOf(error);
      if (revert === undefined) {
        throw new AgentUnavailableError("CHAIN_UNAVAILABLE", `cannot reach the chain: ${messageOf(error)}`);
      }
      throw refusal(request, revert);
    }
  }

  /**
   * The settlement's answer for orders that arrived together: their deadlines from one look at the newest
   * block, then one `initiateBatch` call as this agent (nothing is sent). When the batch would revert, each
   * order is asked alone (`initiate`), so that only the ones the settlement refuses are refused, each with
   * its own reason. The calldata is encoded by hand (`terms.ts`), as the outbox does.
   */
  async #checkGroup(bases: readonly Omit<SettlementTerms, "deadline">[]): Promise<Outcome<SettlementTerms>[]> {
    const block = await this.#provider.getBlock("latest");
    if (block === null) throw new Error("the node has no latest block");
    const all: SettlementTerms[] = bases.map((base) => ({ ...base, deadline: block.timestamp + this.#ttl }));
    const ask = (data: string) => this.#provider.call({ to: this.#settlementAddress, from: this.#key ?? null, data });
    if (all.length > 1) {
      try {
        await ask(batchCalldata(SELECTORS.initiateBatch, all));
        return all.map((value) => ({ value }));
      } catch (error) {
        if (paymentRevertOf(error) === undefined) throw error;
      }
    }
    return Promise.all(
      all.map((terms) =>
        ask(SELECTORS.initiate + termsWords(terms)).then(
          () => ({ value: terms }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
  }

  // ───────────────────────────── the loop ─────────────────────────────

  /** One round: apply confirmed events, notice expired payments, send what is owed. True if it did anything. */
  async #tick(): Promise<boolean> {
    this.#applied = [];
    const handled = await this.#follower.poll();
    for (const { point, id } of this.#applied) this.#step(point, id);
    this.#applied = [];
    // Events may have closed payments (acknowledged, returned, refunded, failed): room for orders waiting.
    this.#admission.recheck();
    const expired = await this.#scanExpired();
    const sent = await this.#outbox.sendPending();
    return handled > 0 || expired > 0 || sent > 0;
  }

  /**
   * The newest block's timestamp, read again only once the head watcher's block number has changed since the last
   * read (up or down: a new block, a chain reset, a reorg to a shorter chain; `start()` forgets it too): while
   * payments wait and no block comes, one `eth_getBlockByNumber` per block rather than one per round. An expiry is
   * so noticed at most one head poll late. A block replaced at the same height keeps its predecessor's time until
   * the next block, as a read of a block about to be orphaned always could. A payment marked expired early moves no
   * money: the settlement refuses a refund before the deadline in its own time, and the outbox then waits until the
   * settlement's state shows it expired.
   */
  async #chainTime(): Promise<number | undefined> {
    const head = this.#heads.head;
    const known = this.#latestBlock;
    if (known !== undefined && head !== undefined && head === known.head) return known.timestamp;
    const block = await this.#provider.getBlock("latest");
    if (block === null) return undefined;
    this.#latestBlock = head === undefined ? undefined : { head, timestamp: block.timestamp };
    return block.timestamp;
  }

  /**
   * A step of a payment, logged and told to `onStep`: a chain event applied to the books at `info`, the steps
   * between them (accepted, sending, landed) at `debug`.
   */
  #step(point: string, paymentId: string): void {
    const logger = this.#logger.child({ paymentId });
    if (point.startsWith("event:")) logger.info(`step ${point} ${paymentId}`);
    else logger.debug(`step ${point} ${paymentId}`);
    this.#onStep(point, paymentId);
  }

  /** Queues a refund for every outbound payment whose deadline has passed in chain time. */
  async #scanExpired(): Promise<number> {
    if (!this.payments.hasOpenOutbound()) return 0;
    const chainTime = await this.#chainTime();
    if (chainTime === undefined) return 0;
    const expired = this.payments.expiredOutbound(chainTime);
    for (const payment of expired) {
      this.#store.transaction(() => {
        this.payments.update("outbound", payment.id, {
          creditorLeg: "Expired",
          note: `deadline ${payment.terms.deadline} passed without a smelt or rejection; refund due`,
        });
        this.payments.enqueue("outbound", payment.id, "refund");
      });
      this.#logger.child({ paymentId: payment.id }).info(`expired ${payment.id}: refund queued`);
    }
    return expired.length;
  }
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
function refusal(request: PaymentRequest, revert: ContractRevertError): BankChainError {
  const { errorName: name, args } = revert;
  const details = { error: name, args };
  switch (settlementErrorOf(revert)) {
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
        `amount ${request.amount} is over the ${name.includes("InFlight") ? "in-flight" : "window"} limit ` +
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
        `the settlement refused the payment: ${name || "reverted without a reason"}`,
        undefined,
        details,
      );
  }
}
