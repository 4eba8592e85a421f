/**
 * The checkout service's SQLite records (docs/commerce.md, "Invoices"): one row per invoice (a signed intent and
 * where its payment and its purchase stand) and the history of each change. Every write is one transaction, so a
 * crash leaves an invoice either before or after a step, never between.
 *
 * Two state machines share a row. `status` is what the client sees, derived from the chain's events:
 * new → paid → confirmed → complete → refunded, or expired / invalid. `purchase` is the retailer side, driven by
 * the service: none → ordering → ordered → capturing, or refused → voiding; an order's outcome lands in the row
 * with its receipt in the same transaction that ends the attempt.
 */
import type { Provider, Wallet } from "ethers";

import type { Store } from "../store/store.js";
import { intentFromJson, intentToJson, type Method, type PaymentIntent } from "./intent.js";

/** What the client sees of an invoice (BitPay's invoice states, without their "paidLate"). */
export const INVOICE_STATUSES = ["new", "paid", "confirmed", "complete", "expired", "invalid", "refunded"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** Where the purchase at the retailer stands. */
export const PURCHASE_STATES = [
  "none",
  "ordering",
  "ordered",
  "capturing",
  "captured",
  "refused",
  "voiding",
  "voided",
] as const;
export type PurchaseState = (typeof PURCHASE_STATES)[number];

/** A retailer's receipt as stored (the JSON it sent) with its hash. */
export interface StoredReceipt {
  readonly orderId: string;
  readonly receipt: Record<string, unknown>;
  readonly receiptHash: string;
}

/** What the quote service and the processor share: the invoices, the chain, the checkout and its operator. */
export interface CheckoutContext {
  readonly store: InvoiceStore;
  readonly provider: Provider;
  /** The Checkout's address. */
  readonly checkout: string;
  /** The token it takes here. */
  readonly token: string;
  readonly chainId: bigint;
  /** The operator's key: signs intents and captures and sends every transaction of the service. */
  readonly operator: Wallet;
}

/** An invoice as the store keeps it: what the quote made (`NewInvoice`) and where it stands. */
export interface Invoice extends NewInvoice {
  readonly status: InvoiceStatus;
  /** Why an invoice is not plain: `paidPartial`, `paidOver`, `retailerDeclined`, `retailerUnavailable`, … */
  readonly exception: string | null;
  readonly method: Method | null;
  /** What the deposit address held when last looked at (a partial payment shows here). */
  readonly deposited: bigint;
  /** A transfer to the deposit address is waiting to be looked at. */
  readonly depositSeen: boolean;
  readonly authorizedTx: string | null;
  readonly purchase: PurchaseState;
  readonly purchaseAttempts: number;
  /** When (ms) the next order attempt may run. */
  readonly nextAttemptAt: number;
  readonly receipt: StoredReceipt | null;
  readonly settleTx: string | null;
  readonly refunded: bigint;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface InvoiceRow {
  intent_id: string;
  intent: string;
  operator_signature: string;
  deposit_address: string;
  sku: string;
  quantity: number;
  price_amount: string;
  price_currency: string;
  status: string;
  exception: string | null;
  method: string | null;
  deposited: string;
  deposit_seen: number;
  authorized_tx: string | null;
  purchase: string;
  purchase_attempts: number;
  next_attempt_at: number;
  order_id: string | null;
  receipt: string | null;
  receipt_hash: string | null;
  settle_tx: string | null;
  refunded: string;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "invoices and their history",
    sql: `CREATE TABLE checkout_invoices (
      intent_id TEXT PRIMARY KEY,
      intent TEXT NOT NULL,
      operator_signature TEXT NOT NULL,
      deposit_address TEXT NOT NULL UNIQUE,
      sku TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      price_amount TEXT NOT NULL,
      price_currency TEXT NOT NULL,
      status TEXT NOT NULL,
      exception TEXT,
      method TEXT,
      deposited TEXT NOT NULL DEFAULT '0',
      deposit_seen INTEGER NOT NULL DEFAULT 0,
      authorized_tx TEXT,
      purchase TEXT NOT NULL DEFAULT 'none',
      purchase_attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      order_id TEXT,
      receipt TEXT,
      receipt_hash TEXT,
      settle_tx TEXT,
      refunded TEXT NOT NULL DEFAULT '0',
      last_error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX checkout_invoices_status ON checkout_invoices (status, purchase);
    CREATE TABLE checkout_history (
      id INTEGER PRIMARY KEY,
      intent_id TEXT NOT NULL REFERENCES checkout_invoices (intent_id),
      at INTEGER NOT NULL,
      status TEXT NOT NULL,
      purchase TEXT NOT NULL,
      note TEXT NOT NULL
    ) STRICT;`,
  },
];

/** What a quote records: the signed intent, where to pay it and what it buys. */
export interface NewInvoice {
  readonly intentId: string;
  readonly intent: PaymentIntent;
  readonly operatorSignature: string;
  readonly depositAddress: string;
  readonly sku: string;
  readonly quantity: number;
  readonly price: { readonly amount: bigint; readonly currency: string };
}

/** Which invoices `list` and `each` find. */
export interface InvoiceFilter {
  readonly statuses?: readonly InvoiceStatus[];
  readonly purchases?: readonly PurchaseState[];
  readonly depositSeen?: boolean;
  /** Only those whose next order attempt is due by this time (ms). */
  readonly dueBy?: number;
  /** Only those after this one in the order `list` reads (oldest first, then by id). */
  readonly after?: { readonly createdAt: number; readonly intentId: string };
  /** Only those before this one in that order (older, or as old with a smaller id): the newest-first pages. */
  readonly before?: { readonly createdAt: number; readonly intentId: string };
}

/** A change to an invoice: only the fields given change. */
export interface InvoiceChange {
  readonly status?: InvoiceStatus;
  readonly exception?: string | null;
  readonly method?: Method;
  readonly deposited?: bigint;
  readonly depositSeen?: boolean;
  readonly authorizedTx?: string;
  readonly purchase?: PurchaseState;
  readonly purchaseAttempts?: number;
  readonly nextAttemptAt?: number;
  readonly receipt?: StoredReceipt;
  readonly settleTx?: string | null;
  readonly refunded?: bigint;
  readonly lastError?: string | null;
}

export class InvoiceStore {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
    store.migrate("commerce.invoices", MIGRATIONS);
  }

  /** The underlying store (the followers checkpoint in it, in the same transactions). */
  get store(): Store {
    return this.#store;
  }

  /** Records a new invoice (status new). */
  add(invoice: NewInvoice): Invoice {
    const now = this.#now();
    this.#store.transaction(() => {
      this.#store.run(
        `INSERT INTO checkout_invoices (intent_id, intent, operator_signature, deposit_address, sku, quantity,
           price_amount, price_currency, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?)`,
        invoice.intentId.toLowerCase(),
        JSON.stringify(intentToJson(invoice.intent)),
        invoice.operatorSignature,
        invoice.depositAddress.toLowerCase(),
        invoice.sku,
        invoice.quantity,
        invoice.price.amount.toString(),
        invoice.price.currency,
        now,
        now,
      );
      this.#history(invoice.intentId, "new", "none", "quoted", now);
    });
    return this.get(invoice.intentId)!;
  }

  get(intentId: string): Invoice | undefined {
    const row = this.#store.get<InvoiceRow>(
      "SELECT * FROM checkout_invoices WHERE intent_id = ?",
      intentId.toLowerCase(),
    );
    return row === undefined ? undefined : toInvoice(row);
  }

  /** The invoice whose deposit address is `address`. */
  byDepositAddress(address: string): Invoice | undefined {
    const row = this.#store.get<InvoiceRow>(
      "SELECT * FROM checkout_invoices WHERE deposit_address = ?",
      address.toLowerCase(),
    );
    return row === undefined ? undefined : toInvoice(row);
  }

  /**
   * Invoices in one of `statuses` and one of `purchases`, oldest first (newest first with `newestFirst`), then by
   * id, at most `limit` (default 100).
   */
  list(options: InvoiceFilter & { readonly limit?: number; readonly newestFirst?: boolean }): Invoice[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.statuses !== undefined) {
      where.push(`status IN (${options.statuses.map(() => "?").join(", ")})`);
      params.push(...options.statuses);
    }
    if (options.purchases !== undefined) {
      where.push(`purchase IN (${options.purchases.map(() => "?").join(", ")})`);
      params.push(...options.purchases);
    }
    if (options.depositSeen !== undefined) {
      where.push("deposit_seen = ?");
      params.push(options.depositSeen ? 1 : 0);
    }
    if (options.dueBy !== undefined) {
      where.push("next_attempt_at <= ?");
      params.push(options.dueBy);
    }
    if (options.after !== undefined) {
      where.push("(created_at > ? OR (created_at = ? AND intent_id > ?))");
      params.push(options.after.createdAt, options.after.createdAt, options.after.intentId);
    }
    if (options.before !== undefined) {
      where.push("(created_at < ? OR (created_at = ? AND intent_id < ?))");
      params.push(options.before.createdAt, options.before.createdAt, options.before.intentId.toLowerCase());
    }
    const order = options.newestFirst === true ? "created_at DESC, intent_id DESC" : "created_at, intent_id";
    const sql = `SELECT * FROM checkout_invoices ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
      ORDER BY ${order} LIMIT ?`;
    return this.#store.all<InvoiceRow>(sql, ...params, options.limit ?? 100).map(toInvoice);
  }

  /**
   * Every invoice `filter` finds, oldest first, read `pageSize` at a time: the next page is read (after the last
   * invoice handed out) once the one before is used up, so invoices a step leaves where they are never hide the
   * ones after them, however many there are.
   */
  *each(filter: InvoiceFilter, pageSize: number): Generator<Invoice, void, undefined> {
    let after: InvoiceFilter["after"];
    for (;;) {
      const page = this.list({ ...filter, ...(after === undefined ? {} : { after }), limit: pageSize });
      yield* page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1]!;
      after = { createdAt: last.createdAt, intentId: last.intentId };
    }
  }

  /** Applies `change` to the invoice and notes it in its history; returns the invoice as it now is. */
  update(intentId: string, change: InvoiceChange, note: string): Invoice {
    const now = this.#now();
    return this.#store.transaction(() => {
      const current = this.get(intentId);
      if (current === undefined) throw new Error(`no invoice ${intentId}`);
      const sets: string[] = ["updated_at = ?"];
      const params: (string | number | null)[] = [now];
      const set = (column: string, value: string | number | null) => {
        sets.push(`${column} = ?`);
        params.push(value);
      };
      if (change.status !== undefined) set("status", change.status);
      if (change.exception !== undefined) set("exception", change.exception);
      if (change.method !== undefined) set("method", change.method);
      if (change.deposited !== undefined) set("deposited", change.deposited.toString());
      if (change.depositSeen !== undefined) set("deposit_seen", change.depositSeen ? 1 : 0);
      if (change.authorizedTx !== undefined) set("authorized_tx", change.authorizedTx);
      if (change.purchase !== undefined) set("purchase", change.purchase);
      if (change.purchaseAttempts !== undefined) set("purchase_attempts", change.purchaseAttempts);
      if (change.nextAttemptAt !== undefined) set("next_attempt_at", change.nextAttemptAt);
      if (change.receipt !== undefined) {
        set("order_id", change.receipt.orderId);
        set("receipt", JSON.stringify(change.receipt.receipt));
        set("receipt_hash", change.receipt.receiptHash);
      }
      if (change.settleTx !== undefined) set("settle_tx", change.settleTx);
      if (change.refunded !== undefined) set("refunded", change.refunded.toString());
      if (change.lastError !== undefined) set("last_error", change.lastError);
      this.#store.run(
        `UPDATE checkout_invoices SET ${sets.join(", ")} WHERE intent_id = ?`,
        ...params,
        intentId.toLowerCase(),
      );
      const updated = this.get(intentId)!;
      if (updated.status !== current.status || updated.purchase !== current.purchase || note !== "") {
        this.#history(intentId, updated.status, updated.purchase, note, now);
      }
      return updated;
    });
  }

  /** The invoice's history, oldest first. */
  history(intentId: string): { at: number; status: string; purchase: string; note: string }[] {
    return this.#store.all(
      "SELECT at, status, purchase, note FROM checkout_history WHERE intent_id = ? ORDER BY id",
      intentId.toLowerCase(),
    );
  }

  /** How many invoices are in each status (for health and the benchmark). */
  counts(): Record<string, number> {
    const rows = this.#store.all<{ status: string; n: number }>(
      "SELECT status, COUNT(*) AS n FROM checkout_invoices GROUP BY status",
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  check(): void {
    this.#store.check();
  }

  #history(intentId: string, status: string, purchase: string, note: string, at: number): void {
    this.#store.run(
      "INSERT INTO checkout_history (intent_id, at, status, purchase, note) VALUES (?, ?, ?, ?, ?)",
      intentId.toLowerCase(),
      at,
      status,
      purchase,
      note,
    );
  }
}

function toInvoice(row: InvoiceRow): Invoice {
  return {
    intentId: row.intent_id,
    intent: intentFromJson(JSON.parse(row.intent)),
    operatorSignature: row.operator_signature,
    depositAddress: row.deposit_address,
    sku: row.sku,
    quantity: row.quantity,
    price: { amount: BigInt(row.price_amount), currency: row.price_currency },
    status: row.status as InvoiceStatus,
    exception: row.exception,
    method: row.method as Method | null,
    deposited: BigInt(row.deposited),
    depositSeen: row.deposit_seen === 1,
    authorizedTx: row.authorized_tx,
    purchase: row.purchase as PurchaseState,
    purchaseAttempts: row.purchase_attempts,
    nextAttemptAt: row.next_attempt_at,
    receipt:
      row.order_id === null || row.receipt === null || row.receipt_hash === null
        ? null
        : {
            orderId: row.order_id,
            receipt: JSON.parse(row.receipt) as Record<string, unknown>,
            receiptHash: row.receipt_hash,
          },
    settleTx: row.settle_tx,
    refunded: BigInt(row.refunded),
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
