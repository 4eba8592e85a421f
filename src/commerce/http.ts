/**
 * The checkout's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`), documented at `/openapi.json`:
 *
 *   GET  /catalogue                       the retailer's goods and fiat prices
 *   POST /quotes                          a signed quote for a good of the retailer  → 201 the invoice
 *   GET  /invoices                        invoices newest first, by status, a page at a time, with counts per status
 *   GET  /invoices/:intentId              an invoice: status, payment, purchase, history
 *   GET  /invoices/:intentId/qr.svg       the ERC-681 payment request as a QR code (SVG)
 *   GET  /invoices/:intentId/qr.png       the same as PNG
 *   POST /invoices/:intentId/authorization the payer's EIP-3009 authorization, submitted by the service
 *   POST /invoices/:intentId/refunds      refund a captured payment (the retailer's order cancelled first)
 *
 * Errors are `{ "error": { "code", "message" } }`: 400 a malformed request, 404 an unknown good or invoice, 409 an
 * invoice in the wrong status or a payment the contract refused, 422 a good that cannot be priced in the token,
 * 503 a retailer or price feed that cannot be read.
 */
import { getAddress } from "ethers";
import { z } from "zod";

import { JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { keysetPage, parseKeysetCursor } from "../chain/keyset.js";
import { addressSchema } from "../chain/schemas.js";
import { BankChainError } from "../errors.js";
import { CommerceError, commerceStatus } from "./errors.js";
import { intentToJson } from "./intent.js";
import { paymentRequestQr, paymentRequestUri } from "./payment-request.js";
import type { CatalogueItem } from "./retailer-client.js";
import type { Invoice, InvoiceStore } from "./store.js";
import { INVOICE_STATUSES, PURCHASE_STATES } from "./store.js";

/** What the API needs besides the store. */
export interface CheckoutApi {
  readonly store: InvoiceStore;
  readonly chainId: bigint;
  readonly checkout: string;
  quote(request: { sku: string; quantity: number; payer: string }): Promise<Invoice>;
  catalogue(): Promise<readonly CatalogueItem[]>;
  submitAuthorization(
    invoice: Invoice,
    authorization: { validAfter: bigint; validBefore: bigint; signature: string },
  ): Promise<string>;
  refund(invoice: Invoice, amount: bigint | undefined, cancelOrder: boolean): Promise<string>;
}

export interface CheckoutHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const invoiceView = z
  .object({
    intentId: z.string(),
    status: z.enum(INVOICE_STATUSES),
    exception: z.string().nullable(),
    sku: z.string(),
    quantity: z.number().int(),
    price: z.object({ amount: z.string(), currency: z.string() }),
    chainId: z.string(),
    checkout: z.string(),
    intent: z.record(z.string()).openapi({ description: "the payment intent, every integer a decimal string" }),
    operatorSignature: z.string(),
    depositAddress: z.string(),
    paymentRequest: z
      .string()
      .openapi({ description: "ERC-681: a plain transfer of the amount to the deposit address" }),
    qr: z.object({ svg: z.string(), png: z.string() }),
    method: z.string().nullable(),
    deposited: z.string(),
    purchase: z.object({
      state: z.enum(PURCHASE_STATES),
      attempts: z.number().int(),
      orderId: z.string().nullable(),
      receiptHash: z.string().nullable(),
      lastError: z.string().nullable(),
    }),
    refunded: z.string(),
    history: z.array(z.object({ at: z.number().int(), status: z.string(), purchase: z.string(), note: z.string() })),
  })
  .openapi("Invoice");

const invoiceSummary = z
  .object({
    intentId: z.string(),
    status: z.enum(INVOICE_STATUSES),
    sku: z.string(),
    quantity: z.number().int(),
    fiatAmount: z.string().openapi({ description: "the price in the currency's minor units, as digits" }),
    currency: z.string(),
    tokenAmount: z.string().openapi({ description: "what the payer pays, in token base units, as digits" }),
    payer: z.string(),
    purchaseState: z.enum(PURCHASE_STATES),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("InvoiceSummary", {
    example: {
      intentId: "0x3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d",
      status: "complete",
      sku: "mug",
      quantity: 1,
      fiatAmount: "1200",
      currency: "USD",
      tokenAmount: "12000000",
      payer: "0xcd3B766CCDd6AE721141F452C550Ca635964ce71",
      purchaseState: "captured",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:12.000Z",
    },
  });

const invoiceList = z
  .object({
    items: z.array(invoiceSummary),
    counts: z.record(z.number().int()).openapi({ description: "invoices per status, all of them" }),
    nextCursor: z.string().nullable(),
  })
  .openapi("InvoiceList");

/** The sort key an invoices cursor holds: creation time (ms), intent id. */
const invoiceCursor = z.tuple([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-f]{64}$/)]);

const catalogueView = z
  .object({
    items: z.array(
      z.object({ sku: z.string(), title: z.string(), price: z.object({ amount: z.string(), currency: z.string() }) }),
    ),
  })
  .openapi("Catalogue");

const intentIdParam = z.object({
  intentId: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/)
    .openapi({ description: "the invoice's id: its payment intent's EIP-712 digest" }),
});

