/**
 * The offline merchant terminal's API on 127.0.0.1 (service `offline-merchant`), on the service kit
 * (`chain/http.ts`), documented at `/openapi.json`:
 *
 *   GET  /vouchers?state=&limit=&cursor=   the vouchers it holds, newest first, with counts by state
 *   POST /offers {amount}                  a one-time session asking `amount`: its offer text for the buyer
 *   GET  /offers/:id                       where that offer stands (open, accepted, refused, expired, …)
 *   POST /sync                             one store-and-forward round: each voucher's outcome, with its tx
 *   GET  /openapi.json, GET /health
 *
 * Amounts are decimal strings of minor units; timestamps ISO 8601. Errors are
 * `{ "error": { "code", "message", "field"? } }`: 400 a bad query or body (naming the field), 404 no such offer,
 * 503 the terminal has no view of the vault yet or is stopping.
 */
import { z } from "zod";

import { HttpError, JsonHttpServer, page, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { OfflineMerchantError } from "./merchant.js";
import { OFFER_STATES, OfflineTerminalError, VOUCHER_STATES, type MerchantTerminal } from "./terminal.js";

/** Where the terminal's API listens, its log and its health probe. */
export interface TerminalHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const minor = z.string().openapi({ description: "minor units, as digits" });

const voucherSchema = z
  .object({
    hash: z.string().openapi({ description: "the vault's voucher id (secured) or the authorization digest" }),
    payer: z.string(),
    amount: minor,
    sequence: z.string().nullable().openapi({ description: "its lane's sequence; null for an unsecured voucher" }),
    state: z.enum(VOUCHER_STATES),
    kind: z.enum(["secured", "unsecured"]),
    acceptedAt: z.string().openapi({ description: "ISO 8601" }),
    tx: z.string().nullable().openapi({ description: "the last transaction that carried it" }),
    reason: z.string().nullable(),
    paid: minor.nullable(),
    owed: minor.nullable(),
  })
  .openapi("OfflineVoucher");

const countsSchema = z
  .object(
    Object.fromEntries(VOUCHER_STATES.map((s) => [s, z.number().int()])) as Record<
      (typeof VOUCHER_STATES)[number],
      z.ZodNumber
    >,
  )
  .openapi("OfflineVoucherCounts");

const offerSchema = z
  .object({
    offerId: z.string(),
    offer: z.string().openapi({ description: "the text the buyer answers (bcoffer1:…)" }),
    amount: minor,
    state: z.enum(OFFER_STATES),
    requestId: z.string(),
    voucher: z.string().nullable().openapi({ description: "the voucher taken, once accepted" }),
    reason: z.string().nullable().openapi({ description: "the refusal reason, when refused" }),
    message: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi("OfflineOffer");

const outcomeSchema = z
  .object({
    hash: z.string(),
    kind: z.enum(["secured", "unsecured"]),
    state: z.enum(VOUCHER_STATES),
    reason: z.string().nullable(),
    paid: minor.nullable(),
    owed: minor.nullable(),
    tx: z.string().nullable(),
  })
  .openapi("OfflineSyncOutcome");

/** The terminal's server. */
export function terminalHttpServer(terminal: MerchantTerminal, options: TerminalHttpOptions): JsonHttpServer {
  return new JsonHttpServer({
    title: "bank-chain offline merchant terminal",
    version: "1.0.0",
    description: `The merchant ${terminal.address}'s offline terminal: offers, held vouchers, store and forward (docs/offline.md).`,
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus: (error) =>
      (error instanceof OfflineMerchantError && error.code === "OFFLINE_NO_VIEW") ||
      (error instanceof OfflineTerminalError && error.code === "OFFLINE_TERMINAL_STOPPING")
        ? 503
        : undefined,
    routes: [
      route({
        method: "GET",
        path: "/vouchers",
        summary: "the vouchers the terminal holds, newest first, with counts by state",
        query: z.object({
          state: z.enum(VOUCHER_STATES).optional().openapi({ description: "only vouchers in this state" }),
          ...pageQuery,
        }),
        responses: {
          200: {
            description: "a page of vouchers",
            schema: z
              .object({ items: z.array(voucherSchema), counts: countsSchema, nextCursor: z.string().nullable() })
              .openapi("OfflineVoucherPage"),
          },
          400: { description: "a bad state, limit or cursor" },
        },
        handle: ({ query }) => {
          const { items, counts } = terminal.vouchers(query.state);
          return { status: 200, body: { ...page(items, (v) => v.hash, query), counts } };
        },
      }),
      route({
        method: "POST",
        path: "/offers",
        summary: "open a one-time session asking amount; a buyer answers its offer with the offline protocol",
        body: z
          .object({
            amount: z
              .string()
              .regex(/^[1-9][0-9]{0,37}$/, "must be a positive whole number of minor units, as digits")
              .openapi({ description: "minor units, as digits" }),
          })
          .strict(),
        responses: {
          201: { description: "the offer, open", schema: offerSchema },
          400: { description: "a bad amount" },
          503: { description: "the terminal never read the vault, or is stopping" },
        },
        handle: async ({ body }) => ({ status: 201, body: await terminal.offer(BigInt(body.amount)) }),
      }),
      route({
        method: "GET",
        path: "/offers/:id",
        summary: "where an offer stands",
        params: z.object({
          id: z
            .string()
            .regex(/^0x[0-9a-f]{32}$/, "must be an offer id (0x and 32 hex digits)")
            .openapi({ description: "offerId as POST /offers returned it" }),
        }),
        responses: {
          200: { description: "the offer", schema: offerSchema },
          400: { description: "not an offer id" },
          404: { description: "no such offer" },
        },
        handle: ({ params }) => {
          const offer = terminal.offerView(params.id);
          if (offer === undefined) throw new HttpError(404, "OFFLINE_OFFER_NOT_FOUND", `no offer ${params.id}`);
          return { status: 200, body: offer };
        },
      }),
      route({
        method: "POST",
        path: "/sync",
        summary: "submit the pending vouchers now (one store-and-forward round) and report each outcome",
        responses: {
          200: {
            description: "the outcome of every voucher the round touched (none when nothing was due)",
            schema: z.object({ outcomes: z.array(outcomeSchema) }).openapi("OfflineSyncRound"),
          },
          503: { description: "the terminal is stopping" },
        },
        handle: async () => {
          const outcomes = await terminal.syncNow();
          return {
            status: 200,
            body: {
              outcomes: outcomes.map((o) => ({
                hash: o.hash,
                kind: o.kind,
                state: o.state,
                reason: o.reason ?? null,
                paid: o.paid?.toString() ?? null,
                owed: o.owed?.toString() ?? null,
                tx: o.txHash ?? null,
              })),
            },
          };
        },
      }),
    ],
  });
}
