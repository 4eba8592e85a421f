/**
 * The bank agent's HTTP API on 127.0.0.1, on the service kit (`chain/http.ts`):
 *
 *   POST /payments          a payment order → 202 with the payment
 *   GET  /payments/:id      a payment and both its legs (`?direction=inbound|outbound` when the id is both)
 *   GET  /accounts/:id      a ledger account and its balance
 *   GET  /ledger            whether the core ledger balances
 *   GET  /openapi.json      the OpenAPI 3.1 document, generated from the schemas below
 *   GET  /health            chain reachable, follower lag, database
 *
 * Errors are `{ "error": { "code", "message", "field"? } }` with 400 (malformed),
 * 404 (unknown), 409 (duplicate end-to-end id), 422 (well-formed but refused),
 * 503 (chain unreachable) or 500.
 */
import { z } from "zod";

import { HttpError, JsonHttpServer, route, type HealthProbe } from "../chain/http.js";
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
import type { Direction } from "./payments.js";

/** What the HTTP layer needs from the agent. */
export interface PaymentsApi {
  submit(request: PaymentRequest): Promise<PaymentView>;
  payment(id: string, direction?: Direction): PaymentView | undefined;
  account(id: string): AccountView | undefined;
  ledger(): BalanceReport;
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

/** The agent's own error classes → HTTP status. */
function errorStatus(error: unknown): number | undefined {
  if (error instanceof RequestInvalidError) return 400;
  if (error instanceof PaymentRefusedError) return 422;
  if (error instanceof DuplicatePaymentError) return 409;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof AgentUnavailableError) return 503;
  return undefined;
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
    routes: [
      route({
        method: "POST",
        path: "/payments",
        summary: "order a payment to a customer of another bank",
        body: paymentRequestSchema,
        responses: {
          202: { description: "accepted: the customer is debited, the payment goes on chain", schema: paymentSchema },
          409: { description: "the end-to-end id is already used" },
          422: { description: "refused: unknown account or bank, funds, limits, corridor paused" },
          503: { description: "the chain cannot be reached; nothing was posted" },
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
