/**
 * How the console reaches the other services: their URLs from the runner at
 * request time (`npm start` gives it `() => runner.running`), and one GET at a
 * time through the generated API clients (`apiClient`, src/chain/openapi/),
 * each reply checked against the fields the console shows (zod), so a service
 * that is down, lacks the route or changed shape becomes a "service not
 * available" notice on its panel instead of a broken page.
 */
import type { z, ZodTypeAny } from "zod";

import { apiClient, type ApiPaths } from "../chain/openapi/clients.js";
import { messageOf } from "../errors.js";

/** A running service as the runner lists it. */
export interface ServiceEntry {
  readonly name: string;
  readonly url?: string | undefined;
}

/** A GET's outcome: the checked body and the path it came from, or why there is none. */
export type Got<T> =
  { readonly ok: true; readonly data: T; readonly path: string } | { readonly ok: false; readonly reason: string };

/** The API kinds the console reads: those of the generated documents. */
export type ConsoleApi = keyof ApiPaths;

/** The GET routes of API `N` as its generated document names them (`/payments/{id}`). */
export type GetRoute<N extends keyof ApiPaths> = {
  [P in keyof ApiPaths[N]]: ApiPaths[N][P] extends { get: { responses: unknown } } ? P : never;
}[keyof ApiPaths[N]] &
  string;

type LooseGet = (
  path: string,
  init: { params: { query?: Record<string, string | number> } },
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

const TIMEOUT_MS = 5_000;

/** The services' URLs and their typed clients. */
export class ServiceSources {
  readonly #services: () => readonly ServiceEntry[];

  constructor(services: () => readonly ServiceEntry[]) {
    this.#services = services;
  }

  /** The base URL of HTTP service `name`, or undefined when it is not running. */
  url(name: string): string | undefined {
    const url = this.#services().find((s) => s.name === name)?.url;
    return url?.startsWith("http://") === true || url?.startsWith("https://") === true ? url : undefined;
  }

  /** The names of the running services. */
  names(): string[] {
    return this.#services().map((s) => s.name);
  }

  /**
   * GET `route` of API `api`'s generated document (so a route that is gone fails the typecheck) on service
   * `service`, its `{name}` segments from `params`; see `get`.
   */
  async read<N extends keyof ApiPaths, S extends ZodTypeAny>(
    service: string,
    api: N,
    route: GetRoute<N>,
    schema: S,
    options: { readonly params?: Record<string, string>; readonly query?: Record<string, string | number> } = {},
  ): Promise<Got<z.output<S>>> {
    const path = route.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? ""));
    return this.get(service, api, path, schema, options.query ?? {});
  }

  /**
   * GET `path` (with `query`) on service `service` of API kind `api`, its body checked with `schema`. The path a
   * figure names is `path` plus the query as the request sent it. For a path the generated documents do not name
   * (the record page's, or a route a service gained after the documents were generated); else use `read`.
   */
  async get<S extends ZodTypeAny>(
    service: string,
    api: ConsoleApi,
    path: string,
    schema: S,
    query: Record<string, string | number> = {},
  ): Promise<Got<z.output<S>>> {
    const base = this.url(service);
    if (base === undefined) return { ok: false, reason: "not running" };
    const search = new URLSearchParams(
      Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const full = search === "" ? path : `${path}?${search}`;
    // The generated client of the API kind; the panels name their paths as the services serve them.
    const client = apiClient(api, base, {
      fetch: (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
        fetch(input, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }),
    }) as unknown as { GET: LooseGet };
    try {
      const { data, error, response } = await client.GET(path, { params: { query } });
      if (error !== undefined && /"(ROUTE_NOT_FOUND|METHOD_NOT_ALLOWED)"/.test(JSON.stringify(error))) {
        return { ok: false, reason: `no route GET ${path}` };
      }
      if (data === undefined) return { ok: false, reason: `GET ${full}: HTTP ${response.status}` };
      const parsed = schema.safeParse(data);
      if (!parsed.success)
        return { ok: false, reason: `GET ${full}: unexpected reply (${parsed.error.issues[0]?.message})` };
      return { ok: true, data: parsed.data as z.output<S>, path: full };
    } catch (error) {
      return { ok: false, reason: `GET ${full}: ${messageOf(error)}` };
    }
  }
}

/** The API kind a service of `npm start` serves (both bank agents serve `bank-agent`, …). */
export function apiOf(service: string): ConsoleApi {
  if (/^bank-[a-z]$/.test(service)) return "bank-agent";
  if (/^keys-holder\d+$/.test(service)) return "keys-holder";
  if (/^interop-attester-\d+$/.test(service)) return "interop-attester";
  if (service === "card-gateway-api") return "card-gateway";
  return service as ConsoleApi;
}
