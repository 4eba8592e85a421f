/**
 * The interop API gateway's HTTP API on 127.0.0.1, on the service kit
 * (`chain/http.ts`):
 *
 *   POST /transactions         a signed payload → 202 with its id (200 if already taken)
 *   GET  /transactions         newest first, by status, a page at a time, with counts per status
 *   GET  /transactions/:id     its status and legs on both chains (`?signer=` when several signers sent it)
 *   GET  /openapi.json         the OpenAPI 3.1 document, generated from the schemas below
 *   GET  /health               every configured chain reachable, database
 *
 * Errors are `{ "error": { "code", "message", "field"? } }` with 400 (malformed,
 * bad signature), 404 (unknown), 409 (ambiguous id), 422 (well-formed but the
 * gateway refuses it now; nothing stored), 503 (a chain cannot be reached;
 * nothing stored) or 500.
 */
import { getAddress } from "ethers";
import { z } from "zod";

import { HttpError, JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { keysetPage, parseKeysetCursor } from "../chain/keyset.js";
import {
  AmbiguousTransactionError,
  ChainUnavailableError,
  PayloadRefusedError,
  TRANSACTION_STATUSES,
  type TransactionCursor,
  type TransactionStatus,
  type TransactionView,
} from "./api.js";
import { SignatureInvalidError, submissionSchema, type Submission } from "./payload.js";

/** What the HTTP layer needs from the API gateway. */
export interface TransactionsApi {
  submit(submission: Submission): Promise<{ readonly status: 200 | 202; readonly view: TransactionView }>;
  transaction(id: string, signer?: string): TransactionView | undefined;
  /** Up to `limit` transactions newest first, in one status or any, after the cursor. */
  transactions(query: {
    readonly status?: TransactionStatus | undefined;
    readonly after?: TransactionCursor | undefined;
    readonly limit: number;
  }): TransactionView[];
  /** How many transactions are in each status. */
  transactionCounts(): Partial<Record<TransactionStatus, number>>;
}

export interface InteropHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const hash = z.string().nullable().openapi({ description: "transaction hash" });
const transactionSchema = z
  .object({
    id: z.string().openapi({ description: "the payload's EIP-712 digest (the InteropGateway's `payloadDigest`)" }),
    signer: z.string(),
    status: z.enum(TRANSACTION_STATUSES).openapi({
      description:
        "accepted → submitted → executed (final for a native payload) → delivered or refunded (cross-chain); " +
        "failed: never executed, nothing moved",
    }),
    kind: z.string(),
    reason: z.string().nullable(),
    payload: z.record(z.unknown()),
    source: z.object({
      chain: z.string().openapi({ example: "eip155:4242" }),
      txHash: hash,
      blockNumber: z.number().int().nullable(),
      status: z.enum(["pending", "submitted", "executed", "failed"]),
    }),
    message: z
      .object({
        id: z.string().openapi({ description: "the AttestedGateway message id, the same on both chains" }),
        nonce: z.string(),
        deadline: z.number().int().openapi({ description: "unix seconds: deliverable until then (destination time)" }),
        status: z.string().openapi({ description: "on the source gateway: Sent or Refunded" }),
      })
      .nullable(),
    destination: z
      .object({
        chain: z.string(),
        status: z.string().openapi({ description: "None (not yet), Failed (stored, retried), Delivered" }),
        txHash: hash,
      })
      .nullable(),
    refund: z.object({ txHash: hash }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Transaction");

const transactionListSchema = z
  .object({
    items: z.array(transactionSchema),
    counts: z.record(z.number().int()).openapi({ description: "transactions per status, all of them" }),
    nextCursor: z.string().nullable(),
  })
  .openapi("TransactionList");

/** The sort key a transactions cursor holds: `createdAt`, id, signer. */
const transactionCursorSchema = z.tuple([
  z.string().datetime(),
  z.string().regex(/^0x[0-9a-f]{64}$/),
  z.string().regex(/^0x[0-9a-fA-F]{40}$/),
]);

const idParams = z.object({
  id: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 32-byte hex id")
    .transform((id) => id.toLowerCase()),
});

/** The gateway's own error classes → HTTP status. */
function errorStatus(error: unknown): number | undefined {
  if (error instanceof SignatureInvalidError) return 400;
  if (error instanceof PayloadRefusedError) return error.code === "SIGNATURE_INVALID" ? 400 : 422;
  if (error instanceof AmbiguousTransactionError) return 409;
  if (error instanceof ChainUnavailableError) return 503;
  return undefined;
}

/** The API gateway's HTTP server: its routes on the kit's `JsonHttpServer`. */
export function interopHttpServer(api: TransactionsApi, options: InteropHttpOptions): JsonHttpServer {
  return new JsonHttpServer({
    title: "bank-chain interop API gateway",
    version: "1",
    description:
      "Takes a user's signed generic transaction payload (IInteropGateway.Payload, EIP-712), native or " +
      "cross-chain, submits it to the InteropGateway of its source chain through a healthy node of that chain, " +
      "and reports its legs on both chains.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus,
    routes: [
      route({
        method: "POST",
        path: "/transactions",
        summary: "submit a signed payload",
        body: submissionSchema,
        responses: {
          200: {
            description: "this payload from this signer was taken before: nothing new is sent",
            schema: transactionSchema,
          },
          202: { description: "accepted: stored, and `execute` goes to the source chain", schema: transactionSchema },
          400: { description: "malformed, or the signature does not check out" },
          422: { description: "the gateway refuses it now (expired, nonce used, no route, paused, over a limit…)" },
          503: { description: "the source chain cannot be reached; nothing was stored" },
        },
        handle: async ({ body }) => {
          const { status, view } = await api.submit(body);
          return {
            status,
            body: view,
            headers: { location: `/transactions/${view.id}?signer=${view.signer}` },
          };
        },
      }),
      route({
        method: "GET",
        path: "/transactions",
        summary: "transactions newest first, by status, a page at a time, with counts per status",
        query: z.object({ status: z.enum(TRANSACTION_STATUSES).optional(), ...pageQuery }).strict(),
        responses: {
          200: { description: "one page of transactions", schema: transactionListSchema },
          400: { description: "a bad status, limit or cursor" },
        },
        handle: ({ query }) => {
          const after = parseKeysetCursor(query.cursor, transactionCursorSchema);
          const rows = api.transactions({
            status: query.status,
            after: after === undefined ? undefined : { createdAt: after[0], id: after[1], signer: after[2] },
            limit: query.limit + 1,
          });
          const { items, nextCursor } = keysetPage(rows, query.limit, (view) => [view.createdAt, view.id, view.signer]);
          return { status: 200, body: { items, counts: api.transactionCounts(), nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/transactions/:id",
        summary: "a transaction's status and its legs on both chains",
        params: idParams,
        query: z
          .object({
            signer: z
              .string()
              .regex(/^0x[0-9a-fA-F]{40}$/, "must be an address")
              .transform((value) => getAddress(value.toLowerCase()))
              .optional(),
          })
          .strict(),
        responses: {
          200: { description: "the transaction", schema: transactionSchema },
          404: { description: "no such transaction" },
          409: { description: "several signers sent this payload: name one with ?signer=" },
        },
        handle: ({ params, query }) => {
          const view = api.transaction(params.id, query.signer);
          if (view === undefined) {
            throw new HttpError(404, "TRANSACTION_NOT_FOUND", `there is no transaction ${params.id}`, undefined, {
              id: params.id,
            });
          }
          return { status: 200, body: view };
        },
      }),
    ],
  });
}
