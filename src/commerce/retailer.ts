/**
 * The devnet retailer (issue 20, "Retailer"): a third-party shop that sells for fiat, which the platform buys
 * from once a client's token payment is authorized. A real HTTP server on the service kit (`chain/http.ts`), on
 * 127.0.0.1, documented at `/openapi.json`, with its orders in SQLite:
 *
 *   GET  /catalogue               the items, prices in minor units of their currency
 *   POST /orders                  buy (header `Idempotency-Key`)   → 201 the order and its receipt; 200 a replay
 *   GET  /orders/:orderId         one order
 *   POST /orders/:orderId/cancel  cancel it (the refund path)      → 200 the cancelled order
 *   POST /admin/failures          the next order requests fail on purpose (built with `admin: true` only)
 *   GET  /admin/orders            every order (built with `admin: true` only)
 *
 * Idempotency: the key and what it answered are written in the same SQLite transaction as the order (deferred
 * foreign keys both ways, so the database itself refuses to commit one without the other). The same key with the
 * same request answers the same order and receipt (200), after a restart too; with another request it is refused
 * (422 `RETAILER_IDEMPOTENCY_MISMATCH`). A purchase the retailer refuses (payment declined, out of stock) is
 * remembered under its key like an order; a request refused before any purchase (a malformed body, an unknown sku,
 * a stale price, the shop down) stores nothing, so the same key may be used again once the request is right.
 *
 * Every refusal is `{ "error": { "code", "message", "field"? } }` with a 4xx status (5xx for "down").
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";

import { JsonHttpServer, route, type HealthProbe } from "../chain/http.js";
import { isDevnet } from "../chain/networks.js";
import { serviceOwningStore, type Service, type ServiceContext, type ServiceFactory } from "../chain/service.js";
import { choice, int, settingsSchema } from "../chain/settings.js";
import { Store } from "../store/store.js";
import { CommerceError, commerceStatus } from "./errors.js";
import {
  amountSchema,
  canonicalJson,
  currencySchema,
  MAX_AMOUNT,
  parseReceipt,
  receiptHash,
  receiptSchema,
  referenceSchema,
  type Receipt,
} from "./receipt.js";

/** The service's name in `npm start`, health and logs. */
export const RETAILER_SERVICE_NAME = "retailer";

/** The retailer's default port on 127.0.0.1. */
export const DEFAULT_RETAILER_PORT = 8660;

/** The name printed on the devnet retailer's receipts. */
export const DEFAULT_RETAILER_NAME = "BankChain Devnet Retailer";

/** How long a "slow" failure waits before answering. */
export const RETAILER_SLOW_MS = 2_000;

/** Most order quantity per line. */
export const MAX_QUANTITY = 10;

/** The largest request body the retailer reads. */
export const RETAILER_MAX_BODY_BYTES = 4 * 1024;

/** The retailer's environment. */
export const RETAILER_SETTINGS = settingsSchema(RETAILER_SERVICE_NAME, {
  RETAILER_PORT: int("port of the devnet retailer on 127.0.0.1 (0 picks a free one)", DEFAULT_RETAILER_PORT, 0, 65_535),
  RETAILER_ADMIN: choice(
    "whether the retailer serves /admin/failures and /admin/orders (failures on demand, for tests and the demo)",
    { devnet: "on", elsewhere: "off" },
    ["on", "off"],
  ),
});

/** One item for sale: its price is per unit, in minor units of `currency`. */
export interface CatalogueItem {
  readonly sku: string;
  readonly title: string;
  readonly price: { readonly amount: bigint; readonly currency: string };
}

/** The devnet's fixed catalogue. */
export const DEVNET_CATALOGUE: readonly CatalogueItem[] = Object.freeze([
  { sku: "sku-espresso", title: "Espresso machine cleaning kit", price: { amount: 1999n, currency: "EUR" } },
  { sku: "sku-headphones", title: "Headphones", price: { amount: 8999n, currency: "USD" } },
  { sku: "sku-book", title: "A book", price: { amount: 2500n, currency: "USD" } },
]);

/** How an order request fails on demand. */
export const FAILURE_MODES = ["down", "decline", "out-of-stock", "slow"] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

/**
 * `Idempotency-Key`: 1 to 128 printable ASCII characters, neither starting nor ending with a space (HTTP trims
 * those, so they could not be told apart).
 */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/, "must be 1 to 128 printable ASCII characters")
  .openapi({ description: "the client's key for this purchase: the same key buys once", example: "intent-0x12ab" });

