/**
 * The bank agent's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`):
 *
 *   POST /payments          a payment order → 202 with the payment
 *   GET  /payments          newest first, by direction and status, a page at a time, with counts per status
 *   GET  /payments/:id      a payment and both its legs (`?direction=inbound|outbound` when the id is both)
 *   GET  /accounts/:id      a ledger account and its balance
 *   GET  /ledger            whether the core ledger balances
 *   GET  /openapi.json      the OpenAPI 3.1 document, generated from the schemas below
 *   GET  /health            chain reachable, follower lag, database
 *
 * Errors are `{ "error": { "code", "message", "field"? } }` with 400 (malformed),
 * 404 (unknown), 409 (duplicate end-to-end id), 422 (well-formed but refused),
 * 503 (chain unreachable, agent busy at its most open payments, or stopping; with `Retry-After`) or 500.
 */
import { z } from "zod";

import { HttpError, JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { keysetPage, parseKeysetCursor } from "../chain/keyset.js";
import {
  AgentUnavailableError,
  DuplicatePaymentError,
  NotFoundError,
  paymentRequestSchema,
  PaymentRefusedError,
  RequestInvalidError,
  type AccountView,
  type PaymentRequest,
  type PaymentView,
} from "./api.js";
import type { BalanceReport } from "./core-ledger.js";
import { PAYMENT_STATUSES, type Direction, type PaymentRecord, type PaymentStore } from "./payments.js";

/** What the HTTP layer needs from the agent. */
export interface PaymentsApi {
  submit(request: PaymentRequest): Promise<PaymentView>;
  payment(id: string, direction?: Direction): PaymentView | undefined;
  account(id: string): AccountView | undefined;
  ledger(): BalanceReport;
  /** The agent's payments, for the newest-first list. */
  readonly payments: Pick<PaymentStore, "page" | "counts">;
}

export interface HttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
  /** The document's title, e.g. `bank A's settlement agent`. */
  readonly title?: string;
}

const amount = z.string().regex(/^\d+$/).openapi({ description: "minor units, as digits" });
const legSchema = z.object({ bank: z.string(), account: z.string().nullable(), status: z.string() });
const paymentSchema = z
  .object({
    id: z.string(),
    direction: z.enum(["outbound", "inbound"]),
    status: z.string(),
    amount,
    currency: z.string(),
    settlementId: z.string(),
    deadline: z.number().int().openapi({ description: "unix seconds (block time) by which bank B must smelt" }),
    debtor: legSchema,
    creditor: legSchema,
    reason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
    history: z.array(z.object({ at: z.string(), what: z.string(), tx: z.string().nullable() })),
    entries: z.array(
      z.object({
        step: z.string(),
        postedAt: z.string(),
        lines: z.array(z.object({ account: z.string(), side: z.string(), amount })),
      }),
    ),
  })
  .openapi("Payment");
const accountSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.string(),
    status: z.string(),
    balance: amount,
    currency: z.string(),
  })
  .openapi("Account");
const ledgerSchema = z
  .object({
    balanced: z.boolean(),
    assets: amount,
    liabilities: amount,
    entries: z.number().int(),
    problems: z.array(z.string()),
  })
  .openapi("LedgerCheck");
const idParams = z.object({ id: z.string().min(1).max(128) });
const directionSchema = z.enum(["outbound", "inbound"]);
const paymentSummarySchema = z
  .object({
    id: z.string().openapi({ description: "the end-to-end id (unique per direction)" }),
    direction: directionSchema,
    status: z.enum(PAYMENT_STATUSES),
    endToEndId: z.string(),
    amount,
    currency: z.string(),
    debtorAccount: z.string().nullable(),
    creditorBank: z.string().openapi({ description: "the creditor bank's directory id, or its trust account" }),
    creditorAccount: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    lastTx: z.string().nullable().openapi({ description: "the newest transaction in the payment's history" }),
  })
  .openapi("PaymentSummary", {
    example: {
      id: "E2E-1",
      direction: "outbound",
      status: "Acknowledged",
      endToEndId: "E2E-1",
      amount: "2500",
      currency: "USD",
      debtorAccount: "alice",
      creditorBank: "B",
      creditorAccount: "bob",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:09.000Z",
      lastTx: "0x6f0c0a4e1f3b5d7c9e2a4c6e8f0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5d",
    },
  });
const paymentListSchema = z
  .object({
    items: z.array(paymentSummarySchema),
    counts: z
      .record(z.number().int())
      .openapi({ description: "payments per status, of the direction asked (both when not given)" }),
    nextCursor: z.string().nullable(),
  })
  .openapi("PaymentList");
/** The sort key a payments cursor holds: creation time (ms), direction, id. */
const paymentCursorSchema = z.tuple([z.number().int().nonnegative(), directionSchema, z.string().min(1).max(128)]);

/** A payment in the list: its legs summed up, amounts as digits. */
function paymentSummary(record: PaymentRecord): z.infer<typeof paymentSummarySchema> {
  return {
    id: record.id,
    direction: record.direction,
    status: record.status,
    endToEndId: record.id,
    amount: record.terms.amount.toString(),
    currency: record.currency,
    debtorAccount: record.debtorAccount,
    creditorBank: record.creditorBank.id,
    creditorAccount: record.creditorAccount,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastTx: record.history.findLast((entry) => entry.tx !== null)?.tx ?? null,
  };
}

