import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { keccak256, toUtf8Bytes } from "ethers";

import type { ServiceContext } from "../../src/chain/service.js";
import { receiptHash } from "../../src/commerce/receipt.js";
import {
  DEFAULT_RETAILER_NAME,
  DEFAULT_RETAILER_PORT,
  RETAILER_SETTINGS,
  RETAILER_SLOW_MS,
  retailer,
  retailerService,
  startRetailer,
  type RunningRetailer,
  type StartRetailerOptions,
} from "../../src/commerce/retailer.js";
import { Store } from "../../src/store/store.js";

const NOW = 1_700_000_000;
const REF = `0x${"ab".repeat(32)}`;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Reply {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
  readonly headers: Headers;
}

const espresso = (quantity = 1, amount = String(1999 * quantity), reference = REF) => ({
  sku: "sku-espresso",
  quantity,
  price: { amount, currency: "EUR" },
  reference,
});

/**
 * Checks replies against the retailer's own OpenAPI document: the status must be listed for the route and the
 * body must match its schema (JSON Schema 2020-12).
 */
class OpenApiCheck {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly #document: any;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });

  constructor(document: unknown) {
    this.#document = document;
  }

  check(method: string, template: string, reply: Reply): void {
    const operation = this.#document.paths?.[template]?.[method.toLowerCase()];
    expect(operation, `${method} ${template} is not in the document`).to.not.equal(undefined);
    const response = operation.responses[String(reply.status)];
    expect(response, `${method} ${template} answered ${reply.status}, which is not documented`).to.not.equal(undefined);
    const validate = this.#ajv.compile(response.content["application/json"].schema);
    expect(validate(reply.body), `${method} ${template} ${reply.status}: ${JSON.stringify(validate.errors)}`).to.equal(
      true,
    );
  }
}

