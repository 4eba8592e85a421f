/**
 * The checkout service's engine (docs/commerce.md, "The service"): it follows the chain and moves each invoice
 * along, one idempotent step per round.
 *
 * - The verifier: three `ConfirmedEventFollower`s. One sees `PaymentAuthorized` as soon as it is mined (the
 *   invoice is `paid`); one takes every `Checkout` event once it has `confirmations` blocks on top (`confirmed`,
 *   `complete`, `invalid`, `expired`, `refunded`); one watches the token's `Transfer`s for the invoices' deposit
 *   addresses. Their handlers only write the store, in the transaction that moves their checkpoint (`atomic`),
 *   so each event is applied exactly once across crashes.
 * - Deposits: a full deposit is collected (`authorize` by `Deposit`, the excess back to the payer); a partial one
 *   is noted (`paidPartial`) and waits for the rest until the quote expires; whatever reaches the address of an
 *   invoice that is paid already, or expired, is sent back (`returnDeposit`).
 * - The purchase: once the payment is confirmed, the retailer adapter orders the good with the intent's id as
 *   the `Idempotency-Key`, retrying while the retailer is down; the attempt is recorded before the call, its
 *   outcome with the receipt after it, so a crash anywhere repeats at most the same call, which the retailer
 *   answers with the same order. With a receipt the payment is captured (the operator signs
 *   `Capture(intentId, receiptHash)`); when the retailer refuses, or stays down until the authorization is about
 *   to expire, the payment is voided and the money goes back to the payer.
 * - Sending: every transaction the operator sends goes through one queue. Before it sends again a step it sent
 *   already, it reads the payment on chain, so a capture or a void is never sent twice to land twice (the
 *   contract would refuse the second anyway).
 */
import { Contract, type Log, type Provider, type TransactionResponse, type Wallet } from "ethers";

import { BankToken__factory, Checkout__factory, type Checkout } from "../../typechain-types/index.js";
import { ConfirmedEventFollower, type FollowedLog } from "../chain/events.js";
import { loggerOf } from "../chain/log.js";
import { mined, ReceiptTimeoutError } from "../chain/receipts.js";
import { retryDelay, type RetryPolicy } from "../chain/retry.js";
import { decodeRevert } from "../chain/reverts.js";
import { messageOf } from "../errors.js";
import {
  checkoutDomain,
  intentTuple,
  METHODS,
  PAYMENT_STATUSES,
  signCapture,
  type Method,
  type PaymentIntent,
} from "./intent.js";
import { CommerceError } from "./errors.js";
import type { CheckoutContext, Invoice } from "./store.js";

/** An intent id (bytes32) inside a transaction's description. */
const INTENT_ID = /0x[0-9a-fA-F]{64}/;

/** What the adapter asks a retailer for. */
export interface RetailerOrderRequest {
  readonly sku: string;
  readonly quantity: number;
  readonly price: { readonly amount: bigint; readonly currency: string };
  /** The intent's order reference. */
  readonly reference: string;
}

/** How a retailer answered an order. */
export type RetailerOrderResult =
  | {
      readonly kind: "ordered";
      readonly orderId: string;
      readonly receipt: Record<string, unknown>;
      readonly receiptHash: string;
    }
  | { readonly kind: "refused"; readonly code: string; readonly message: string }
  | { readonly kind: "unavailable"; readonly message: string };

/** The retailer as the engine uses it. */
export interface RetailerPort {
  /** Orders once per `idempotencyKey`; a repeated key answers the first outcome. Never throws. */
  order(idempotencyKey: string, request: RetailerOrderRequest): Promise<RetailerOrderResult>;
}

export interface CheckoutProcessorOptions extends CheckoutContext {
  readonly retailer: RetailerPort;
  /** Blocks an authorization must be buried under before the good is bought. */
  readonly confirmations: number;
  /** The first block to read (the Checkout's deployment block). */
  readonly fromBlock: number;
  /** Back-off between order attempts while the retailer is down. */
  readonly retry: RetryPolicy;
  /** Stop trying to buy (and void) this many seconds before the authorization expires. */
  readonly voidMarginSeconds: bigint;
  /** Invoices a step reads from the store at a time. */
  readonly pageSize: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Called at named points of a step, for the crash tests. */
  readonly onStep?: (point: string) => void;
}