/** The agent's own error classes → HTTP status. */
function errorStatus(error: unknown): number | undefined {
  if (error instanceof RequestInvalidError) return 400;
  if (error instanceof PaymentRefusedError) return 422;
  if (error instanceof DuplicatePaymentError) return 409;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof AgentUnavailableError) return 503;
  return undefined;
}

/**
 * Seconds a client should wait before ordering again after a 503 (`Retry-After`): an agent at its most open
 * payments closes some within a second or so under load; a stopping agent or an unreachable chain takes longer.
 */
export const RETRY_AFTER_SECONDS = { busy: 1, unavailable: 5 } as const;

/** A 503's `retry-after` header. */
function errorHeaders(error: unknown): Record<string, string> | undefined {
  if (!(error instanceof AgentUnavailableError)) return undefined;
  const seconds = error.code === "AGENT_BUSY" ? RETRY_AFTER_SECONDS.busy : RETRY_AFTER_SECONDS.unavailable;
  return { "retry-after": String(seconds) };
}

/** The agent's HTTP server: its routes on the kit's `JsonHttpServer`. */
export function paymentsHttpServer(api: PaymentsApi, options: HttpOptions): JsonHttpServer {
  return new JsonHttpServer({
    title: options.title ?? "bank-chain settlement agent",
    version: "1",
    description: "A bank's settlement agent: payment orders to another bank, settled on chain, and its core ledger.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus,
    errorHeaders,
    routes: [
      route({
        method: "POST",
        path: "/payments",
        summary: "order a payment to a customer of another bank",
        body: paymentRequestSchema,
        responses: {
          202: { description: "accepted: the customer is debited, the payment goes on chain", schema: paymentSchema },
          409: { description: "the end-to-end id is already used" },
          413: { description: "the body is larger than the agent takes (REQUEST_TOO_LARGE)" },
          422: { description: "refused: unknown account or bank, funds, limits, corridor paused" },
          503: {
            description:
              "nothing was posted: the chain cannot be reached (CHAIN_UNAVAILABLE), the agent holds its most " +
              "open payments and none closed in time (AGENT_BUSY), or the agent is stopping (AGENT_STOPPING)",
            headers: { "Retry-After": "seconds to wait before ordering again" },
          },
        },
        handle: async ({ body }) => {
          const payment = await api.submit(body);
          return {
            status: 202,
            body: payment,
            headers: { location: `/payments/${encodeURIComponent(payment.id)}` },
          };
        },
      }),
      route({
        method: "GET",
        path: "/payments",
        summary: "payments newest first, by direction and status, a page at a time, with counts per status",
        query: z
          .object({
            direction: directionSchema.optional().openapi({ description: "both directions when not given" }),
            status: z.enum(PAYMENT_STATUSES).optional(),
            ...pageQuery,
          })
          .strict(),
        responses: {
          200: { description: "one page of payments", schema: paymentListSchema },
          400: { description: "a bad direction, status, limit or cursor" },
        },
        handle: ({ query }) => {
          const after = parseKeysetCursor(query.cursor, paymentCursorSchema);
          const rows = api.payments.page({
            direction: query.direction,
            status: query.status,
            after: after === undefined ? undefined : { createdMs: after[0], direction: after[1], id: after[2] },
            limit: query.limit + 1,
          });
          const { items, nextCursor } = keysetPage(rows, query.limit, (row) => [row.createdMs, row.direction, row.id]);
          return {
            status: 200,
            body: { items: items.map(paymentSummary), counts: api.payments.counts(query.direction), nextCursor },
          };
        },
      }),
      route({
        method: "GET",
        path: "/payments/:id",
        summary: "a payment, both its legs, its history and postings",
        params: idParams,
        query: z.object({ direction: z.enum(["inbound", "outbound"]).optional() }).strict(),
        responses: {
          200: { description: "the payment", schema: paymentSchema },
          404: { description: "no such payment" },
        },
        handle: ({ params, query }) => ({
          status: 200,
          body: found(api.payment(params.id, query.direction), "PAYMENT_NOT_FOUND", "payment", params.id),
        }),
      }),
      route({
        method: "GET",
        path: "/accounts/:id",
        summary: "a core-ledger account and its balance",
        params: idParams,
        responses: {
          200: { description: "the account", schema: accountSchema },
          404: { description: "no such account" },
        },
        handle: ({ params }) => ({
          status: 200,
          body: found(api.account(params.id), "ACCOUNT_NOT_FOUND", "account", params.id),
        }),
      }),
      route({
        method: "GET",
        path: "/ledger",
        summary: "whether the core ledger balances",
        responses: { 200: { description: "the check", schema: ledgerSchema } },
        handle: () => {
          const report = api.ledger();
          return {
            status: 200,
            body: {
              balanced: report.balanced,
              assets: report.assets.toString(),
              liabilities: report.liabilities.toString(),
              entries: report.entries,
              problems: report.problems,
            },
          };
        },
      }),
    ],
  });
}

/** `value`, or a 404 that names the `what` with id `id` that is not there. */
function found<T>(value: T | undefined, code: string, what: string, id: string): T {
  if (value === undefined) throw new HttpError(404, code, `there is no ${what} ${id}`, undefined, { id });
  return value;
}