/** What `POST /orders` takes. */
export const orderRequestSchema = z
  .object({
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(MAX_QUANTITY),
    price: z
      .object({ amount: amountSchema, currency: currencySchema })
      .strict()
      .openapi({ description: "the total the client expects to pay: the catalogue's unit price × quantity" }),
    reference: referenceSchema,
  })
  .strict()
  .openapi("OrderRequest");

export type OrderRequest = z.output<typeof orderRequestSchema>;

const priceView = z.object({ amount: z.string(), currency: z.string() });

const catalogueView = z
  .object({ items: z.array(z.object({ sku: z.string(), title: z.string(), price: priceView })) })
  .openapi("Catalogue");

/** An order as the retailer shows it. */
export const orderView = z
  .object({
    orderId: z.string().openapi({ description: "sequential: ORD-000001, ORD-000002, …" }),
    status: z.enum(["paid", "cancelled"]),
    sku: z.string(),
    quantity: z.number().int(),
    price: priceView,
    reference: z.string(),
    retailer: z.string(),
    paidAt: z.number().int(),
    cancelledAt: z.number().int().nullable(),
    receipt: receiptSchema,
    receiptHash: z.string().openapi({ description: "keccak256 of the receipt's canonical JSON" }),
  })
  .openapi("Order");

export type OrderView = z.output<typeof orderView>;

/** What an order request answers: 201 a new order, 200 the order this key bought before. */
export interface OrderOutcome {
  readonly status: 200 | 201;
  readonly order: OrderView;
}

/** One pending failure on demand. */
export interface PendingFailure {
  readonly mode: FailureMode;
  readonly count: number;
}

export interface RetailerOptions {
  readonly store: Store;
  /** Printed on receipts; default `DEFAULT_RETAILER_NAME`. */
  readonly name?: string;
  readonly catalogue?: readonly CatalogueItem[];
  /** Unix seconds now. */
  readonly now?: () => number;
  /** How long a "slow" failure waits; default `RETAILER_SLOW_MS`. */
  readonly slowMs?: number;
  /**
   * Called inside the order's transaction once the order row is written and before its idempotency record is: a
   * throw there is a crash between the two writes (the tests use it; nothing else does).
   */
  readonly onStep?: (point: "order:written") => void;
}

const MIGRATIONS = [
  {
    version: 1,
    name: "orders and idempotency keys",
    sql: `
      CREATE TABLE retailer_orders (
        order_id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE
          REFERENCES retailer_idempotency (idempotency_key) DEFERRABLE INITIALLY DEFERRED,
        status TEXT NOT NULL CHECK (status IN ('paid', 'cancelled')),
        receipt TEXT NOT NULL,
        receipt_hash TEXT NOT NULL,
        cancelled_at INTEGER
      ) STRICT;
      CREATE TABLE retailer_idempotency (
        idempotency_key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        order_id INTEGER UNIQUE REFERENCES retailer_orders (order_id) DEFERRABLE INITIALLY DEFERRED,
        refusal_code TEXT,
        refusal_message TEXT,
        created_at INTEGER NOT NULL,
        CHECK ((order_id IS NULL) = (refusal_code IS NOT NULL)),
        CHECK ((refusal_code IS NULL) = (refusal_message IS NULL))
      ) STRICT;
    `,
  },
];

interface OrderRow {
  order_id: number;
  status: "paid" | "cancelled";
  receipt: string;
  receipt_hash: string;
  cancelled_at: number | null;
}

interface KeyRow {
  request_hash: string;
  order_id: number | null;
  refusal_code: string | null;
  refusal_message: string | null;
}

const ORDER_COLUMNS = "order_id, status, receipt, receipt_hash, cancelled_at";

/** The order id of sequence number `n`. */
export function formatOrderId(n: number): string {
  return `ORD-${String(n).padStart(6, "0")}`;
}

/** The sequence number of `orderId`, or undefined when it is not one `formatOrderId` writes. */
function parseOrderId(orderId: string): number | undefined {
  const match = /^ORD-([0-9]{6,15})$/.exec(orderId);
  if (match === null) return undefined;
  const n = Number(match[1]);
  return formatOrderId(n) === orderId ? n : undefined;
}