const quoteBody = z
  .object({
    sku: z.string().min(1).max(64),
    quantity: z.number().int().min(1).max(10).default(1),
    payer: addressSchema.openapi({ description: "the wallet that pays; every return and refund goes to it" }),
  })
  .strict()
  .openapi("QuoteRequest");

const uintString = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "a decimal integer")
  .transform((text) => BigInt(text))
  // 78 digits go past uint256: refused here rather than failing in the ABI encoder (a 500).
  .refine((value) => value < 1n << 256n, "at most 2^256 - 1");

const authorizationBody = z
  .object({
    validAfter: uintString,
    validBefore: uintString,
    signature: z.string().regex(/^0x([0-9a-fA-F]{2})+$/, "0x and hex bytes"),
  })
  .strict()
  .openapi("PayerAuthorization");

const refundBody = z
  .object({
    amount: uintString.optional().openapi({ description: "default: all that was captured and not refunded" }),
    cancelOrder: z.boolean().default(true).openapi({ description: "cancel the retailer's order first" }),
  })
  .strict()
  .openapi("RefundRequest");

/** The invoice as the API shows it. */
export function viewOf(api: Pick<CheckoutApi, "store" | "chainId" | "checkout">, invoice: Invoice) {
  const base = `/invoices/${invoice.intentId}`;
  return {
    intentId: invoice.intentId,
    status: invoice.status,
    exception: invoice.exception,
    sku: invoice.sku,
    quantity: invoice.quantity,
    price: { amount: invoice.price.amount.toString(), currency: invoice.price.currency },
    chainId: api.chainId.toString(),
    checkout: getAddress(api.checkout),
    intent: intentToJson(invoice.intent),
    operatorSignature: invoice.operatorSignature,
    depositAddress: getAddress(invoice.depositAddress),
    paymentRequest: paymentRequestOf(api.chainId, invoice),
    qr: { svg: `${base}/qr.svg`, png: `${base}/qr.png` },
    method: invoice.method,
    deposited: invoice.deposited.toString(),
    purchase: {
      state: invoice.purchase,
      attempts: invoice.purchaseAttempts,
      orderId: invoice.receipt?.orderId ?? null,
      receiptHash: invoice.receipt?.receiptHash ?? null,
      lastError: invoice.lastError,
    },
    refunded: invoice.refunded.toString(),
    history: api.store.history(invoice.intentId),
  };
}

/** The invoice as the list shows it. */
export function summaryOf(invoice: Invoice): z.infer<typeof invoiceSummary> {
  return {
    intentId: invoice.intentId,
    status: invoice.status,
    sku: invoice.sku,
    quantity: invoice.quantity,
    fiatAmount: invoice.intent.fiatAmount.toString(),
    currency: invoice.intent.currency,
    tokenAmount: invoice.intent.tokenAmount.toString(),
    payer: getAddress(invoice.intent.payer),
    purchaseState: invoice.purchase,
    createdAt: new Date(invoice.createdAt).toISOString(),
    updatedAt: new Date(invoice.updatedAt).toISOString(),
  };
}

/** The invoice's ERC-681 payment request. */
export function paymentRequestOf(chainId: bigint, invoice: Invoice): string {
  return paymentRequestUri({
    token: invoice.intent.token,
    chainId,
    depositAddress: getAddress(invoice.depositAddress),
    tokenAmount: invoice.intent.tokenAmount,
  });
}