const CHECKOUT_EVENTS = [
  "PaymentAuthorized",
  "PaymentCaptured",
  "PaymentVoided",
  "PaymentReclaimed",
  "PaymentRefunded",
  "ExcessReturned",
  "DepositReturned",
] as const;

/** The contract errors the engine reads: the checkout's and the token's (a frozen account, a pause). */
const REVERT_ABIS = [Checkout__factory.abi, BankToken__factory.abi] as const;

/** Refusals that pass: the checkout or the token paused. A deposit waits them out rather than being sent back. */
const PAUSED = new Set(["EnforcedPause", "BankTokenPaused"]);

/** How often a sent transaction without a receipt is looked for in the node's pool (a dropped one never mines). */
const DROP_CHECK_MS = 10_000;

const TRANSFER_ABI = [
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "function balanceOf(address) view returns (uint256)",
];

export class CheckoutProcessor {
  readonly #options: CheckoutProcessorOptions;
  readonly #checkout: Checkout;
  readonly #token: Contract;
  readonly #followers: ConfirmedEventFollower[];
  readonly #domain: ReturnType<typeof checkoutDomain>;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CheckoutProcessorOptions) {
    this.#options = options;
    this.#checkout = Checkout__factory.connect(options.checkout, options.operator);
    this.#token = new Contract(options.token, TRANSFER_ABI, options.provider);
    this.#domain = checkoutDomain(options.chainId, options.checkout);
    const iface = this.#checkout.interface;
    const store = options.store.store;
    const base = { provider: options.provider, store, fromBlock: options.fromBlock, atomic: true } as const;
    this.#followers = [
      new ConfirmedEventFollower({
        ...base,
        name: "checkout-seen",
        confirmations: 0,
        filter: { address: options.checkout, topics: [iface.getEvent("PaymentAuthorized").topicHash] },
        handler: (log) => this.#seen(log),
      }),
      new ConfirmedEventFollower({
        ...base,
        name: "checkout-confirmed",
        confirmations: options.confirmations,
        filter: {
          address: options.checkout,
          topics: [CHECKOUT_EVENTS.map((name) => iface.getEvent(name).topicHash)],
        },
        handler: (log) => this.#confirmed(log),
      }),
      new ConfirmedEventFollower({
        ...base,
        name: "checkout-deposits",
        confirmations: 0,
        filter: { address: options.token, topics: [this.#token.interface.getEvent("Transfer")!.topicHash] },
        handler: (log) => this.#transfer(log),
      }),
    ];
  }

  /** The Checkout contract, connected to the operator. */
  get contract(): Checkout {
    return this.#checkout;
  }

  /** The confirmed follower's next block (the health's lag). */
  nextBlock(): number {
    return this.#followers[1]!.checkpoint().nextBlock;
  }

