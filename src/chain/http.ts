/**
 * The service kit's JSON-over-HTTP layer: one route table per service, each
 * route with the zod schemas that validate its path parameters, query and
 * body and describe its responses; the same schemas generate the service's
 * OpenAPI 3.1 document (`GET /openapi.json`). Every service also answers
 * `GET /health`.
 *
 * Errors are `{ "error": { "code", "message", "field"? } }`: an `HttpError`
 * carries its own status; the service maps its other error classes with
 * `errorStatus`; anything else is a 500 whose cause goes to the log only.
 *
 * Every request gets an id: the client's `x-request-id` when it is 1-64 of
 * `[A-Za-z0-9_.-]`, else a random UUID. The reply echoes it in `x-request-id`
 * and the server writes one access line `{reqId, method, path, status, ms}`
 * per request through its structured logger (see `JsonHttpOptions.logger`).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z, type ZodType, type ZodTypeAny } from "zod";

import { BankChainError, messageOf } from "../errors.js";
import { close, listen } from "./http-server.js";
import { attachedLogger, type Logger } from "./log.js";
import { zodIssue } from "./zod-issue.js";

extendZodWithOpenApi(z);

/** A request the service refuses, with its HTTP status and the offending field. */
export class HttpError extends BankChainError {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, code: string, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(code, message, { ...details, ...(field === undefined ? {} : { field }) });
    this.status = status;
    this.field = field;
  }
}

