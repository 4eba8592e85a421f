import http from "node:http";

import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { z } from "zod";

import { BankChainError } from "../../src/errors.js";
import { HttpError, JsonHttpServer, page, pageQuery, route, type HealthProbe } from "../../src/chain/http.js";
import { createLogger, lineLog, type Logger } from "../../src/chain/log.js";

const healthy: HealthProbe = {
  blockNumber: async () => 42,
  followerNextBlock: () => 40,
  checkDatabase: () => undefined,
};

function server(
  probe: HealthProbe = healthy,
  log: (line: string) => void = () => undefined,
  logger?: Logger,
): JsonHttpServer {
  const items = Array.from({ length: 7 }, (_, i) => ({ id: `item-${i}` }));
  return new JsonHttpServer({
    title: "kit test",
    version: "1",
    host: "127.0.0.1",
    port: 0,
    log,
    ...(logger === undefined ? {} : { logger }),
    health: probe,
    routes: [
      route({
        method: "POST",
        path: "/things",
        summary: "make a thing",
        body: z.object({ name: z.string().min(1), count: z.number().int().positive() }).strict(),
        responses: { 201: { description: "made", schema: z.object({ name: z.string(), count: z.number() }) } },
        handle: ({ body }) => ({ status: 201, body }),
      }),
      route({
        method: "GET",
        path: "/things/:id",
        summary: "one thing",
        params: z.object({ id: z.string().regex(/^[a-z]+$/) }),
        responses: { 200: { description: "the thing" }, 404: { description: "none" } },
        handle: ({ params }) => {
          if (params.id === "boom") throw new Error("a bug, with a secret in its message");
          if (params.id !== "one") throw new HttpError(404, "THING_NOT_FOUND", `no thing ${params.id}`);
          return { status: 200, body: { id: params.id } };
        },
      }),
      route({
        method: "GET",
        path: "/items",
        summary: "items, a page at a time",
        query: z.object({ ...pageQuery }).strict(),
        responses: { 200: { description: "a page" } },
        handle: ({ query }) => ({ status: 200, body: page(items, (item) => item.id, query) }),
      }),
    ],
  });
}

async function call(
  url: string,
  method = "GET",
  body?: string,
  type = "application/json",
): Promise<{ status: number; body: any }> {
  const reply = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body, headers: { "content-type": type } }),
  });
  return { status: reply.status, body: await reply.json() };
}