describe("commerce: the retailer", function () {
  this.timeout(60_000);

  let dir: string;
  let dbPath: string;
  let shop: RunningRetailer | undefined;
  let api: OpenApiCheck;
  let lines: string[];

  async function start(options: Partial<StartRetailerOptions> = {}): Promise<RunningRetailer> {
    await shop?.stop();
    shop = await startRetailer({
      port: 0,
      host: "127.0.0.1",
      dbPath,
      admin: true,
      log: (line) => lines.push(line),
      now: () => NOW,
      ...options,
    });
    return shop;
  }

  async function call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
    const reply = await fetch(`${shop!.url}${route}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await reply.text();
    return { status: reply.status, body: JSON.parse(text) as unknown, headers: reply.headers } as Reply;
  }

  /** POST /orders, checked against the document. */
  async function order(key: string | undefined, body: unknown, headers: Record<string, string> = {}) {
    const reply = await call("POST", "/orders", body, {
      ...(key === undefined ? {} : { "idempotency-key": key }),
      ...headers,
    });
    api.check("POST", "/orders", reply);
    return reply;
  }

  async function orders(): Promise<unknown[]> {
    const reply = await call("GET", "/admin/orders");
    api.check("GET", "/admin/orders", reply);
    return reply.body.orders as unknown[];
  }

  async function fail(mode: string, count: number) {
    const reply = await call("POST", "/admin/failures", { mode, count });
    api.check("POST", "/admin/failures", reply);
    expect(reply.status).to.equal(200);
    return reply;
  }

  function expectError(reply: Reply, status: number, code: string, field?: string): void {
    expect(reply.status, JSON.stringify(reply.body)).to.equal(status);
    expect(reply.body.error.code).to.equal(code);
    expect(reply.body.error.message).to.be.a("string").and.not.equal("");
    if (field !== undefined) expect(reply.body.error.field).to.equal(field);
  }

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-retailer-"));
    dbPath = path.join(dir, "retailer.sqlite");
    lines = [];
    await start();
    const document = await call("GET", "/openapi.json");
    api = new OpenApiCheck(await SwaggerParser.dereference(structuredClone(document.body)));
  });

  afterEach(async function () {
    await shop?.stop();
    shop = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  describe("adversary first", function () {
    it("refuses the same key with another body (422) and changes nothing: the key still answers its order", async function () {
      const first = await order("k-1", espresso(1));
      expect(first.status).to.equal(201);
      for (const other of [
        espresso(2),
        espresso(1, "1999", `0x${"cd".repeat(32)}`),
        { sku: "sku-book", quantity: 1, price: { amount: "2500", currency: "USD" }, reference: REF },
      ]) {
        expectError(await order("k-1", other), 422, "RETAILER_IDEMPOTENCY_MISMATCH", "idempotency-key");
      }
      // A different-case spelling of the same reference is the same request.
      const same = await order("k-1", espresso(1, "1999", REF.toUpperCase().replace("0X", "0x")));
      expect(same.status).to.equal(200);
      expect(same.body).to.deep.equal(first.body);
      expect(await orders()).to.have.length(1);
    });

    it("a key refused before any purchase is free again; a refused purchase is remembered under its key", async function () {
      // Refused before buying (stale price, unknown sku, retailer down): nothing stored, the key serves again.
      expectError(await order("k-price", espresso(1, "1998")), 409, "RETAILER_PRICE_CHANGED", "price");
      expectError(await order("k-price", { ...espresso(1), sku: "sku-nothing" }), 404, "RETAILER_UNKNOWN_SKU", "sku");
      await fail("down", 1);
      expectError(await order("k-price", espresso(1)), 503, "RETAILER_UNAVAILABLE");
      expect(await orders()).to.have.length(0);
      const bought = await order("k-price", espresso(1));
      expect(bought.status).to.equal(201);
      expect(bought.body.orderId).to.equal("ORD-000001");

      // Refused purchases: the same answer for the same key, even once no failure is pending.
      await fail("decline", 1);
      await fail("out-of-stock", 1);
      expectError(await order("k-declined", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");
      expectError(await order("k-declined", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");
      // The replay did not use up the pending out-of-stock failure: the next new purchase meets it.
      expectError(await order("k-stock", espresso(2)), 409, "RETAILER_OUT_OF_STOCK");
      expect((await fail("slow", 1)).body.pending).to.deep.equal([{ mode: "slow", count: 1 }]);
      expectError(await order("k-stock", espresso(2)), 409, "RETAILER_OUT_OF_STOCK");
      expectError(await order("k-declined", espresso(3)), 422, "RETAILER_IDEMPOTENCY_MISMATCH");
      expect(await orders()).to.have.length(1);
      // A new key buys.
      expect((await order("k-new", espresso(1))).body.orderId).to.equal("ORD-000002");
    });

    it("refuses a price lower (or higher, or in another currency) than the catalogue's × quantity", async function () {
      for (const price of [
        { amount: "1998", currency: "EUR" },
        { amount: "2000", currency: "EUR" },
        { amount: "1999", currency: "USD" },
        { amount: "1999", currency: "JPY" },
      ]) {
        const reply = await order("k", { ...espresso(1), price });
        expectError(reply, 409, "RETAILER_PRICE_CHANGED", "price");
      }
      expectError(await order("k", espresso(3, String(1999 * 2))), 409, "RETAILER_PRICE_CHANGED");
      expect(await orders()).to.have.length(0);
      const three = await order("k", espresso(3));
      expect(three.status).to.equal(201);
      expect(three.body.price).to.deep.equal({ amount: "5997", currency: "EUR" });
    });

    it("refuses a quantity of 0, 11, a fraction or a string (400, field quantity)", async function () {
      for (const quantity of [0, 11, 1.5, -1, "2", null]) {
        const reply = await order("k", { ...espresso(1), quantity });
        expectError(reply, 400, "REQUEST_INVALID_FIELD", "quantity");
      }
      expect((await order("k", espresso(10))).status).to.equal(201);
    });

    it("refuses amounts that are not canonical integer strings up to 2^64 - 1", async function () {
      for (const amount of ["1e3", "-1", "01", "0", "", " 1999", "1999.0", "0x7cf", (2n ** 64n).toString(), 1999]) {
        const reply = await order("k", { ...espresso(1), price: { amount, currency: "EUR" } });
        expectError(reply, 400, "REQUEST_INVALID_FIELD", "price.amount");
      }
      // The largest amount is well-formed; it is just not the price.
      const max = await order("k", { ...espresso(1), price: { amount: (2n ** 64n - 1n).toString(), currency: "EUR" } });
      expectError(max, 409, "RETAILER_PRICE_CHANGED");
      expect(await orders()).to.have.length(0);
    });

    it("refuses an oversized body (413) and malformed bodies (400), storing nothing", async function () {
      const big = { ...espresso(1), padding: "x".repeat(8_000) };
      expectError(await order("k", big), 413, "REQUEST_TOO_LARGE");
      expectError(await order("k", "{not json"), 400, "REQUEST_MALFORMED_JSON");
      expectError(await order("k", { ...espresso(1), extra: 1 }), 400, "REQUEST_UNKNOWN_FIELD", "extra");
      expectError(await order("k", [espresso(1)]), 400, "REQUEST_NOT_AN_OBJECT");
      expectError(await order("k", { ...espresso(1), reference: "0x12" }), 400, "REQUEST_INVALID_FIELD", "reference");
      const plain = await call("POST", "/orders", undefined, { "idempotency-key": "k" });
      expectError(plain, 400, "REQUEST_NOT_JSON");
      expect(await orders()).to.have.length(0);
      expect((await order("k", espresso(1))).status).to.equal(201);
    });

    it("refuses a missing, empty, long, repeated or non-printable Idempotency-Key (400)", async function () {
      expectError(await order(undefined, espresso(1)), 400, "REQUEST_INVALID_FIELD", "idempotency-key");
      for (const key of ["", "a".repeat(129), "a\tb", "a b\t c"]) {
        const reply = await order(key, espresso(1));
        expect(reply.status, JSON.stringify(key)).to.equal(400);
        expectError(reply, 400, "REQUEST_INVALID_FIELD", "idempotency-key");
      }
      // A repeated header is two keys, not one key with a comma.
      const repeated = await raw(
        `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n`,
        JSON.stringify(espresso(1)),
      );
      expect(repeated.status).to.equal(400);
      expect(JSON.parse(repeated.body).error.field).to.equal("idempotency-key");
      // Bytes beyond printable ASCII (fetch will not send them; a raw client can).
      for (const key of ["caf\u00e9", "a\u00a0b", "\u00ff"]) {
        const reply = await raw(
          `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\n`,
          JSON.stringify(espresso(1)),
        );
        expect(reply.status, JSON.stringify(key)).to.equal(400);
        expect(JSON.parse(reply.body).error, JSON.stringify(key)).to.deep.include({
          code: "REQUEST_INVALID_FIELD",
          field: "idempotency-key",
        });
      }
      // Control characters HTTP itself forbids are refused before the retailer sees them; still a 400.
      for (const control of ["\u0001", "\u001b[31m", "\u0000", "\u007f"]) {
        const reply = await raw(
          `POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: k${control}\r\n`,
          JSON.stringify(espresso(1)),
        );
        expect(reply.status, JSON.stringify(control)).to.equal(400);
      }
      expect(await orders()).to.have.length(0);
      // HTTP drops the whitespace around a header's value: "k\t" is the key "k", the same purchase.
      expect((await order("k\t", espresso(1))).status).to.equal(201);
      expect((await order("k", espresso(1))).status).to.equal(200);
      const longest = "~".repeat(64) + " inner space " + "!".repeat(51);
      expect(longest).to.have.length(128);
      expect((await order(longest, espresso(1))).status).to.equal(201);
      expect((await order(longest, espresso(1))).status).to.equal(200);
    });
  });

  it("serves an OpenAPI 3.1 document that swagger-parser validates; /admin only when built with admin", async function () {
    const document = await call("GET", "/openapi.json");
    await SwaggerParser.validate(structuredClone(document.body));
    expect(document.body.openapi).to.equal("3.1.0");
    const routes = Object.entries(document.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes).to.have.members([
      "GET /catalogue",
      "POST /orders",
      "GET /orders/{orderId}",
      "POST /orders/{orderId}/cancel",
      "POST /admin/failures",
      "GET /admin/orders",
      "GET /openapi.json",
      "GET /health",
    ]);
    const parameters = document.body.paths["/orders"].post.parameters as { name: string; in: string }[];
    expect(parameters.map((p) => `${p.in}:${p.name}`)).to.deep.equal(["header:idempotency-key"]);
    const health = await call("GET", "/health");
    api.check("GET", "/health", health);
    expect(health.body).to.deep.equal({ ok: true, chain: null, followerLagBlocks: null, database: "ok" });

    await start({ admin: false });
    const closed = await call("GET", "/openapi.json");
    await SwaggerParser.validate(structuredClone(closed.body));
    expect(Object.keys(closed.body.paths)).to.not.include.members(["/admin/failures", "/admin/orders"]);
    expectError(await call("POST", "/admin/failures", { mode: "down", count: 1 }), 404, "ROUTE_NOT_FOUND");
    expectError(await call("GET", "/admin/orders"), 404, "ROUTE_NOT_FOUND");
  });

  it("lists the devnet catalogue, prices as integer strings in minor units", async function () {
    const reply = await call("GET", "/catalogue");
    api.check("GET", "/catalogue", reply);
    expect(reply.body).to.deep.equal({
      items: [
        { sku: "sku-espresso", title: "Espresso machine cleaning kit", price: { amount: "1999", currency: "EUR" } },
        { sku: "sku-headphones", title: "Headphones", price: { amount: "8999", currency: "USD" } },
        { sku: "sku-book", title: "A book", price: { amount: "2500", currency: "USD" } },
      ],
    });
  });

  it("sells: 201 with the order and a receipt whose hash is keccak256 of its canonical JSON; ids are sequential", async function () {
    const first = await order("k-1", espresso(2));
    expect(first.status).to.equal(201);
    expect(first.headers.get("location")).to.equal("/orders/ORD-000001");
    const receipt = {
      orderId: "ORD-000001",
      reference: REF,
      sku: "sku-espresso",
      quantity: 2,
      amount: "3998",
      currency: "EUR",
      paidAt: NOW,
      retailer: DEFAULT_RETAILER_NAME,
    };
    expect(first.body).to.deep.equal({
      orderId: "ORD-000001",
      status: "paid",
      sku: "sku-espresso",
      quantity: 2,
      price: { amount: "3998", currency: "EUR" },
      reference: REF,
      retailer: DEFAULT_RETAILER_NAME,
      paidAt: NOW,
      cancelledAt: null,
      receipt,
      receiptHash: keccak256(
        toUtf8Bytes(
          `{"amount":"3998","currency":"EUR","orderId":"ORD-000001","paidAt":${NOW},"quantity":2,"reference":"${REF}","retailer":"${DEFAULT_RETAILER_NAME}","sku":"sku-espresso"}`,
        ),
      ),
    });
    expect(first.body.receiptHash).to.equal(receiptHash(receipt));
    expect(lines.some((line) => line.includes("ORD-000001"))).to.equal(true);

    const second = await order("k-2", {
      sku: "sku-headphones",
      quantity: 1,
      price: { amount: "8999", currency: "USD" },
      reference: REF,
    });
    expect(second.body.orderId).to.equal("ORD-000002");
    const shown = await call("GET", "/orders/ORD-000001");
    api.check("GET", "/orders/{orderId}", shown);
    expect(shown.body).to.deep.equal(first.body);
    expect(await orders()).to.deep.equal([first.body, second.body]);

    const named = await start({ name: 'Café "Shop"' });
    expect(named).to.equal(shop);
    const third = await order("k-3", espresso(1));
    expect(third.body.receipt.retailer).to.equal('Café "Shop"');
    expect(third.body.orderId).to.equal("ORD-000003");
    // An order keeps the name it was sold under.
    expect((await call("GET", "/orders/ORD-000001")).body).to.deep.equal(first.body);
  });

  it("answers 404 for an unknown order and 400 for a malformed order id", async function () {
    await order("k", espresso(1));
    for (const id of ["ORD-000002", "ORD-0000001"]) {
      const reply = await call("GET", `/orders/${id}`);
      api.check("GET", "/orders/{orderId}", reply);
      expectError(reply, 404, "RETAILER_UNKNOWN_ORDER", "orderId");
      const cancel = await call("POST", `/orders/${id}/cancel`);
      api.check("POST", "/orders/{orderId}/cancel", cancel);
      expectError(cancel, 404, "RETAILER_UNKNOWN_ORDER");
    }
    for (const id of ["1", "ord-000001", "ORD-1", "ORD-00000%0A1"]) {
      expectError(await call("GET", `/orders/${id}`), 400, "REQUEST_INVALID_FIELD", "orderId");
    }
  });

  it("creates exactly one order from concurrent identical requests with one key", async function () {
    const replies = await Promise.all(Array.from({ length: 12 }, () => order("same-key", espresso(1))));
    expect(replies.map((r) => r.status).sort()).to.deep.equal([...Array(11).fill(200), 201]);
    for (const reply of replies) expect(reply.body).to.deep.equal(replies[0]!.body);
    expect(await orders()).to.have.length(1);
    // Distinct keys at once: distinct, sequential ids.
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => order(`key-${i}`, espresso(1))));
    expect(many.map((r) => r.status)).to.deep.equal(Array(6).fill(201));
    expect(many.map((r) => r.body.orderId).sort()).to.deep.equal([
      "ORD-000002",
      "ORD-000003",
      "ORD-000004",
      "ORD-000005",
      "ORD-000006",
      "ORD-000007",
    ]);
  });

  it("after a restart on the same file, answers a repeated key with the same order, receipt and refusal", async function () {
    const sold = await order("k-sold", espresso(1));
    await fail("decline", 1);
    expectError(await order("k-declined", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");

    await start({ now: () => NOW + 3600 });
    const again = await order("k-sold", espresso(1));
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(sold.body);
    expectError(await order("k-declined", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");
    expectError(await order("k-sold", espresso(2)), 422, "RETAILER_IDEMPOTENCY_MISMATCH");
    const next = await order("k-next", espresso(1));
    expect(next.body.orderId).to.equal("ORD-000002");
    expect(next.body.paidAt).to.equal(NOW + 3600);
  });

  it("writes the order and its key in one transaction: a failure between the two leaves neither", async function () {
    let crash = true;
    await start({
      onStep: () => {
        if (crash) throw new Error("power cut between the order and its key");
      },
    });
    const reply = await order("k", espresso(1));
    expectError(reply, 500, "INTERNAL");
    expect(lines.some((line) => line.includes("power cut"))).to.equal(true);
    expect(await orders()).to.have.length(0);
    crash = false;
    const retried = await order("k", espresso(1));
    expect(retried.status).to.equal(201);
    expect(retried.body.orderId).to.equal("ORD-000001");
  });

  it("the database itself refuses an order without its key, and a key naming no order", async function () {
    await order("k", espresso(1));
    await shop!.stop();
    const store = Store.open({ path: dbPath });
    try {
      const { receipt, receipt_hash } = store.get<{ receipt: string; receipt_hash: string }>(
        "SELECT receipt, receipt_hash FROM retailer_orders",
      )!;
      expect(() =>
        store.transaction(() =>
          store.run(
            "INSERT INTO retailer_orders (order_id, idempotency_key, status, receipt, receipt_hash) VALUES (2, 'orphan', 'paid', ?, ?)",
            receipt,
            receipt_hash,
          ),
        ),
      ).to.throw(/FOREIGN KEY/);
      expect(() =>
        store.transaction(() =>
          store.run(
            "INSERT INTO retailer_idempotency (idempotency_key, request_hash, order_id, created_at) VALUES ('lost', '0x', 9, 0)",
          ),
        ),
      ).to.throw(/FOREIGN KEY/);
      expect(() =>
        store.run(
          "INSERT INTO retailer_idempotency (idempotency_key, request_hash, order_id, created_at) VALUES ('neither', '0x', NULL, 0)",
        ),
      ).to.throw(/CHECK/);
      // The refused commits were rolled back: the connection is usable, no transaction is left open.
      expect(store.inSqliteTransaction).to.equal(false);
      store.transaction(() => store.run("UPDATE retailer_orders SET status = 'cancelled'"));
      expect(store.get<{ n: number }>("SELECT COUNT(*) AS n FROM retailer_orders")!.n).to.equal(1);
      expect(store.get<{ n: number }>("SELECT COUNT(*) AS n FROM retailer_idempotency")!.n).to.equal(1);
    } finally {
      store.close();
    }
  });

  it("survives a SIGKILL between the order and its key: the restarted retailer has neither and sells once", async function () {
    await shop!.stop();
    shop = undefined;
    const script = `
      import { startRetailer } from ${JSON.stringify(path.join(ROOT, "src/commerce/retailer.ts"))};
      const shop = await startRetailer({
        port: 0, host: "127.0.0.1", dbPath: ${JSON.stringify(dbPath)}, admin: true,
        onStep: () => process.kill(process.pid, "SIGKILL"),
      });
      console.log("ready " + shop.url);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /ready (\S+)/.exec(out);
          if (match !== null) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`the child exited (${code}) before it was ready: ${out}`)));
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_c, signal) => resolve(signal)),
      );
      await fetch(`${url}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "k" },
        body: JSON.stringify(espresso(1)),
      }).then(
        () => expect.fail("the child answered instead of dying"),
        () => undefined,
      );
      expect(await exited).to.equal("SIGKILL");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await start();
    expect(await orders()).to.have.length(0);
    const sold = await order("k", espresso(1));
    expect(sold.status).to.equal(201);
    expect(sold.body.orderId).to.equal("ORD-000001");
  });

  it("cancels an order (the refund path); cancelling again changes nothing; the key still answers it", async function () {
    const sold = await order("k", espresso(1));
    await start({ now: () => NOW + 60 });
    const cancelled = await call("POST", "/orders/ORD-000001/cancel");
    api.check("POST", "/orders/{orderId}/cancel", cancelled);
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body).to.deep.equal({ ...sold.body, status: "cancelled", cancelledAt: NOW + 60 });
    await start({ now: () => NOW + 120 });
    const again = await call("POST", "/orders/ORD-000001/cancel");
    expect(again.body).to.deep.equal(cancelled.body);
    const replay = await order("k", espresso(1));
    expect(replay.status).to.equal(200);
    expect(replay.body).to.deep.equal(cancelled.body);
    expect(replay.body.receipt).to.deep.equal(sold.body.receipt);
  });

  it("'slow' waits before serving; a retry with the same key meanwhile gets the one order", async function () {
    expect(RETAILER_SLOW_MS).to.equal(2_000);
    await start({ slowMs: 400 });
    await fail("slow", 1);
    const began = Date.now();
    const slow = order("k", espresso(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const retry = await order("k", espresso(1));
    expect(retry.status).to.equal(201);
    expect(Date.now() - began).to.be.below(400);
    const late = await slow;
    expect(Date.now() - began).to.be.at.least(400);
    expect(late.status).to.equal(200);
    expect(late.body).to.deep.equal(retry.body);
    expect(await orders()).to.have.length(1);
  });

  it("'down' answers 503 for the next count requests, replays included, and stores nothing", async function () {
    const sold = await order("k", espresso(1));
    await fail("down", 2);
    expectError(await order("k", espresso(1)), 503, "RETAILER_UNAVAILABLE");
    expectError(await order("k2", espresso(1)), 503, "RETAILER_UNAVAILABLE");
    expect((await order("k", espresso(1))).body).to.deep.equal(sold.body);
    expect((await order("k2", espresso(1))).status).to.equal(201);
  });

  it("refuses a malformed failure request and queues failures in order", async function () {
    for (const body of [{ mode: "explode", count: 1 }, { mode: "down", count: 0 }, { mode: "down", count: 1.5 }, {}]) {
      const reply = await call("POST", "/admin/failures", body);
      api.check("POST", "/admin/failures", reply);
      expect(reply.status).to.equal(400);
    }
    await fail("decline", 2);
    expect((await fail("out-of-stock", 1)).body.pending).to.deep.equal([
      { mode: "decline", count: 2 },
      { mode: "out-of-stock", count: 1 },
    ]);
    expectError(await order("a", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");
    expectError(await order("b", espresso(1)), 402, "RETAILER_PAYMENT_DECLINED");
    expectError(await order("c", espresso(1)), 409, "RETAILER_OUT_OF_STOCK");
    expect((await order("d", espresso(1))).status).to.equal(201);
  });

  it("reads RETAILER_PORT (default 8660) and RETAILER_ADMIN (on on the devnet only)", function () {
    expect(DEFAULT_RETAILER_PORT).to.equal(8660);
    expect(RETAILER_SETTINGS.read({}, { devnet: true })).to.deep.equal({ RETAILER_PORT: 8660, RETAILER_ADMIN: "on" });
    expect(RETAILER_SETTINGS.read({}, { devnet: false })).to.deep.equal({
      RETAILER_PORT: 8660,
      RETAILER_ADMIN: "off",
    });
    expect(RETAILER_SETTINGS.read({ RETAILER_PORT: "0", RETAILER_ADMIN: "off" }, { devnet: true })).to.deep.equal({
      RETAILER_PORT: 0,
      RETAILER_ADMIN: "off",
    });
    expect(() => RETAILER_SETTINGS.read({ RETAILER_PORT: "70000" }, { devnet: true })).to.throw(/RETAILER_PORT/);
  });

  it("runs as an npm start service: <dataDir>/retailer.sqlite, RETAILER_PORT, /admin on the devnet only", async function () {
    const started: { stop(): Promise<void> }[] = [];
    try {
      for (const [chainId, admin] of [
        [31337, 404],
        [1, 404],
      ] as const) {
        const env = chainId === 31337 ? { RETAILER_PORT: "0", RETAILER_ADMIN: "off" } : { RETAILER_PORT: "0" };
        const service = await retailerService({ env }).create({
          chain: { chainId } as unknown as ServiceContext["chain"],
          deployments: {} as ServiceContext["deployments"],
          dataDir: dir,
          log: (line) => lines.push(line),
        });
        await service.start();
        started.push(service);
        expect(service.name).to.equal("retailer");
        const url = service.url!;
        expect((await fetch(`${url}/admin/orders`)).status).to.equal(admin);
        const health = (await (await fetch(`${url}/health`)).json()) as { ok: boolean };
        expect(health.ok).to.equal(true);
        await service.stop();
        started.pop();
      }
      const devnet = await retailerService({ env: { RETAILER_PORT: "0" } }).create({
        chain: { chainId: 31337 } as unknown as ServiceContext["chain"],
        deployments: {} as ServiceContext["deployments"],
        dataDir: dir,
        log: (line) => lines.push(line),
      });
      await devnet.start();
      started.push(devnet);
      expect((await fetch(`${devnet.url!}/admin/orders`)).status).to.equal(200);
      const bought = await fetch(`${devnet.url!}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": "svc" },
        body: JSON.stringify(espresso(1)),
      });
      expect(bought.status).to.equal(201);
      await devnet.stop();
      started.pop();
      expect(existsSync(path.join(dir, "retailer.sqlite"))).to.equal(true);
      expect(retailer.name).to.equal("retailer");
    } finally {
      for (const service of started) await service.stop();
    }
  });

  /**
   * Sends `head` (request line and headers, CRLF-terminated) and `body` (ASCII) as they are, one byte per
   * character (latin1), and reads the reply.
   */
  async function raw(head: string, body: string): Promise<{ status: number; body: string }> {
    const url = new URL(shop!.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        const text = `${head}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
        socket.end(Buffer.from(text, "latin1"));
      });
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
      socket.on("error", reject);
      socket.on("close", () => {
        const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
        if (match === null) return reject(new Error(`not an HTTP reply: ${JSON.stringify(text)}`));
        resolve({ status: Number(match[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) });
      });
    });
  }
});