/** The one shape of an error body. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: "stable, machine-readable reason", example: "REQUEST_INVALID_FIELD" }),
      message: z.string(),
      field: z.string().optional().openapi({ description: "the offending field, when there is one" }),
    }),
  })
  .openapi("Error");

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Parses `value` with `schema`; a failure is a 400 naming the field (see `zodIssue`). */
export function parseOr400<S extends ZodTypeAny>(schema: S, value: unknown, fallback: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<S>;
  const { code, field, message } = zodIssue(result.error, fallback);
  throw new HttpError(400, code, message, field);
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** What a handler returns. */
export interface Reply {
  readonly status: number;
  /** JSON, or a Buffer sent as it is under the `content-type` of `headers`. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One route: its schemas (validation and documentation) and its handler. */
export interface Route<
  P extends z.AnyZodObject = z.AnyZodObject,
  Q extends z.AnyZodObject = z.AnyZodObject,
  B extends ZodTypeAny = ZodTypeAny,
  H extends z.AnyZodObject = z.AnyZodObject,
> {
  readonly method: Method;
  /** `/payments/:id` style; `:name` segments are path parameters. */
  readonly path: string;
  readonly summary: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /**
   * Request headers the route reads, by lower-case name (other headers are ignored). Each is given as a string, or
   * as an array of strings when the request repeats it, so a `z.string()` refuses a repeated header.
   */
  readonly headers?: H;
  /**
   * Status → description and body schema, for the document. Error statuses share `errorBodySchema`. A route that
   * replies with a Buffer names its `contentType` (default `application/json`).
   */
  readonly responses: Readonly<
    Record<
      number,
      {
        readonly description: string;
        readonly schema?: ZodType;
        readonly contentType?: string;
        /** Response headers the status carries, by name → description (each documented as an integer). */
        readonly headers?: Readonly<Record<string, string>>;
      }
    >
  >;
  readonly handle: (request: {
    readonly params: z.output<P>;
    readonly query: z.output<Q>;
    readonly body: z.output<B>;
    readonly headers: z.output<H>;
  }) => Reply | Promise<Reply>;
}

/** Types a route's handler from its schemas; the table holds it as a plain `Route`. */
export function route<
  P extends z.AnyZodObject = z.ZodObject<Record<string, never>>,
  Q extends z.AnyZodObject = z.ZodObject<Record<string, never>>,
  B extends ZodTypeAny = z.ZodUndefined,
  H extends z.AnyZodObject = z.ZodObject<Record<string, never>>,
>(definition: Route<P, Q, B, H>): Route {
  return definition as unknown as Route;
}

/** Pagination of list endpoints: `limit` (1-500, default 100) and an opaque `cursor`. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(100).openapi({ description: "most items to return" }),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/)
    .optional()
    .openapi({ description: "`nextCursor` of the previous page" }),
};

/** One page of `items` (already in a stable order) after `cursor`, with the cursor of the next page. */
export function page<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  query: { readonly limit: number; readonly cursor?: string | undefined },
): { items: T[]; nextCursor: string | null } {
  let start = 0;
  if (query.cursor !== undefined) {
    const after = Buffer.from(query.cursor, "base64url").toString("utf8");
    const index = items.findIndex((item) => keyOf(item) === after);
    if (index < 0) throw new HttpError(400, "REQUEST_INVALID_FIELD", "cursor: does not name an item", "cursor");
    start = index + 1;
  }
  const slice = items.slice(start, start + query.limit);
  const more = start + query.limit < items.length;
  const last = slice.at(-1);
  return {
    items: slice,
    nextCursor: more && last !== undefined ? Buffer.from(keyOf(last), "utf8").toString("base64url") : null,
  };
}

/** What `GET /health` reports; `ok` is false when any part is down. */
export const healthSchema = z
  .object({
    ok: z.boolean(),
    chain: z
      .object({
        reachable: z.boolean(),
        blockNumber: z.number().int().nullable(),
      })
      .nullable()
      .openapi({ description: "null for a service that uses no chain" }),
    followerLagBlocks: z.number().int().nullable().openapi({ description: "blocks the event follower is behind" }),
    database: z.enum(["ok", "failing"]),
  })
  .openapi("Health");

export type Health = z.infer<typeof healthSchema>;

/** The parts a health report asks about. */
export interface HealthProbe {
  /** The chain's head, or a throw when it cannot be reached; absent for a service that uses no chain. */
  blockNumber?(): Promise<number>;
  /** The next block the service's follower will read, if it follows events. */
  followerNextBlock?(): number | undefined;
  /** A cheap query that throws when the store is broken. */
  checkDatabase(): void;
}

/** Asks each part of `probe`; never throws. */
export async function health(probe: HealthProbe): Promise<Health> {
  let database: Health["database"] = "ok";
  if (probe.blockNumber === undefined) {
    try {
      probe.checkDatabase();
    } catch {
      database = "failing";
    }
    return { ok: database === "ok", chain: null, followerLagBlocks: null, database };
  }
  let blockNumber: number | null = null;
  try {
    blockNumber = await probe.blockNumber();
  } catch {
    blockNumber = null;
  }
  try {
    probe.checkDatabase();
  } catch {
    database = "failing";
  }
  const next = probe.followerNextBlock?.();
  const followerLagBlocks = next === undefined || blockNumber === null ? null : Math.max(0, blockNumber + 1 - next);
  return {
    ok: blockNumber !== null && database === "ok",
    chain: { reachable: blockNumber !== null, blockNumber },
    followerLagBlocks,
    database,
  };
}

export interface JsonHttpOptions {
  /** The document's title and version. */
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly routes: readonly Route[];
  readonly health: HealthProbe;
  /** A plain log: a 500's cause, as a line naming the request id, when there is no structured logger. */
  readonly log: (line: string) => void;
  /**
   * Where the access lines and the 500s go, with the request id; default the logger `log` carries (a
   * ServiceContext's `log`, see `lineLog`). With neither, no access lines are written.
   */
  readonly logger?: Logger;
  /** The status for the service's own error classes; `undefined` means 500. */
  readonly errorStatus?: (error: unknown) => number | undefined;
  /**
   * Headers for an error `errorStatus` maps (a 503's `retry-after`, say); by lower-case name. Not asked for a
   * 500 or an `HttpError`.
   */
  readonly errorHeaders?: (error: unknown) => Readonly<Record<string, string>> | undefined;
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** The response header (and request header, when valid) carrying the request id. */
export const REQUEST_ID_HEADER = "x-request-id";
const REQUEST_ID = /^[\w.-]{1,64}$/;

/** The client's request id when it is 1-64 of `[A-Za-z0-9_.-]` (one header, not repeated), else a random UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
}

/** A JSON service on node:http with a route table, `/openapi.json` and `/health`. */
export class JsonHttpServer {
  readonly #options: JsonHttpOptions;
  readonly #routes: readonly CompiledRoute[];
  readonly #server: Server;
  readonly #document: Record<string, unknown>;
  readonly #logger: Logger | undefined;
  #url: string | undefined;

  constructor(options: JsonHttpOptions) {
    this.#options = options;
    this.#logger = options.logger ?? attachedLogger(options.log);
    const builtIn: Route[] = [
      route({
        method: "GET",
        path: "/openapi.json",
        summary: "this document (OpenAPI 3.1)",
        responses: { 200: { description: "the OpenAPI document" } },
        handle: () => ({ status: 200, body: this.#document }),
      }),
      route({
        method: "GET",
        path: "/health",
        summary: "whether the chain, the event follower and the database are fine",
        responses: {
          200: { description: "every part is fine", schema: healthSchema },
          503: { description: "a part is down", schema: healthSchema },
        },
        handle: async () => {
          const report = await health(options.health);
          return { status: report.ok ? 200 : 503, body: report };
        },
      }),
    ];
    const routes = [...options.routes, ...builtIn];
    const seen = new Set<string>();
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) throw new BankChainError("HTTP_DUPLICATE_ROUTE", `two routes ${key}`, { route: key });
      seen.add(key);
    }
    this.#routes = routes.map((r) => ({ route: r, segments: r.path.split("/").filter((s) => s !== "") }));
    this.#document = openApiDocument(options, routes);
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.keepAliveTimeout = 5_000;
  }

  /** `http://host:port` once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** The OpenAPI document this server serves. */
  get document(): Readonly<Record<string, unknown>> {
    return this.#document;
  }

  /** Every route as `METHOD /path` (OpenAPI path syntax), the built-in ones included. */
  get routes(): readonly string[] {
    return this.#routes.map(({ route: r }) => `${r.method} ${openApiPath(r.path)}`);
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
    const started = process.hrtime.bigint();
    const reqId = requestIdOf(request.headers[REQUEST_ID_HEADER]);
    let reply: Reply;
    try {
      reply = await this.#dispatch(request);
    } catch (error) {
      reply = this.#errorReply(error, request, reqId);
    }
    // A Buffer body goes out as it is, under the content-type the route's headers give (an image, say).
    const text = Buffer.isBuffer(reply.body)
      ? reply.body
      : JSON.stringify(reply.body, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
    response.writeHead(reply.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...reply.headers,
      // A body not read to its end (too large) leaves the connection unusable: the client is told not to reuse it.
      ...(request.complete ? {} : { connection: "close" }),
      [REQUEST_ID_HEADER]: reqId,
    });
    this.#logger?.info(
      {
        reqId,
        method: request.method,
        path: pathOf(request),
        status: reply.status,
        ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
      },
      "request",
    );
    response.end(text);
  }

  #errorReply(error: unknown, request: IncomingMessage, reqId: string): Reply {
    const body = (code: string, message: string, field?: string): ErrorBody => ({
      error: { code, message, ...(field === undefined ? {} : { field }) },
    });
    if (error instanceof HttpError) return { status: error.status, body: body(error.code, error.message, error.field) };
    const status = this.#options.errorStatus?.(error);
    if (status !== undefined && error instanceof BankChainError) {
      const field = typeof error.details.field === "string" ? error.details.field : undefined;
      const headers = this.#options.errorHeaders?.(error);
      return { status, body: body(error.code, error.message, field), ...(headers === undefined ? {} : { headers }) };
    }
    const line = `http ${request.method} ${pathOf(request)} failed: ${messageOf(error)}`;
    if (this.#logger === undefined) this.#options.log(`${line} (request ${reqId})`);
    else this.#logger.error({ reqId, method: request.method, path: pathOf(request) }, line);
    return { status: 500, body: body("INTERNAL", "the service failed to handle the request; see its log") };
  }

  async #dispatch(request: IncomingMessage): Promise<Reply> {
    const url = new URL(request.url ?? "/", "http://service.invalid");
    const segments = url.pathname.split("/").filter((segment) => segment !== "");
    const method = request.method ?? "GET";
    const matching = this.#routes
      .map((compiled) => ({ compiled, params: match(compiled.segments, segments) }))
      .filter((m): m is { compiled: CompiledRoute; params: Record<string, string> } => m.params !== undefined);
    if (matching.length === 0) throw new HttpError(404, "ROUTE_NOT_FOUND", `no route ${method} ${url.pathname}`);
    const found = matching.find((m) => m.compiled.route.method === method);
    if (found === undefined) {
      const allowed = [...new Set(matching.map((m) => m.compiled.route.method))].join(", ");
      throw new HttpError(405, "METHOD_NOT_ALLOWED", `use ${allowed} here, not ${method}`);
    }
    const { route: r } = found.compiled;
    const params = r.params === undefined ? {} : parseOr400(r.params, found.params, "path");
    const query = r.query === undefined ? {} : parseOr400(r.query, Object.fromEntries(url.searchParams), "query");
    const headers = r.headers === undefined ? {} : parseOr400(r.headers, headersOf(request), "headers");
    const body = r.body === undefined ? undefined : parseOr400(r.body, await readJson(request, this.#maxBody), "body");
    return r.handle({ params, query, body, headers });
  }

  get #maxBody(): number {
    return this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }
}

/** The request's path without its query (which may carry cursors or ids a log need not keep), at most 512 characters. */
function pathOf(request: IncomingMessage): string {
  const raw = request.url ?? "/";
  const end = raw.indexOf("?");
  return (end < 0 ? raw : raw.slice(0, end)).slice(0, 512);
}

/** Path parameters when `pattern` matches `segments`, otherwise undefined. */
function match(pattern: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    const want = pattern[i]!;
    const got = segments[i]!;
    if (want.startsWith(":")) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        throw new HttpError(400, "REQUEST_BAD_PATH", `path segment ${got} is not valid percent-encoding`);
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

/** The request's headers by lower-case name: one value as a string, a repeated header as the array of its values. */
function headersOf(request: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values === undefined) continue;
    headers[name] = values.length === 1 ? values[0]! : values;
  }
  return headers;
}