describe("chain/http: the service kit's JSON API", function () {
  let s: JsonHttpServer;
  let url: string;
  const logged: string[] = [];
  before(async function () {
    s = server(healthy, (line) => logged.push(line));
    url = await s.start();
  });
  after(async function () {
    await s.stop();
  });

  it("serves an OpenAPI 3.1 document that a validator accepts and that lists every route", async function () {
    const { status, body } = await call(`${url}/openapi.json`);
    expect(status).to.equal(200);
    expect(body.openapi).to.equal("3.1.0");
    await SwaggerParser.validate(structuredClone(body));
    const documented = Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect([...documented].sort()).to.deep.equal([...s.routes].sort());
    expect(s.routes).to.include.members(["GET /openapi.json", "GET /health", "GET /things/{id}"]);
  });

  it("validates bodies, path parameters and queries with the route's schema, naming the field", async function () {
    expect(await call(`${url}/things`, "POST", JSON.stringify({ name: "a", count: 2 }))).to.deep.equal({
      status: 201,
      body: { name: "a", count: 2 },
    });
    const missing = await call(`${url}/things`, "POST", JSON.stringify({ name: "a" }));
    expect(missing).to.deep.equal({
      status: 400,
      body: { error: { code: "REQUEST_INVALID_FIELD", message: "count is required", field: "count" } },
    });
    const unknown = await call(`${url}/things`, "POST", JSON.stringify({ name: "a", count: 1, colour: "red" }));
    expect(unknown.body.error).to.include({ code: "REQUEST_UNKNOWN_FIELD", field: "colour" });
    expect((await call(`${url}/things`, "POST", "[1]")).body.error.code).to.equal("REQUEST_NOT_AN_OBJECT");
    expect((await call(`${url}/things`, "POST", "{nope")).body.error.code).to.equal("REQUEST_MALFORMED_JSON");
    expect((await call(`${url}/things`, "POST", "x=1", "text/plain")).body.error.code).to.equal("REQUEST_NOT_JSON");
    const big = await call(`${url}/things`, "POST", JSON.stringify({ name: "x".repeat(70_000), count: 1 }));
    expect(big.status).to.equal(413);
    expect((await call(`${url}/things/ONE`)).body.error).to.include({ code: "REQUEST_INVALID_FIELD", field: "id" });
    expect((await call(`${url}/items?limit=0`)).body.error).to.include({ field: "limit" });
    expect((await call(`${url}/items?colour=red`)).body.error).to.include({ field: "colour" });
  });

  it("closes the connection after a body too large to read, saying so: a kept-alive client's next request is answered", async function () {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string) =>
      new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
        const request = http.request(
          `${url}/things`,
          { method: "POST", agent, headers: { "content-type": "application/json" } },
          (response) => {
            let text = "";
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => (text += chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode!, connection: response.headers.connection, text }),
            );
          },
        );
        request.on("error", reject);
        request.end(body);
      });
    try {
      const big = await send(JSON.stringify({ name: "x".repeat(2_000_000), count: 1 }));
      expect(big.status).to.equal(413);
      expect(JSON.parse(big.text)).to.have.nested.property("error.code", "REQUEST_TOO_LARGE");
      expect(big.connection).to.equal("close");
      const next = await send(JSON.stringify({ name: "a", count: 1 }));
      expect(next.status).to.equal(201);
      expect(next.connection, "a body read whole keeps the connection").to.not.equal("close");
    } finally {
      agent.destroy();
    }
  });

  it("answers 404 for no route, 405 for a wrong method, the handler's HttpError, and a bare 500", async function () {
    expect((await call(`${url}/nowhere`)).body.error.code).to.equal("ROUTE_NOT_FOUND");
    const wrong = await call(`${url}/things`, "GET");
    expect(wrong.status).to.equal(405);
    expect(wrong.body.error.message).to.equal("use POST here, not GET");
    expect(await call(`${url}/things/two`)).to.deep.equal({
      status: 404,
      body: { error: { code: "THING_NOT_FOUND", message: "no thing two" } },
    });
    const failed = await call(`${url}/things/boom`);
    expect(failed.status).to.equal(500);
    expect(JSON.stringify(failed.body)).to.not.include("secret");
    expect(logged.some((line) => line.includes("a bug, with a secret"))).to.equal(true);
    // A plain log gets no access lines, and the 500's line names its request id.
    expect(logged.some((line) => /^http GET \/things\/boom failed: .* \(request [0-9a-f-]{36}\)$/.test(line))).to.equal(
      true,
    );
    expect(logged.some((line) => line.includes("/nowhere"))).to.equal(false);
  });

  it("pages list endpoints with limit and an opaque cursor, refusing a cursor that names nothing", async function () {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const reply: { status: number; body: any } = await call(
        `${url}/items?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      expect(reply.status).to.equal(200);
      seen.push(...reply.body.items.map((item: { id: string }) => item.id));
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    expect(seen).to.deep.equal(Array.from({ length: 7 }, (_, i) => `item-${i}`));
    const bad = await call(`${url}/items?cursor=${Buffer.from("item-99").toString("base64url")}`);
    expect(bad.body.error).to.include({ field: "cursor" });
  });

  it("reports health: 200 with the follower's lag, 503 when the chain or the database is down", async function () {
    expect(await call(`${url}/health`)).to.deep.equal({
      status: 200,
      body: { ok: true, chain: { reachable: true, blockNumber: 42 }, followerLagBlocks: 3, database: "ok" },
    });
    const down = server({
      blockNumber: async () => {
        throw new Error("ECONNREFUSED");
      },
      checkDatabase: () => {
        throw new Error("database is closed");
      },
    });
    const downUrl = await down.start();
    try {
      expect(await call(`${downUrl}/health`)).to.deep.equal({
        status: 503,
        body: {
          ok: false,
          chain: { reachable: false, blockNumber: null },
          followerLagBlocks: null,
          database: "failing",
        },
      });
    } finally {
      await down.stop();
    }
  });
});

describe("chain/http: a service's own errors with headers", function () {
  class BusyError extends BankChainError {}
  let s: JsonHttpServer;
  let url: string;
  before(async function () {
    s = new JsonHttpServer({
      title: "kit test",
      version: "1",
      host: "127.0.0.1",
      port: 0,
      log: () => undefined,
      health: healthy,
      errorStatus: (error) => (error instanceof BusyError ? 503 : undefined),
      errorHeaders: (error) => (error instanceof BusyError ? { "retry-after": "7" } : { "x-never": "1" }),
      routes: [
        route({
          method: "POST",
          path: "/work/:how",
          summary: "work, or not",
          params: z.object({ how: z.enum(["busy", "refused", "bug"]) }),
          responses: {
            503: { description: "busy", headers: { "Retry-After": "seconds to wait" } },
            409: { description: "refused" },
          },
          handle: ({ params }) => {
            if (params.how === "busy") throw new BusyError("BUSY", "too much work");
            if (params.how === "refused") throw new HttpError(409, "REFUSED", "no");
            throw new Error("a bug");
          },
        }),
      ],
    });
    url = await s.start();
  });
  after(async function () {
    await s.stop();
  });

  it("sends errorHeaders with an error errorStatus maps, and none with an HttpError or a 500", async function () {
    const busy = await fetch(`${url}/work/busy`, { method: "POST" });
    expect(busy.status).to.equal(503);
    expect(busy.headers.get("retry-after")).to.equal("7");
    expect(((await busy.json()) as any).error).to.deep.equal({ code: "BUSY", message: "too much work" });
    for (const [how, status] of [
      ["refused", 409],
      ["bug", 500],
    ] as const) {
      const reply = await fetch(`${url}/work/${how}`, { method: "POST" });
      expect(reply.status).to.equal(status);
      expect(reply.headers.get("retry-after")).to.equal(null);
      expect(reply.headers.get("x-never")).to.equal(null);
      await reply.body?.cancel();
    }
  });

  it("documents a response's headers in a document a validator accepts", async function () {
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    await SwaggerParser.validate(structuredClone(document));
    const responses = document.paths["/work/{how}"].post.responses;
    expect(responses["503"].headers).to.deep.equal({
      "Retry-After": { description: "seconds to wait", schema: { type: "integer", minimum: 0 } },
    });
    expect(responses["409"]).to.not.have.property("headers");
  });
});

describe("chain/http: request ids and access lines", function () {
  let s: JsonHttpServer;
  let url: string;
  const written: string[] = [];
  const lines = (): Record<string, unknown>[] => written.map((line) => JSON.parse(line) as Record<string, unknown>);
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  before(async function () {
    const logger = createLogger({ service: "kit", destination: { write: (line: string) => void written.push(line) } });
    s = server(healthy, () => expect.fail("with a logger, the plain log is not used"), logger);
    url = await s.start();
  });
  after(async function () {
    await s.stop();
  });
  beforeEach(function () {
    written.length = 0;
  });

  async function get(path: string, id?: string | string[]): Promise<Response> {
    const headers = new Headers();
    for (const value of id === undefined ? [] : [id].flat()) headers.append("x-request-id", value);
    const reply = await fetch(`${url}${path}`, { headers });
    await reply.arrayBuffer();
    return reply;
  }

  it("echoes a well-formed x-request-id and writes one access line with it", async function () {
    const reply = await get("/things/one?secret=1", "abc.DEF_123-x");
    expect(reply.headers.get("x-request-id")).to.equal("abc.DEF_123-x");
    expect(written).to.have.length(1);
    const [line] = lines();
    expect(line).to.include({
      level: "info",
      service: "kit",
      reqId: "abc.DEF_123-x",
      method: "GET",
      path: "/things/one",
      status: 200,
    });
    expect(line!.ms).to.be.a("number").and.to.be.at.least(0);
    expect(Date.parse(line!.time as string)).to.be.closeTo(Date.now(), 60_000);
    expect(written[0]).to.not.include("secret=1");
  });

  it("replaces a missing, malformed, too long or repeated request id with a fresh UUID", async function () {
    const ids: string[] = [];
    for (const bad of [undefined, "has space", "a".repeat(65), "", "<script>", "ünï", ["one", "two"]]) {
      const reply = await get("/health", bad);
      const id = reply.headers.get("x-request-id");
      expect(id, String(bad)).to.match(UUID);
      ids.push(id!);
    }
    expect(new Set(ids).size).to.equal(ids.length);
    expect(lines().map((line) => line.reqId)).to.deep.equal(ids);
    expect(await get("/health", "a".repeat(64)).then((r) => r.headers.get("x-request-id"))).to.equal("a".repeat(64));
  });

  it("logs errors with their status, and a 500 as an error line with the request id", async function () {
    expect((await get("/nowhere", "r-404")).status).to.equal(404);
    expect((await get("/things/boom", "r-500")).status).to.equal(500);
    const [notFound, failed, access] = lines();
    expect(notFound).to.include({ reqId: "r-404", path: "/nowhere", status: 404, level: "info" });
    expect(failed).to.include({ reqId: "r-500", path: "/things/boom", level: "error", service: "kit" });
    expect(failed!.msg).to.match(/^http GET \/things\/boom failed: a bug/);
    expect(access).to.include({ reqId: "r-500", status: 500 });
    expect(written).to.have.length(3);
  });

  it("takes the logger a ServiceContext's log carries when no logger option is given", async function () {
    const out: string[] = [];
    const logger = createLogger({ service: "carried", destination: { write: (line: string) => void out.push(line) } });
    const carried = server(healthy, lineLog(logger));
    const at = await carried.start();
    try {
      const reply = await fetch(`${at}/health`, { headers: { "x-request-id": "carried-1" } });
      await reply.arrayBuffer();
    } finally {
      await carried.stop();
    }
    expect(out.map((line) => JSON.parse(line) as Record<string, unknown>)).to.have.length(1);
    expect(JSON.parse(out[0]!)).to.include({ service: "carried", reqId: "carried-1", path: "/health", status: 200 });
  });
});
