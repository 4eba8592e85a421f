/**
 * The bill monitor's query API on 127.0.0.1 (node:http, JSON):
 *
 *   GET /bills?party=&state=&dueBefore=   bills matching every given filter
 *   GET /bills/:id                        one bill
 *   GET /bills/:id/history                its events, in chain order
 *   GET /anomalies                        every anomaly (`?bill=` for one bill's)
 *
 * Amounts are decimal strings of minor units. Errors are
 * `{ "error": { "code", "message", "field"? } }` with 400, 404, 405 or 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { isAddress } from "ethers";
import { z } from "zod";

import { close, listen } from "../chain/http-server.js";
import { BankChainError, messageOf } from "../errors.js";
import type { BillFilter, BillMonitor, BillView } from "./monitor.js";

/** A request the API refuses, with its HTTP status. */
export class BillHttpError extends BankChainError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.status = status;
  }
}

export interface BillHttpOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: (line: string) => void;
}

const BILL_ID = /^0x[0-9a-fA-F]{64}$/;

const querySchema = z
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
  })
  .strict();

/** A bill as JSON: bigints as decimal strings. */
export function billJson(bill: BillView): Record<string, unknown> {
  return { ...bill, amountDue: bill.amountDue.toString(), amountPaid: bill.amountPaid.toString() };
}

export class BillHttpServer {
  readonly #monitor: BillMonitor;
  readonly #options: BillHttpOptions;
  readonly #server: Server;
  #url: string | undefined;

  constructor(monitor: BillMonitor, options: BillHttpOptions) {
    this.#monitor = monitor;
    this.#options = options;
    this.#server = createServer((request, response) => this.#handle(request, response));
    this.#server.keepAliveTimeout = 5_000;
  }

  get url(): string | undefined {
    return this.#url;
  }

  async start(): Promise<string> {
    this.#url = await listen(this.#server, this.#options.port, this.#options.host);
    return this.#url;
  }

  async stop(): Promise<void> {
    await close(this.#server);
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    try {
      send(response, 200, this.#route(request));
    } catch (error) {
      if (error instanceof BillHttpError) {
        const field = error.details.field;
        send(response, error.status, {
          error: { code: error.code, message: error.message, ...(typeof field === "string" ? { field } : {}) },
        });
        return;
      }
      this.#options.log(`bills http ${request.method} ${request.url} failed: ${messageOf(error)}`);
      send(response, 500, { error: { code: "INTERNAL", message: "the monitor failed to answer; see its log" } });
    }
  }

  #route(request: IncomingMessage): unknown {
    const url = new URL(request.url ?? "/", "http://monitor.invalid");
    const segments = url.pathname.split("/").filter((segment) => segment !== "");
    if (request.method !== "GET") {
      throw new BillHttpError(405, "METHOD_NOT_ALLOWED", `use GET, not ${request.method}`, { method: request.method });
    }
    const billId = (segment: string): string => {
      if (!BILL_ID.test(segment)) {
        throw new BillHttpError(400, "REQUEST_INVALID_FIELD", `bill id must be bytes32 hex, got "${segment}"`, {
          field: "id",
          value: segment,
        });
      }
      return segment.toLowerCase();
    };
    if (segments[0] === "bills" && segments.length === 1) {
      const parsed = querySchema.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field =
          issue.path.length > 0
            ? String(issue.path[0])
            : issue.code === "unrecognized_keys"
              ? (issue.keys[0] ?? "query")
              : "query";
        throw new BillHttpError(400, "REQUEST_INVALID_FIELD", `${field}: ${issue.message}`, { field });
      }
      const filter: BillFilter = {
        ...(parsed.data.party === undefined ? {} : { party: parsed.data.party }),
        ...(parsed.data.state === undefined ? {} : { state: parsed.data.state }),
        ...(parsed.data.dueBefore === undefined ? {} : { dueBefore: parsed.data.dueBefore }),
      };
      return { bills: this.#monitor.bills(filter).map(billJson) };
    }
    if (segments[0] === "bills" && (segments.length === 2 || (segments.length === 3 && segments[2] === "history"))) {
      const id = billId(segments[1]!);
      const bill = this.#monitor.bill(id);
      if (bill === undefined) {
        throw new BillHttpError(404, "BILL_NOT_FOUND", `there is no bill ${id}`, { id });
      }
      return segments.length === 2 ? billJson(bill) : { id, history: this.#monitor.history(id) };
    }
    if (segments[0] === "anomalies" && segments.length === 1) {
      const bill = url.searchParams.get("bill");
      return { anomalies: this.#monitor.anomalies(bill === null ? undefined : billId(bill)) };
    }
    throw new BillHttpError(404, "ROUTE_NOT_FOUND", `no route GET ${url.pathname}`, { path: url.pathname });
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}