/** The request's fingerprint: keccak256 of its canonical JSON (reference in lower case). */
function requestHash(request: OrderRequest): string {
  return keccak256(
    toUtf8Bytes(
      canonicalJson({
        sku: request.sku,
        quantity: request.quantity,
        price: { amount: request.price.amount, currency: request.price.currency },
        reference: request.reference.toLowerCase(),
      }),
    ),
  );
}

/** The retailer's logic and store, transport-free (`retailerHttpServer` serves it). */
export class Retailer {
  readonly #store: Store;
  readonly #name: string;
  readonly #catalogue: ReadonlyMap<string, CatalogueItem>;
  readonly #now: () => number;
  readonly #slowMs: number;
  readonly #onStep: ((point: "order:written") => void) | undefined;
  readonly #failures: { mode: FailureMode; count: number }[] = [];

  constructor(options: RetailerOptions) {
    options.store.migrate("retailer", MIGRATIONS);
    this.#store = options.store;
    this.#name = options.name ?? DEFAULT_RETAILER_NAME;
    this.#catalogue = new Map((options.catalogue ?? DEVNET_CATALOGUE).map((item) => [item.sku, item]));
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#slowMs = options.slowMs ?? RETAILER_SLOW_MS;
    this.#onStep = options.onStep;
  }

  /** The name on this retailer's receipts. */
  get name(): string {
    return this.#name;
  }