/** The checkout's API server. */
export function checkoutHttpServer(api: CheckoutApi, options: CheckoutHttpOptions): JsonHttpServer {
  const invoiceOf = (intentId: string): Invoice => {
    const invoice = api.store.get(intentId);
    if (invoice === undefined) {
      throw new CommerceError("CHECKOUT_UNKNOWN_INVOICE", `no invoice ${intentId}`, { intentId });
    }
    return invoice;
  };
  const qr = async (intentId: string, format: "svg" | "png") => {
    const uri = paymentRequestOf(api.chainId, invoiceOf(intentId));
    return format === "svg"
      ? {
          status: 200,
          body: Buffer.from(await paymentRequestQr(uri, "svg"), "utf8"),
          headers: { "content-type": "image/svg+xml" },
        }
      : { status: 200, body: await paymentRequestQr(uri, "png"), headers: { "content-type": "image/png" } };
  };
  return new JsonHttpServer({
    title: "bank-chain checkout",
    version: "1.0.0",
    description:
      "Quotes a retailer's fiat prices as token payment intents, verifies the payments on chain, buys at the retailer and captures against its receipt (docs/commerce.md).",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    maxBodyBytes: 16 * 1024,
    errorStatus: (error) =>
      error instanceof CommerceError || (error instanceof BankChainError && error.code.startsWith("CHECKOUT_"))
        ? commerceStatus((error as BankChainError).code)
        : undefined,
    routes: [
      route({
        method: "GET",
        path: "/catalogue",
        summary: "the retailer's goods and their fiat prices (minor units)",
        responses: {
          200: { description: "the catalogue", schema: catalogueView },
          503: { description: "the retailer cannot be read" },
        },
        handle: async () => ({
          status: 200,
          body: {
            items: (await api.catalogue()).map((item) => ({
              sku: item.sku,
              title: item.title,
              price: { amount: item.price.amount.toString(), currency: item.price.currency },
            })),
          },
        }),
      }),
      route({
        method: "POST",
        path: "/quotes",
        summary: "quote a good of the retailer in the token: a signed payment intent and its payment request",
        body: quoteBody,
        responses: {
          201: { description: "the new invoice", schema: invoiceView },
          404: { description: "the retailer sells no such good" },
          422: { description: "the good's currency cannot be priced in the token" },
          503: { description: "the retailer or the price feed cannot be read" },
        },
        handle: async ({ body }) => ({ status: 201, body: viewOf(api, await api.quote(body)) }),
      }),
      route({
        method: "GET",
        path: "/invoices",
        summary: "invoices newest first, by status, a page at a time, with counts per status",
        query: z.object({ status: z.enum(INVOICE_STATUSES).optional(), ...pageQuery }).strict(),
        responses: {
          200: { description: "one page of invoices", schema: invoiceList },
          400: { description: "a bad status, limit or cursor" },
        },
        handle: ({ query }) => {
          const before = parseKeysetCursor(query.cursor, invoiceCursor);
          const rows = api.store.list({
            ...(query.status === undefined ? {} : { statuses: [query.status] }),
            ...(before === undefined ? {} : { before: { createdAt: before[0], intentId: before[1] } }),
            newestFirst: true,
            limit: query.limit + 1,
          });
          const { items, nextCursor } = keysetPage(rows, query.limit, (invoice) => [
            invoice.createdAt,
            invoice.intentId,
          ]);
          return { status: 200, body: { items: items.map(summaryOf), counts: api.store.counts(), nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/invoices/:intentId",
        summary: "an invoice: its status, payment, purchase at the retailer, and history",
        params: intentIdParam,
        responses: {
          200: { description: "the invoice", schema: invoiceView },
          404: { description: "no such invoice" },
        },
        handle: ({ params }) => ({ status: 200, body: viewOf(api, invoiceOf(params.intentId)) }),
      }),
      route({
        method: "GET",
        path: "/invoices/:intentId/qr.svg",
        summary: "the invoice's ERC-681 payment request as a QR code (SVG)",
        params: intentIdParam,
        responses: { 200: { description: "image/svg+xml" }, 404: { description: "no such invoice" } },
        handle: ({ params }) => qr(params.intentId, "svg"),
      }),
      route({
        method: "GET",
        path: "/invoices/:intentId/qr.png",
        summary: "the invoice's ERC-681 payment request as a QR code (PNG)",
        params: intentIdParam,
        responses: { 200: { description: "image/png" }, 404: { description: "no such invoice" } },
        handle: ({ params }) => qr(params.intentId, "png"),
      }),
      route({
        method: "POST",
        path: "/invoices/:intentId/authorization",
        summary:
          "submit the payer's EIP-3009 ReceiveWithAuthorization (to the checkout, the amount, nonce = the intent's id)",
        params: intentIdParam,
        body: authorizationBody,
        responses: {
          200: {
            description: "authorized: the transaction",
            schema: z.object({ transactionHash: z.string(), invoice: invoiceView }),
          },
          404: { description: "no such invoice" },
          409: { description: "the invoice is not new, or the checkout refused the authorization" },
        },
        handle: async ({ params, body }) => {
          const invoice = invoiceOf(params.intentId);
          const transactionHash = await api.submitAuthorization(invoice, body);
          return { status: 200, body: { transactionHash, invoice: viewOf(api, invoiceOf(params.intentId)) } };
        },
      }),
      route({
        method: "POST",
        path: "/invoices/:intentId/refunds",
        summary: "refund a captured payment to the payer (from the merchant's allowance), the order cancelled first",
        params: intentIdParam,
        body: refundBody,
        responses: {
          200: {
            description: "refunded: the transaction",
            schema: z.object({ transactionHash: z.string(), invoice: invoiceView }),
          },
          404: { description: "no such invoice" },
          409: { description: "nothing captured to refund, or the checkout or the retailer refused" },
        },
        handle: async ({ params, body }) => {
          const invoice = invoiceOf(params.intentId);
          const transactionHash = await api.refund(invoice, body.amount, body.cancelOrder);
          return { status: 200, body: { transactionHash, invoice: viewOf(api, invoiceOf(params.intentId)) } };
        },
      }),
    ],
  });
}