async function readJson(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = request.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(400, "REQUEST_NOT_JSON", "the body must be JSON (content-type: application/json)");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, "REQUEST_TOO_LARGE", `the body must be at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch (error) {
    throw new HttpError(400, "REQUEST_MALFORMED_JSON", `the body is not valid JSON: ${messageOf(error)}`);
  }
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function openApiDocument(options: JsonHttpOptions, routes: readonly Route[]): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.register("Error", errorBodySchema);
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(r.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.headers === undefined
          ? {}
          : {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, description]) => [
                  name,
                  { description, schema: { type: "integer", minimum: 0 } },
                ]),
              ),
            }),
        content: {
          [response.contentType ?? "application/json"]: {
            schema: response.schema ?? (Number(status) >= 400 ? errorBodySchema : {}),
          },
        },
      };
    }
    responses["400"] ??= {
      description: "malformed request",
      content: { "application/json": { schema: errorBodySchema } },
    };
    responses["500"] ??= {
      description: "internal error",
      content: { "application/json": { schema: errorBodySchema } },
    };
    registry.registerPath({
      method: r.method.toLowerCase() as "get" | "post" | "put" | "delete",
      path: openApiPath(r.path),
      summary: r.summary,
      request: {
        ...(r.params === undefined ? {} : { params: r.params }),
        ...(r.query === undefined ? {} : { query: r.query }),
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.body === undefined ? {} : { body: { content: { "application/json": { schema: r.body } } } }),
      },
      responses: responses as never,
    });
  }
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: "3.1.0",
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
  }) as unknown as Record<string, unknown>;
}
