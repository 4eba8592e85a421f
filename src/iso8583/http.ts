/**
 * The card gateway's traffic API on 127.0.0.1 (service `card-gateway-api`), on the service kit
 * (`chain/http.ts`), documented at `/openapi.json`:
 *
 *   GET /stats?windowSeconds=60      messages per second over the window, by response code and MTI, per second
 *   GET /messages?limit=&cursor=     the journal, newest first, a page at a time
 *   GET /openapi.json, GET /health
 *
 * Read only: it changes nothing at the gateway. Amounts are decimal strings of minor units; timestamps ISO 8601.
 * Errors are `{ "error": { "code", "message", "field"? } }` with 400 (a bad query, naming the field), 404, 405, 500.
 */
import { z } from "zod";

import { JsonHttpServer, pageQuery, route, type HealthProbe } from "../chain/http.js";
import { CardTrafficError, MAX_WINDOW_SECONDS, type CardTraffic } from "./traffic.js";

/** Where the traffic API listens, its log and its health probe. */
export interface CardTrafficHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  readonly health: HealthProbe;
}

const statsSchema = z
  .object({
    windowSeconds: z.number().int(),
    messages: z.number().int().openapi({ description: "card transactions taken on in the window" }),
    perSecond: z.number(),
    byResponseCode: z
      .record(z.string(), z.number().int())
      .openapi({ description: "DE 39 → messages answered with it (a message still posting has none yet)" }),
    byMti: z.record(z.string(), z.number().int()).openapi({ description: "MTI → messages" }),
    series: z
      .array(z.object({ second: z.string().openapi({ description: "ISO 8601" }), count: z.number().int() }))
      .openapi({ description: "every second of the window, oldest first" }),
  })
  .openapi("CardTrafficStats");

const messageSchema = z
  .object({
    id: z.string(),
    mti: z.string(),
    stan: z.string().openapi({ description: "DE 11" }),
    rrn: z.string().nullable().openapi({ description: "DE 37" }),
    terminal: z.string().nullable().openapi({ description: "DE 41" }),
    operation: z.enum(["hold", "capture", "debit", "credit", "reverse"]).nullable(),
    amount: z.string().nullable().openapi({ description: "minor units, as digits" }),
    wallet: z.string().nullable(),
    responseCode: z.string().nullable().openapi({ description: "DE 39; null while posting" }),
    state: z.enum(["posting", "done", "unknown", "failed"]),
    opKey: z.string().nullable().openapi({ description: "the ledger operation's idempotency key" }),
    createdAt: z.string().openapi({ description: "ISO 8601" }),
  })
  .openapi("CardMessage");

const messagePageSchema = z
  .object({ items: z.array(messageSchema), nextCursor: z.string().nullable() })
  .openapi("CardMessagePage");

/** The traffic API's server over `traffic`. */
export function cardTrafficHttpServer(traffic: CardTraffic, options: CardTrafficHttpOptions): JsonHttpServer {
  return new JsonHttpServer({
    title: "bank-chain card gateway traffic",
    version: "1.0.0",
    description: "The ISO 8583 gateway's journal, read only (docs/iso8583.md, Traffic API).",
    host: options.host,
    port: options.port,
    log: options.log,
    health: options.health,
    errorStatus: (error) =>
      error instanceof CardTrafficError && error.code === "CARD_TRAFFIC_BAD_CURSOR" ? 400 : undefined,
    routes: [
      route({
        method: "GET",
        path: "/stats",
        summary: "messages per second over the last windowSeconds, by response code and MTI, second by second",
        query: z.object({
          windowSeconds: z.coerce
            .number()
            .int()
            .min(1)
            .max(MAX_WINDOW_SECONDS)
            .default(60)
            .openapi({ description: `whole seconds back from now, 1-${MAX_WINDOW_SECONDS}` }),
        }),
        responses: { 200: { description: "the window's traffic", schema: statsSchema } },
        handle: ({ query }) => ({ status: 200, body: traffic.stats(query.windowSeconds) }),
      }),
      route({
        method: "GET",
        path: "/messages",
        summary: "the gateway's journal, newest first",
        query: z.object(pageQuery),
        responses: {
          200: { description: "a page of messages", schema: messagePageSchema },
          400: { description: "a bad limit or cursor" },
        },
        handle: ({ query }) => ({ status: 200, body: traffic.messages(query) }),
      }),
    ],
  });
}