  /** The catalogue, prices as integer strings. */
  catalogue(): { items: { sku: string; title: string; price: { amount: string; currency: string } }[] } {
    return {
      items: [...this.#catalogue.values()].map(({ sku, title, price }) => ({
        sku,
        title,
        price: { amount: price.amount.toString(), currency: price.currency },
      })),
    };
  }

  /**
   * Buys `request` under `key`, or answers what `key` answered before. Throws `CommerceError`:
   * `RETAILER_UNAVAILABLE` ("down" on demand), `RETAILER_IDEMPOTENCY_MISMATCH` (the key was used for another
   * request), `RETAILER_UNKNOWN_SKU`, `RETAILER_PRICE_CHANGED` (the price is not the catalogue's × quantity, or in
   * another currency), and, remembered under the key, `RETAILER_PAYMENT_DECLINED` and `RETAILER_OUT_OF_STOCK`.
   */
  async order(key: string, request: OrderRequest): Promise<OrderOutcome> {
    // "down" and "slow" stand for the transport: any order request meets them, a replayed key too.
    const head = this.#failures[0];
    if (head?.mode === "down" || head?.mode === "slow") {
      this.#consumeFailure();
      if (head.mode === "down") {
        throw new CommerceError("RETAILER_UNAVAILABLE", "the retailer is down (failure on demand); try again later", {
          mode: head.mode,
        });
      }
      await sleep(this.#slowMs);
    }
    const fingerprint = requestHash(request);
    // Synchronous from here to the commit: no other request interleaves between the lookup and the writes.
    const outcome = this.#store.transaction(() => {
      const known = this.#store.get<KeyRow>(
        "SELECT request_hash, order_id, refusal_code, refusal_message FROM retailer_idempotency WHERE idempotency_key = ?",
        key,
      );
      if (known !== undefined) return { kind: "known" as const, known };
      this.#checkPrice(request);
      const purchase = this.#failures[0]?.mode;
      if (purchase === "decline" || purchase === "out-of-stock") {
        const refusal =
          purchase === "decline"
            ? { code: "RETAILER_PAYMENT_DECLINED", message: "the retailer's card payment was declined" }
            : { code: "RETAILER_OUT_OF_STOCK", message: `${request.sku} is out of stock` };
        this.#store.run(
          "INSERT INTO retailer_idempotency (idempotency_key, request_hash, order_id, refusal_code, refusal_message, created_at) VALUES (?, ?, NULL, ?, ?, ?)",
          key,
          fingerprint,
          refusal.code,
          refusal.message,
          this.#now(),
        );
        return { kind: "refused" as const, refusal };
      }
      return { kind: "created" as const, orderId: this.#create(key, fingerprint, request) };
    });
    if (outcome.kind === "known") {
      const { known } = outcome;
      if (known.request_hash !== fingerprint) {
        throw new CommerceError(
          "RETAILER_IDEMPOTENCY_MISMATCH",
          "this Idempotency-Key was used for another request; use a new key for a new purchase",
          { field: "idempotency-key" },
        );
      }
      if (known.order_id === null) {
        throw new CommerceError(known.refusal_code ?? "RETAILER_PAYMENT_DECLINED", known.refusal_message ?? "", {
          replayed: true,
        });
      }
      return { status: 200, order: this.get(formatOrderId(known.order_id)) };
    }
    // Committed: only now does the failure on demand count as used.
    if (outcome.kind === "refused") {
      this.#consumeFailure();
      throw new CommerceError(outcome.refusal.code, outcome.refusal.message, { sku: request.sku });
    }
    return { status: 201, order: this.get(outcome.orderId) };
  }

  /** The order `orderId`; `RETAILER_UNKNOWN_ORDER` when there is none. */
  get(orderId: string): OrderView {
    const n = parseOrderId(orderId);
    const row =
      n === undefined
        ? undefined
        : this.#store.get<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM retailer_orders WHERE order_id = ?`, n);
    if (row === undefined) {
      throw new CommerceError("RETAILER_UNKNOWN_ORDER", `no order ${orderId}`, { field: "orderId", orderId });
    }
    return viewOf(row);
  }

  /**
   * Cancels the order (the refund path): a paid order becomes cancelled; cancelling a cancelled order changes
   * nothing and answers it again. `RETAILER_UNKNOWN_ORDER` when there is none.
   */
  cancel(orderId: string): OrderView {
    const view = this.get(orderId);
    if (view.status === "paid") {
      this.#store.run(
        "UPDATE retailer_orders SET status = 'cancelled', cancelled_at = ? WHERE order_id = ? AND status = 'paid'",
        this.#now(),
        parseOrderId(orderId)!,
      );
    }
    return this.get(orderId);
  }

  /** Every order, oldest first. */
  orders(): OrderView[] {
    return this.#store
      .all<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM retailer_orders ORDER BY order_id`)
      .map((row) => viewOf(row));
  }

  /**
   * Makes the next `count` order requests fail as `mode` (after any failures already pending): "down" answers
   * 503 and stores nothing; "slow" waits `slowMs` and then serves the request; "decline" and "out-of-stock"
   * refuse the next new purchases (a replayed key does not use them up). Returns what is pending.
   */
  injectFailures(mode: FailureMode, count: number): PendingFailure[] {
    this.#failures.push({ mode, count });
    return this.pendingFailures();
  }

  /** The failures on demand still to come, in order. */
  pendingFailures(): PendingFailure[] {
    return this.#failures.map(({ mode, count }) => ({ mode, count }));
  }

  /** Throws when the store is broken. */
  check(): void {
    this.#store.check();
  }

  #consumeFailure(): void {
    const head = this.#failures[0];
    if (head === undefined) return;
    head.count -= 1;
    if (head.count <= 0) this.#failures.shift();
  }

  #checkPrice(request: OrderRequest): void {
    const item = this.#catalogue.get(request.sku);
    if (item === undefined) {
      throw new CommerceError("RETAILER_UNKNOWN_SKU", `no item ${JSON.stringify(request.sku)} in the catalogue`, {
        field: "sku",
        sku: request.sku,
      });
    }
    const total = item.price.amount * BigInt(request.quantity);
    if (total > MAX_AMOUNT) {
      throw new CommerceError("RETAILER_PRICE_CHANGED", `the total ${total} is beyond what the retailer sells`, {
        field: "price",
      });
    }
    if (request.price.currency !== item.price.currency || BigInt(request.price.amount) !== total) {
      throw new CommerceError(
        "RETAILER_PRICE_CHANGED",
        `${request.quantity} × ${request.sku} costs ${total} ${item.price.currency} (minor units), not ${request.price.amount} ${request.price.currency}`,
        {
          field: "price",
          expected: { amount: total.toString(), currency: item.price.currency },
          got: request.price,
        },
      );
    }
  }

  /** Writes the order and then its idempotency record (inside the caller's transaction); returns the order id. */
  #create(key: string, fingerprint: string, request: OrderRequest): string {
    const last = this.#store.get<{ n: number | null }>("SELECT MAX(order_id) AS n FROM retailer_orders");
    const n = (last?.n ?? 0) + 1;
    const item = this.#catalogue.get(request.sku)!;
    const receipt: Receipt = parseReceipt({
      orderId: formatOrderId(n),
      reference: request.reference.toLowerCase(),
      sku: request.sku,
      quantity: request.quantity,
      amount: request.price.amount,
      currency: item.price.currency,
      paidAt: this.#now(),
      retailer: this.#name,
    });
    this.#store.run(
      "INSERT INTO retailer_orders (order_id, idempotency_key, status, receipt, receipt_hash, cancelled_at) VALUES (?, ?, 'paid', ?, ?, NULL)",
      n,
      key,
      canonicalJson({ ...receipt }),
      receiptHash(receipt),
    );
    this.#onStep?.("order:written");
    this.#store.run(
      "INSERT INTO retailer_idempotency (idempotency_key, request_hash, order_id, refusal_code, refusal_message, created_at) VALUES (?, ?, ?, NULL, NULL, ?)",
      key,
      fingerprint,
      n,
      receipt.paidAt,
    );
    return receipt.orderId;
  }
}

function viewOf(row: OrderRow): OrderView {
  const receipt = parseReceipt(JSON.parse(row.receipt) as unknown);
  return {
    orderId: receipt.orderId,
    status: row.status,
    sku: receipt.sku,
    quantity: receipt.quantity,
    price: { amount: receipt.amount, currency: receipt.currency },
    reference: receipt.reference,
    retailer: receipt.retailer,
    paidAt: receipt.paidAt,
    cancelledAt: row.cancelled_at,
    receipt,
    receiptHash: row.receipt_hash,
  };
}

export interface RetailerHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  /** Whether to serve `/admin/*` (failures on demand, the order list). */
  readonly admin: boolean;
  /** The health probe; default: the store only (the retailer uses no chain). */
  readonly health?: HealthProbe;
}