  /** One round: read the chain's new events, then move every invoice that can move. True if anything did. */
  async tick(): Promise<boolean> {
    let worked = false;
    for (const follower of this.#followers) worked = (await follower.poll()) > 0 || worked;
    const chainNow = await this.#chainNow();
    worked = (await this.#deposits(chainNow)) || worked;
    worked = (await this.#expire(chainNow)) || worked;
    worked = (await this.#purchases()) || worked;
    worked = (await this.#settle()) || worked;
    return worked;
  }

  /**
   * Sends one operator transaction through the queue and waits for it to be mined (`record` runs with the hash
   * as soon as it is known, before the wait). A revert throws ethers' `CALL_EXCEPTION`.
   */
  async send(
    what: string,
    build: (checkout: Checkout) => Promise<TransactionResponse>,
    record?: (hash: string) => void,
  ): Promise<string> {
    const run = async () => {
      const sent = await build(this.#checkout);
      record?.(sent.hash);
      await this.#minedOrDropped(sent);
      // Every caller's `what` names the invoice's intent id: it goes on the line as `intentId`, with the tx.
      const intentId = INTENT_ID.exec(what)?.[0];
      loggerOf(this.#options.log)
        .child({ ...(intentId === undefined ? {} : { intentId }), tx: sent.hash })
        .info(`checkout ${what}: ${sent.hash}`);
      return sent.hash;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * `mined`, except that a transaction the node no longer knows (dropped from its pool: evicted, replaced, a
   * node restarted) throws `CHECKOUT_TX_DROPPED` instead of being waited for for ever, which would hold the
   * queue, and with it every round and every API call that sends. The step that sent it looks at the chain
   * again next round and sends anew if it must.
   */
  async #minedOrDropped(sent: TransactionResponse): Promise<void> {
    const provider = this.#options.provider;
    for (;;) {
      try {
        await mined(sent, { timeoutMs: DROP_CHECK_MS });
        return;
      } catch (error) {
        if (!(error instanceof ReceiptTimeoutError)) throw error;
      }
      if ((await provider.getTransaction(sent.hash)) !== null) continue; // still pending
      if ((await provider.getTransactionReceipt(sent.hash)) !== null) continue; // mined in between: read it
      throw new CommerceError("CHECKOUT_TX_DROPPED", `transaction ${sent.hash} was dropped before it was mined`, {
        hash: sent.hash,
      });
    }
  }

  // ── Event handlers (synchronous, store writes only) ──

  #seen(log: FollowedLog): void {
    const event = this.#checkout.interface.parseLog(log);
    if (event === null) return;
    const invoice = this.#options.store.get(event.args.intentId as string);
    if (invoice === undefined || !(invoice.status === "new" || lateAuthorization(invoice))) return;
    this.#options.store.update(
      invoice.intentId,
      {
        status: "paid",
        method: METHODS[Number(event.args.method)]!,
        authorizedTx: log.transactionHash,
        // Whatever sits at the deposit address now (a part paid before another method paid the whole, a return the
        // token refused earlier) goes back: #deposits looks at it next round.
        depositSeen: true,
        ...(invoice.status === "new" ? {} : { exception: null }),
      },
      invoice.status === "new"
        ? `authorized in ${log.transactionHash} (block ${log.blockNumber})`
        : `authorized on chain in ${log.transactionHash} (block ${log.blockNumber}) after the invoice was ${invoice.status} (${invoice.exception ?? "no exception"}): the payment stands`,
    );
  }

  #confirmed(log: FollowedLog): void {
    const event = this.#checkout.interface.parseLog(log);
    if (event === null) return;
    const store = this.#options.store;
    const invoice = store.get(event.args.intentId as string);
    if (invoice === undefined) return;
    const at = `${log.transactionHash} (block ${log.blockNumber})`;
    switch (event.name) {
      case "PaymentAuthorized":
        if (invoice.status === "new" || invoice.status === "paid" || lateAuthorization(invoice)) {
          store.update(
            invoice.intentId,
            {
              ...(invoice.status === "new" || invoice.status === "paid" ? {} : { exception: null }),
              // Seen here first (a block mined between the followers' polls): the deposit address is looked at, as
              // when #seen takes it.
              depositSeen: true,
              status: "confirmed",
              method: METHODS[Number(event.args.method)]! as Method,
              authorizedTx: log.transactionHash,
            },
            `authorization confirmed: ${at}`,
          );
        }
        return;
      case "PaymentCaptured":
        store.update(invoice.intentId, { status: "complete", purchase: "captured" }, `captured: ${at}`);
        return;
      case "PaymentVoided":
        store.update(invoice.intentId, { status: "invalid", purchase: "voided" }, `voided, money back: ${at}`);
        return;
      case "PaymentReclaimed":
        store.update(
          invoice.intentId,
          { status: "invalid", purchase: "voided", exception: invoice.exception ?? "reclaimed" },
          `reclaimed by the payer after the authorization expired: ${at}`,
        );
        return;
      case "PaymentRefunded":
        store.update(
          invoice.intentId,
          { status: "refunded", refunded: event.args.totalRefunded as bigint },
          `refunded ${event.args.amount as bigint}: ${at}`,
        );
        return;
      case "ExcessReturned":
        store.update(
          invoice.intentId,
          { exception: "paidOver" },
          `an overpayment of ${event.args.amount as bigint} went back to the payer: ${at}`,
        );
        return;
      case "DepositReturned":
        store.update(
          invoice.intentId,
          invoice.status === "new" ? { status: "expired", deposited: 0n } : {},
          `${event.args.amount as bigint} at the deposit address went back to the payer: ${at}`,
        );
        return;
    }
  }

  #transfer(log: FollowedLog): void {
    const to = `0x${log.topics[2]!.slice(26)}`;
    const invoice = this.#options.store.byDepositAddress(to);
    if (invoice === undefined || invoice.depositSeen) return;
    this.#options.store.update(invoice.intentId, { depositSeen: true }, "");
  }

  // ── Steps ──

  /** Collects full deposits, notes partial ones, returns what reached a paid or ended invoice. */
  async #deposits(chainNow: bigint): Promise<boolean> {
    const store = this.#options.store;
    let seen = 0;
    for (const invoice of store.each({ depositSeen: true }, this.#options.pageSize)) {
      seen += 1;
      const balance = (await this.#token.getFunction("balanceOf")(invoice.depositAddress)) as bigint;
      if (balance === 0n) {
        store.update(invoice.intentId, { depositSeen: false }, "");
        continue;
      }
      if (invoice.status !== "new") {
        await this.#returnDeposit(invoice, "a payment after the invoice was paid");
        continue;
      }
      if (chainNow > invoice.intent.quoteExpiry) continue; // #expire returns it
      if (balance < invoice.intent.tokenAmount) {
        store.update(
          invoice.intentId,
          { deposited: balance, exception: "paidPartial", depositSeen: false },
          `${balance} of ${invoice.intent.tokenAmount} at the deposit address: waiting for the rest`,
        );
        continue;
      }
      await this.#collect(invoice, balance);
    }
    return seen > 0;
  }

  async #collect(invoice: Invoice, balance: bigint): Promise<void> {
    const store = this.#options.store;
    store.update(invoice.intentId, { deposited: balance, depositSeen: false }, "");
    try {
      await this.send(`collect ${invoice.intentId}`, (checkout) =>
        checkout.authorize(intentTuple(invoice.intent), invoice.operatorSignature, METHODS.indexOf("Deposit"), "0x"),
      );
    } catch (error) {
      const revert = decodeRevert(error, ...REVERT_ABIS);
      if (revert === undefined) {
        store.update(invoice.intentId, { depositSeen: true, lastError: messageOf(error) }, "");
        throw error;
      }
      if (PAUSED.has(revert.errorName)) {
        // A pause passes: the deposit is collected once it ends, or goes back when the quote expires.
        if (invoice.lastError !== revert.message) {
          loggerOf(this.#options.log)
            .child({ intentId: invoice.intentId })
            .warn(`checkout collect ${invoice.intentId} waits: ${revert.message}`);
        }
        store.update(invoice.intentId, { depositSeen: true, lastError: revert.message }, "");
        return;
      }
      if (revert.errorName === "CheckoutIntentUsed") {
        // Paid another way meanwhile (an EIP-3009 authorization, say): this deposit is a second payment.
        await this.#returnDeposit(invoice, "a second payment of a paid intent");
        return;
      }
      // The price moved past its bound, the feed went stale, the token is frozen…: the deposit cannot pay.
      store.update(
        invoice.intentId,
        { status: "invalid", exception: exceptionOf(revert.errorName), lastError: revert.message },
        `the deposit cannot be collected: ${revert.message}`,
      );
      await this.#returnDeposit(store.get(invoice.intentId)!, "a deposit that cannot be collected");
    }
  }

  /**
   * Sends what sits at the invoice's deposit address back to the payer. True when it went back (or nothing was
   * there); false when the chain refused (the token will not pay the payer: frozen, paused): the refusal is noted
   * and the tokens stay at the address, where anyone can return them once the intent is paid or its quote expired.
   * One invoice the token refuses must not stop the rounds of every other one. A failure to reach the chain
   * throws, and the deposit is looked at again next round.
   */
  async #returnDeposit(invoice: Invoice, why: string): Promise<boolean> {
    this.#options.store.update(invoice.intentId, { depositSeen: false }, "");
    try {
      await this.send(`return deposit of ${invoice.intentId} (${why})`, (checkout) =>
        checkout.returnDeposit(intentTuple(invoice.intent), this.#options.token),
      );
      return true;
    } catch (error) {
      const revert = decodeRevert(error, ...REVERT_ABIS);
      if (revert?.errorName === "CheckoutNothingToReturn") return true;
      if (revert === undefined) {
        this.#options.store.update(invoice.intentId, { depositSeen: true, lastError: messageOf(error) }, "");
        throw error;
      }
      this.#options.store.update(
        invoice.intentId,
        { lastError: revert.message },
        `the deposit could not go back to the payer (${why}): ${revert.message}; it stays at the deposit address, and anyone may return it once the token takes it`,
      );
      return false;
    }
  }

  /** Ends the invoices whose quote expired unpaid: what sits at their deposit address goes back. */
  async #expire(chainNow: bigint): Promise<boolean> {
    const store = this.#options.store;
    let worked = false;
    for (const invoice of store.each({ statuses: ["new"] }, this.#options.pageSize)) {
      if (chainNow <= invoice.intent.quoteExpiry) continue;
      worked = true;
      const balance = (await this.#token.getFunction("balanceOf")(invoice.depositAddress)) as bigint;
      if (balance > 0n) {
        if (!(await this.#returnDeposit(invoice, "the quote expired"))) {
          store.update(invoice.intentId, { status: "expired" }, "the quote expired; its deposit could not go back");
        }
        // Otherwise the DepositReturned event ends it as expired; until then it stays new.
        continue;
      }
      const status = await this.#paymentStatus(invoice.intentId);
      if (status !== "None") continue; // authorized at the last second: the followers take it
      store.update(
        invoice.intentId,
        { status: "expired" },
        invoice.deposited > 0n ? "the quote expired before the rest was paid" : "the quote expired unpaid",
      );
    }
    return worked;
  }

  /** Orders the good at the retailer for every confirmed payment whose attempt is due. */
  async #purchases(): Promise<boolean> {
    const { store, retailer, retry } = this.#options;
    let worked = false;
    const due = { statuses: ["confirmed"], purchases: ["none", "ordering"], dueBy: this.#options.now() } as const;
    for (const invoice of store.each(due, this.#options.pageSize)) {
      // The clocks of this moment: an order before this one may have waited on a slow retailer for a while.
      const now = this.#options.now();
      worked = true;
      const chainNow = await this.#chainNow();
      if (chainNow + this.#options.voidMarginSeconds >= invoice.intent.authorizationExpiry) {
        store.update(
          invoice.intentId,
          { purchase: "refused", exception: "retailerUnavailable" },
          `no order before the authorization expires (${invoice.purchaseAttempts} attempts): void`,
        );
        continue;
      }
      const attempts = invoice.purchaseAttempts + 1;
      store.update(invoice.intentId, { purchase: "ordering", purchaseAttempts: attempts }, "");
      this.#options.onStep?.("before-order");
      const result = await retailer.order(invoice.intentId, {
        sku: invoice.sku,
        quantity: invoice.quantity,
        price: invoice.price,
        reference: invoice.intent.orderRef,
      });
      this.#options.onStep?.("after-order");
      switch (result.kind) {
        case "ordered":
          store.update(
            invoice.intentId,
            {
              purchase: "ordered",
              receipt: { orderId: result.orderId, receipt: result.receipt, receiptHash: result.receiptHash },
              lastError: null,
            },
            `ordered at the retailer: order ${result.orderId}, receipt ${result.receiptHash}`,
          );
          break;
        case "refused":
          store.update(
            invoice.intentId,
            { purchase: "refused", exception: result.code, lastError: result.message },
            `the retailer refused: ${result.code}: ${result.message}`,
          );
          break;
        case "unavailable":
          store.update(
            invoice.intentId,
            { nextAttemptAt: now + retryDelay(retry, attempts), lastError: result.message },
            `the retailer is unavailable (attempt ${attempts}): ${result.message}`,
          );
          break;
      }
    }
    return worked;
  }

  /** Captures the ordered payments and voids the refused ones. */
  async #settle(): Promise<boolean> {
    const { store } = this.#options;
    let due = 0;
    const filter = { statuses: ["confirmed"], purchases: ["ordered", "capturing", "refused", "voiding"] } as const;
    for (const invoice of store.each(filter, this.#options.pageSize)) {
      due += 1;
      const capturing = invoice.purchase === "ordered" || invoice.purchase === "capturing";
      if (invoice.settleTx !== null) {
        const receipt = await this.#options.provider.getTransactionReceipt(invoice.settleTx);
        if (receipt === null && (await this.#pending(invoice.settleTx))) continue; // still on its way
      }
      const status = await this.#paymentStatus(invoice.intentId);
      if (status !== "Authorized") continue; // captured or voided: the confirmed follower records it
      this.#options.onStep?.(capturing ? "before-capture" : "before-void");
      try {
        if (capturing) {
          const receiptHash = invoice.receipt!.receiptHash;
          const signature = await signCapture(this.#options.operator, this.#domain, invoice.intentId, receiptHash);
          await this.send(
            `capture ${invoice.intentId}`,
            (checkout) => checkout.capture(intentTuple(invoice.intent), receiptHash, signature),
            (hash) =>
              store.update(invoice.intentId, { purchase: "capturing", settleTx: hash }, `capture sent: ${hash}`),
          );
        } else {
          await this.send(
            `void ${invoice.intentId}`,
            (checkout) => checkout.void(intentTuple(invoice.intent)),
            (hash) => store.update(invoice.intentId, { purchase: "voiding", settleTx: hash }, `void sent: ${hash}`),
          );
        }
      } catch (error) {
        const revert = decodeRevert(error, ...REVERT_ABIS);
        store.update(invoice.intentId, { settleTx: null, lastError: revert?.message ?? messageOf(error) }, "");
        if (revert === undefined) throw error;
        if (capturing && revert.errorName === "CheckoutAuthorizationExpired") {
          // Bought, but too late to capture: give the money back and leave the order to the operator.
          store.update(
            invoice.intentId,
            { purchase: "refused", exception: "captureExpired" },
            "the authorization expired before the capture: void, and settle the order by hand",
          );
        }
      }
    }
    return due > 0;
  }

  async #pending(hash: string): Promise<boolean> {
    return (await this.#options.provider.getTransaction(hash)) !== null;
  }

  async #paymentStatus(intentId: string): Promise<(typeof PAYMENT_STATUSES)[number]> {
    const payment = await this.#checkout.paymentOf(intentId);
    return PAYMENT_STATUSES[Number(payment.status)]!;
  }

  async #chainNow(): Promise<bigint> {
    const block = await this.#options.provider.getBlock("latest");
    const wall = BigInt(Math.floor(this.#options.now() / 1000));
    return block === null ? wall : BigInt(block.timestamp) > wall ? BigInt(block.timestamp) : wall;
  }
}

/**
 * An invoice the service gave up on before any purchase (expired, or invalid because its deposit could not be
 * collected) whose intent the chain then authorized all the same (the payer's own `authorize` once the price was
 * back, say): the contract's checks passed, so the payment stands and is bought like any other.
 */
function lateAuthorization(invoice: Invoice): boolean {
  return (invoice.status === "expired" || invoice.status === "invalid") && invoice.purchase === "none";
}

/** An invoice's exception for a contract refusal of a deposit. */
function exceptionOf(error: string): string {
  switch (error) {
    case "CheckoutPriceDeviation":
      return "priceMoved";
    case "CheckoutStalePrice":
    case "CheckoutInvalidPrice":
      return "priceUnavailable";
    case "CheckoutQuoteExpired":
      return "paidLate";
    default:
      return error;
  }
}

export type { PaymentIntent };
