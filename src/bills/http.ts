/**
 * The bill monitor's query API on 127.0.0.1, on the service kit (`chain/http.ts`):
 *
 *   GET /bills?party=&state=&dueBefore=&limit=&cursor=   bills matching every given filter, a page at a time
 *   GET /bills/:id                                       one bill
 *   GET /bills/:id/history                               its events, in chain order
 *   GET /anomalies?bill=&limit=&cursor=                  anomalies, a page at a time
 *   GET /openapi.json, GET /health
 *
 * Amounts are decimal strings of minor units. Errors are
 * `{ "error": { "code", "message", "field"? } }` with 400, 404, 405 or 500.
 */
import { isAddress } from "ethers";
import { z } from "zod";

import { HttpError, JsonHttpServer, page, pageQuery, route } from "../chain/http.js";
import type { Store } from "../store/store.js";
import type { BillFilter, BillMonitor, BillView } from "./monitor.js";

export interface BillHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
  /** For `/health`: the chain's head. */
  readonly blockNumber: () => Promise<number>;
  readonly store: Store;
}

const billId = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be bytes32 hex")
  .transform((id) => id.toLowerCase());
const address = z.string().nullable();
const amount = z.string().regex(/^\d+$/).openapi({ description: "minor units, as digits" });

const billSchema = z
  .object({
    id: z.string(),
    definitionId: z.number().int().nullable(),
    state: z.string().openapi({ description: "bytes32 hex" }),
    stateName: z.string(),
    drawer: address,
    drawee: address,
    payer: address,
    payee: address,
    holder: address,
    financier: address,
    amountDue: amount,
    amountPaid: amount,
    rollingHash: z.string(),
    endorsers: z.array(z.string()),
    acceptanceDeadline: z.number().int().nullable(),
    maturity: z.number().int().nullable(),
    recourseDeadline: z.number().int().nullable(),
    issuedBlock: z.number().int(),
    issuedTx: z.string(),
    lastBlock: z.number().int(),
  })
  .openapi("Bill");
const operationSchema = z
  .object({
    seq: z.number().int(),
    event: z.string(),
    block: z.number().int(),
    tx: z.string(),
    logIndex: z.number().int(),
    from: address,
    to: address,
    operation: z.string().nullable(),
    operationName: z.string().nullable(),
    actor: address,
    dataHash: z.string().nullable(),
    detail: z.record(z.string()),
  })
  .openapi("BillOperation");
const anomalySchema = z
  .object({
    seq: z.number().int(),
    kind: z.string(),
    billId: z.string().nullable(),
    block: z.number().int().nullable(),
    tx: z.string().nullable(),
    detail: z.record(z.string()),
  })
  .openapi("Anomaly");

/** A bill as JSON: bigints as decimal strings. */
export function billJson(bill: BillView): Record<string, unknown> {
  return { ...bill, amountDue: bill.amountDue.toString(), amountPaid: bill.amountPaid.toString() };
}

/** The monitor's HTTP server: its routes on the kit's `JsonHttpServer`. */
export function billHttpServer(monitor: BillMonitor, options: BillHttpOptions): JsonHttpServer {
  const found = (id: string): BillView => {
    const bill = monitor.bill(id);
    if (bill === undefined) throw new HttpError(404, "BILL_NOT_FOUND", `there is no bill ${id}`, undefined, { id });
    return bill;
  };
  const idParams = z.object({ id: billId });
  return new JsonHttpServer({
    title: "bank-chain bill monitor",
    version: "1",
    description: "Bills replayed from the BillRegistry's events and checked against their definitions.",
    host: options.host,
    port: options.port,
    log: options.log,
    health: {
      blockNumber: options.blockNumber,
      followerNextBlock: () => monitor.confirmedBlock + 1,
      checkDatabase: () => options.store.check(),
    },
    routes: [
      route({
        method: "GET",
        path: "/bills",
        summary: "bills matching every given filter, in issue order, a page at a time",
        query: z
          .object({
            party: z
              .string()
              .refine((value) => isAddress(value), { message: "must be a 0x address" })
              .optional(),
            state: z
              .string()
              .regex(/^(0x[0-9a-fA-F]{64}|[A-Za-z0-9_]{1,31})$/, { message: "must be a state name or bytes32 hex" })
              .optional(),
            dueBefore: z
              .string()
              .regex(/^\d{1,15}$/, { message: "must be unix seconds" })
              .transform(Number)
              .optional(),
            ...pageQuery,
          })
          .strict(),
        responses: {
          200: {
            description: "one page of bills",
            schema: z.object({ bills: z.array(billSchema), nextCursor: z.string().nullable() }),
          },
        },
        handle: ({ query }) => {
          const filter: BillFilter = {
            ...(query.party === undefined ? {} : { party: query.party }),
            ...(query.state === undefined ? {} : { state: query.state }),
            ...(query.dueBefore === undefined ? {} : { dueBefore: query.dueBefore }),
          };
          const { items, nextCursor } = page(monitor.bills(filter), (bill) => bill.id, query);
          return { status: 200, body: { bills: items.map(billJson), nextCursor } };
        },
      }),
      route({
        method: "GET",
        path: "/bills/:id",
        summary: "one bill",
        params: idParams,
        responses: { 200: { description: "the bill", schema: billSchema }, 404: { description: "no such bill" } },
        handle: ({ params }) => ({ status: 200, body: billJson(found(params.id)) }),
      }),
      route({
        method: "GET",
        path: "/bills/:id/history",
        summary: "a bill's events, in chain order",
        params: idParams,
        responses: {
          200: {
            description: "the history",
            schema: z.object({ id: z.string(), history: z.array(operationSchema) }),
          },
          404: { description: "no such bill" },
        },
        handle: ({ params }) => {
          found(params.id);
          return { status: 200, body: { id: params.id, history: monitor.history(params.id) } };
        },
      }),
      route({
        method: "GET",
        path: "/anomalies",
        summary: "what the replay found wrong, in the order found, a page at a time",
        query: z.object({ bill: billId.optional(), ...pageQuery }).strict(),
        responses: {
          200: {
            description: "one page of anomalies",
            schema: z.object({ anomalies: z.array(anomalySchema), nextCursor: z.string().nullable() }),
          },
        },
        handle: ({ query }) => {
          const { items, nextCursor } = page(monitor.anomalies(query.bill), (a) => String(a.seq), query);
          return { status: 200, body: { anomalies: items, nextCursor } };
        },
      }),
    ],
  });
}
