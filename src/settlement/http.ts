/**
 * The bank agent's HTTP API on 127.0.0.1 (node:http, JSON both ways):
 *
 *   POST /payments          a payment order → 202 with the payment
 *   GET  /payments/:id      a payment and both its legs (`?direction=inbound|outbound` when the id is both)
 *   GET  /accounts/:id      a ledger account and its balance
 *   GET  /ledger            whether the core ledger balances
 *
 * Errors are `{ "error": { "code", "message", "field"? } }` with 400 (malformed),
 * 404 (unknown), 409 (duplicate end-to-end id), 422 (well-formed but refused),
 * 503 (chain unreachable) or 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { close, listen } from "../chain/http-server.js";
import { BankChainError, messageOf } from "../errors.js";
import {
  AgentUnavailableError,
  DuplicatePaymentError,
  NotFoundError,
  parsePaymentRequest,
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
}

const MAX_BODY_BYTES = 64 * 1024;

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

class HttpError extends BankChainError {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string) {
    super(code, message, field === undefined ? {} : { field });
    this.status = status;
    this.field = field;
  }
}

/** The status and body for anything a handler threw. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  const body = (code: string, message: string, field?: string): ErrorBody => ({
    error: { code, message, ...(field === undefined ? {} : { field }) },
  });
  if (error instanceof HttpError) return { status: error.status, body: body(error.code, error.message, error.field) };
  if (error instanceof RequestInvalidError) return { status: 400, body: body(error.code, error.message, error.field) };
  if (error instanceof PaymentRefusedError) return { status: 422, body: body(error.code, error.message, error.field) };
  if (error instanceof DuplicatePaymentError) return { status: 409, body: body(error.code, error.message) };
  if (error instanceof NotFoundError) return { status: 404, body: body(error.code, error.message) };
  if (error instanceof AgentUnavailableError) return { status: 503, body: body(error.code, error.message) };
  return { status: 500, body: body("INTERNAL", "the agent failed to handle the request; see its log") };
}

export class PaymentsHttpServer {
  readonly #api: PaymentsApi;
  readonly #options: HttpOptions;
  readonly #server: Server;
  #url: string | undefined;

  constructor(api: PaymentsApi, options: HttpOptions) {
    this.#api = api;
    this.#options = options;
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.keepAliveTimeout = 5_000;
  }

  /** `http://127.0.0.1:<port>` once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  async start(): Promise<string> {
    this.#url = await listen(this.#server, this.#options.port, this.#options.host);
    return this.#url;
  }

  /** Stops accepting connections and waits for the requests under way. */
  async stop(): Promise<void> {
    await close(this.#server);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const { status, body, headers } = await this.#route(request);
      send(response, status, body, headers);
    } catch (error) {
      const { status, body } = errorResponse(error);
      if (status === 500) this.#options.log(`http ${request.method} ${request.url} failed: ${messageOf(error)}`);
      send(response, status, body, {});
    }
  }

  async #route(request: IncomingMessage): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const url = new URL(request.url ?? "/", "http://agent.invalid");
    const segments = url.pathname.split("/").filter((segment) => segment !== "");
    const method = request.method ?? "GET";
    const decode = (segment: string): string => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, "REQUEST_BAD_PATH", `path segment ${segment} is not valid percent-encoding`);
      }
    };
    if (segments[0] === "payments" && segments.length === 1) {
      allow(method, "POST");
      const payment = await this.#api.submit(parsePaymentRequest(await readJson(request)));
      return {
        status: 202,
        body: payment,
        headers: { location: `/payments/${encodeURIComponent(payment.id)}` },
      };
    }
    if (segments[0] === "payments" && segments.length === 2) {
      allow(method, "GET");
      const id = decode(segments[1]!);
      const direction = url.searchParams.get("direction");
      if (direction !== null && direction !== "inbound" && direction !== "outbound") {
        throw new HttpError(400, "REQUEST_INVALID_FIELD", "direction must be inbound or outbound", "direction");
      }
      const payment = this.#api.payment(id, direction ?? undefined);
      if (payment === undefined) throw new NotFoundError("PAYMENT_NOT_FOUND", `there is no payment ${id}`, { id });
      return { status: 200, body: payment, headers: {} };
    }
    if (segments[0] === "accounts" && segments.length === 2) {
      allow(method, "GET");
      const id = decode(segments[1]!);
      const account = this.#api.account(id);
      if (account === undefined) throw new NotFoundError("ACCOUNT_NOT_FOUND", `there is no account ${id}`, { id });
      return { status: 200, body: account, headers: {} };
    }
    if (segments[0] === "ledger" && segments.length === 1) {
      allow(method, "GET");
      const report = this.#api.ledger();
      return {
        status: 200,
        body: {
          balanced: report.balanced,
          assets: report.assets.toString(),
          liabilities: report.liabilities.toString(),
          entries: report.entries,
          problems: report.problems,
        },
        headers: {},
      };
    }
    throw new HttpError(404, "ROUTE_NOT_FOUND", `no route ${method} ${url.pathname}`);
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new HttpError(405, "METHOD_NOT_ALLOWED", `use ${expected} here, not ${method}`);
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new RequestInvalidError("REQUEST_NOT_JSON", "the body must be JSON (content-type: application/json)");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new RequestInvalidError("REQUEST_TOO_LARGE", `the body must be at most ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RequestInvalidError("REQUEST_MALFORMED_JSON", `the body is not valid JSON: ${messageOf(error)}`);
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