const orderIdParam = z.object({
  orderId: z
    .string()
    .regex(/^ORD-[0-9]{6,15}$/, "must be an order id such as ORD-000001")
    .openapi({ description: "the order id the retailer gave" }),
});

const idempotencyHeaders = z.object({ "idempotency-key": idempotencyKeySchema });

const failuresBody = z
  .object({ mode: z.enum(FAILURE_MODES), count: z.number().int().min(1).max(1_000) })
  .strict()
  .openapi("RetailerFailures");

const failuresView = z
  .object({ pending: z.array(z.object({ mode: z.enum(FAILURE_MODES), count: z.number().int() })) })
  .openapi("RetailerPendingFailures");

/** The retailer's API server (not started). */
export function retailerHttpServer(retailer: Retailer, options: RetailerHttpOptions): JsonHttpServer {
  const admin = [
    route({
      method: "POST",
      path: "/admin/failures",
      summary: "make the next order requests fail: down (503), decline (402), out-of-stock (409) or slow (2 s)",
      body: failuresBody,
      responses: { 200: { description: "the failures now pending, in order", schema: failuresView } },
      handle: ({ body }) => ({ status: 200, body: { pending: retailer.injectFailures(body.mode, body.count) } }),
    }),
    route({
      method: "GET",
      path: "/admin/orders",
      summary: "every order, oldest first",
      responses: {
        200: { description: "the orders", schema: z.object({ orders: z.array(orderView) }).openapi("OrderList") },
      },
      handle: () => ({ status: 200, body: { orders: retailer.orders() } }),
    }),
  ];
  return new JsonHttpServer({
    title: `bank-chain devnet retailer (${retailer.name})`,
    version: "1.0.0",
    description:
      "A third-party shop selling for fiat, which the platform buys from once a token payment is authorized (issue 20).",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health ?? { checkDatabase: () => retailer.check() },
    maxBodyBytes: RETAILER_MAX_BODY_BYTES,
    errorStatus: (error) => (error instanceof CommerceError ? commerceStatus(error.code) : undefined),
    routes: [
      route({
        method: "GET",
        path: "/catalogue",
        summary: "the items for sale, unit prices in minor units",
        responses: { 200: { description: "the catalogue", schema: catalogueView } },
        handle: () => ({ status: 200, body: retailer.catalogue() }),
      }),
      route({
        method: "POST",
        path: "/orders",
        summary: "buy: the price must be the catalogue's × quantity; the same Idempotency-Key buys once",
        headers: idempotencyHeaders,
        body: orderRequestSchema,
        responses: {
          201: { description: "bought: the order and its receipt", schema: orderView },
          200: { description: "this key bought before: the same order and receipt", schema: orderView },
          400: { description: "a malformed body, or a missing or malformed Idempotency-Key" },
          402: { description: "the payment was declined (remembered under the key)" },
          404: { description: "no such sku" },
          409: { description: "the price is not the catalogue's, or out of stock (remembered under the key)" },
          413: { description: "the body is too large" },
          422: { description: "this Idempotency-Key was used for another request" },
          503: { description: "the retailer is down" },
        },
        handle: async ({ headers, body }) => {
          const outcome = await retailer.order(headers["idempotency-key"], body);
          if (outcome.status === 201) {
            options.log(`retailer sold ${outcome.order.orderId} (${outcome.order.reference})`);
          }
          return {
            status: outcome.status,
            body: outcome.order,
            headers: { location: `/orders/${outcome.order.orderId}` },
          };
        },
      }),
      route({
        method: "GET",
        path: "/orders/:orderId",
        summary: "one order and its receipt",
        params: orderIdParam,
        responses: { 200: { description: "the order", schema: orderView }, 404: { description: "no such order" } },
        handle: ({ params }) => ({ status: 200, body: retailer.get(params.orderId) }),
      }),
      route({
        method: "POST",
        path: "/orders/:orderId/cancel",
        summary: "cancel an order (the refund path); cancelling it again changes nothing",
        params: orderIdParam,
        responses: {
          200: { description: "the cancelled order", schema: orderView },
          404: { description: "no such order" },
        },
        handle: ({ params }) => ({ status: 200, body: retailer.cancel(params.orderId) }),
      }),
      ...(options.admin ? admin : []),
    ],
  });
}

export interface StartRetailerOptions {
  readonly host?: string;
  /** Default `DEFAULT_RETAILER_PORT`; 0 picks a free port. */
  readonly port?: number;
  /** The SQLite file (or `":memory:"`). */
  readonly dbPath: string;
  readonly admin?: boolean;
  readonly log?: (line: string) => void;
  readonly name?: string;
  readonly catalogue?: readonly CatalogueItem[];
  readonly now?: () => number;
  readonly slowMs?: number;
  readonly onStep?: (point: "order:written") => void;
  readonly health?: HealthProbe;
}

/** A running retailer. */
export interface RunningRetailer {
  readonly url: string;
  readonly retailer: Retailer;
  readonly server: JsonHttpServer;
  /** Stops the server (waiting for the requests under way) and closes the store. */
  stop(): Promise<void>;
}

/** Opens the store, builds the retailer and its server and starts it: the tests' and the CLI's one call. */
export async function startRetailer(options: StartRetailerOptions): Promise<RunningRetailer> {
  const store = Store.open({ path: options.dbPath });
  let server: JsonHttpServer;
  let retailer: Retailer;
  try {
    retailer = new Retailer({
      store,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.catalogue === undefined ? {} : { catalogue: options.catalogue }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.slowMs === undefined ? {} : { slowMs: options.slowMs }),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    });
    server = retailerHttpServer(retailer, {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? DEFAULT_RETAILER_PORT,
      log: options.log ?? (() => undefined),
      admin: options.admin ?? false,
      ...(options.health === undefined ? {} : { health: options.health }),
    });
    await server.start();
  } catch (error) {
    store.close();
    throw error;
  }
  let stopped = false;
  return {
    url: server.url!,
    retailer,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server.stop();
      } finally {
        store.close();
      }
    },
  };
}

export interface RetailerServiceOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides `RETAILER_PORT`. */
  readonly port?: number;
  readonly host?: string;
}

/**
 * The retailer as an `npm start` service: `<dataDir>/retailer.sqlite`, `RETAILER_PORT` (default 8660) and
 * `RETAILER_ADMIN` (on by default on the devnet only). It uses no chain: its health is its store's.
 */
export function retailerService(options: RetailerServiceOptions = {}): ServiceFactory {
  return {
    name: RETAILER_SERVICE_NAME,
    create(context: ServiceContext): Service {
      const settings = RETAILER_SETTINGS.read(options.env ?? process.env, { devnet: isDevnet(context.chain.chainId) });
      const port = options.port ?? settings.RETAILER_PORT;
      const store = Store.open({ path: path.join(context.dataDir, `${RETAILER_SERVICE_NAME}.sqlite`) });
      return serviceOwningStore(RETAILER_SERVICE_NAME, store, () => {
        const retailer = new Retailer({ store });
        const http = retailerHttpServer(retailer, {
          host: options.host ?? "127.0.0.1",
          port,
          log: context.log,
          admin: settings.RETAILER_ADMIN === "on",
        });
        return {
          url: () => http.url ?? `http://127.0.0.1:${port}`,
          start: async () => {
            await http.start();
          },
          stop: () => http.stop(),
        };
      });
    },
  };
}

/** The retailer `npm start` runs. */
export const retailer = retailerService();
