/**
 * The retailer adapter (`RetailerClient.order`) against the devnet's real retailer (`startRetailer`, its admin
 * routes on) over HTTP, and against a small fake HTTP retailer on 127.0.0.1 for the answers the real one never
 * gives: every status class, the 400/401 and 499/500 boundaries, 408 and 429, redirects, a body that is not an
 * order, and a receipt that does not match the order in each of its fields (re-hashed, so only the field differs).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";

import type { RetailerOrderRequest } from "../../src/commerce/processor.js";
import { receiptHash, type Receipt } from "../../src/commerce/receipt.js";
import { RetailerClient } from "../../src/commerce/retailer-client.js";
import { startRetailer, type RunningRetailer } from "../../src/commerce/retailer.js";
import { call } from "../helpers/http.js";

/** What the fake retailer answers: a status, and a body (a value is sent as JSON, a string as it is). */
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/** The real retailer's answer to the same request (status and JSON body). */
type Upstream = { status: number; json: Record<string, unknown> };

/**
 * A fake retailer: each `POST /orders` is answered by `state.answer`, which may first pass the request on to the
 * real retailer (`forward`) and change what it answered.
 */
async function fakeRetailer(upstream: string) {
  const forward = async (request: IncomingMessage, body: string): Promise<Upstream> => {
    const reply = await fetch(`${upstream}${request.url}`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": String(request.headers["idempotency-key"]) },
      body,
    });
    return { status: reply.status, json: (await reply.json()) as Record<string, unknown> };
  };
  const state = {
    answer: async (forwarded: () => Promise<Upstream>): Promise<Answer> => {
      const reply = await forwarded();
      return { status: reply.status, body: reply.json };
    },
    requests: 0,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      void (async () => {
        state.requests += 1;
        const body = Buffer.concat(chunks).toString("utf8");
        const answer = await state.answer(() => forward(request, body));
        response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        response.end(
          answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body),
        );
      })().catch((error: unknown) => {
        response.writeHead(599);
        response.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const reference = () => hexlify(randomBytes(32));
const key = () => `key-${hexlify(randomBytes(8))}`;

/** An order for `sku-book` (2500 USD minor units each) at the catalogue's price. */
function bookOrder(quantity = 1): RetailerOrderRequest {
  return {
    sku: "sku-book",
    quantity,
    price: { amount: 2500n * BigInt(quantity), currency: "USD" },
    reference: reference(),
  };
}

describe("retailer client", function () {
  this.timeout(60_000);
  let dir: string;
  let shop: RunningRetailer;
  let fake: Awaited<ReturnType<typeof fakeRetailer>>;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-retailer-client-"));
    shop = await startRetailer({ port: 0, host: "127.0.0.1", dbPath: path.join(dir, "retailer.sqlite"), admin: true });
    fake = await fakeRetailer(shop.url);
  });
  after(async function () {
    await fake?.stop();
    await shop?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the real retailer", function () {
    it("an order (201) is 'ordered' with the retailer's order id, its receipt as the retailer keeps it and its hash; the same key again (200) answers the same", async function () {
      const client = new RetailerClient(`${shop.url}/`);
      const request = bookOrder(2);
      const idempotencyKey = key();
      const result = await client.order(idempotencyKey, request);
      expect(result.kind).to.equal("ordered");
      if (result.kind !== "ordered") return;
      const kept = (await call(`${shop.url}/orders/${result.orderId}`)).body as {
        orderId: string;
        receipt: Receipt;
        receiptHash: string;
        reference: string;
      };
      expect(kept.reference).to.equal(request.reference);
      expect(result.receipt).to.deep.equal(kept.receipt);
      expect(result.receipt).to.include({ orderId: result.orderId, sku: "sku-book", quantity: 2, amount: "5000" });
      expect(result.receiptHash).to.equal(receiptHash(kept.receipt)).and.to.equal(kept.receiptHash);

      const again = await client.order(idempotencyKey, request);
      expect(again).to.deep.equal(result);
      expect(
        (await call(`${shop.url}/admin/orders`)).body.orders.filter(
          (o: { reference: string }) => o.reference === request.reference,
        ),
      ).to.have.length(1);
    });

    it("a reference in upper case is the same reference: the receipt (lower case) matches it", async function () {
      const request = bookOrder();
      const result = await new RetailerClient(shop.url).order(key(), {
        ...request,
        reference: `0x${request.reference.slice(2).toUpperCase()}`,
      });
      expect(result.kind).to.equal("ordered");
    });

    it("the retailer's refusals (4xx) are 'refused' with its code and message", async function () {
      const client = new RetailerClient(shop.url);
      const unknown = await client.order(key(), { ...bookOrder(), sku: "sku-nothing" });
      expect(unknown).to.include({ kind: "refused", code: "RETAILER_UNKNOWN_SKU" });
      const cheap = await client.order(key(), { ...bookOrder(), price: { amount: 2499n, currency: "USD" } });
      expect(cheap).to.include({ kind: "refused", code: "RETAILER_PRICE_CHANGED" });
      // 400: a quantity the retailer does not sell in one line (its body check).
      const tooMany = await client.order(key(), bookOrder(11));
      expect(tooMany.kind).to.equal("refused");
      expect((tooMany as { code: string }).code)
        .to.be.a("string")
        .and.not.match(/^RETAILER_HTTP_/);
      // 422: one key, two different requests.
      const reused = key();
      expect((await client.order(reused, bookOrder())).kind).to.equal("ordered");
      expect(await client.order(reused, bookOrder())).to.include({
        kind: "refused",
        code: "RETAILER_IDEMPOTENCY_MISMATCH",
      });
      // 402 and 409 on demand.
      await call(`${shop.url}/admin/failures`, "POST", { mode: "decline", count: 1 });
      expect(await client.order(key(), bookOrder())).to.deep.equal({
        kind: "refused",
        code: "RETAILER_PAYMENT_DECLINED",
        message: "the retailer's card payment was declined",
      });
      await call(`${shop.url}/admin/failures`, "POST", { mode: "out-of-stock", count: 1 });
      expect(await client.order(key(), bookOrder())).to.deep.equal({
        kind: "refused",
        code: "RETAILER_OUT_OF_STOCK",
        message: "sku-book is out of stock",
      });
    });

    it("the retailer down (503) is 'unavailable', its code in the message; the same key then buys", async function () {
      const client = new RetailerClient(shop.url);
      const request = bookOrder();
      const idempotencyKey = key();
      await call(`${shop.url}/admin/failures`, "POST", { mode: "down", count: 1 });
      const down = await client.order(idempotencyKey, request);
      expect(down.kind).to.equal("unavailable");
      expect((down as { message: string }).message).to.match(/^503 RETAILER_UNAVAILABLE: /);
      expect((await client.order(idempotencyKey, request)).kind).to.equal("ordered");
    });

    it("no retailer at the address is 'unavailable'", async function () {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const result = await new RetailerClient(url).order(key(), bookOrder());
      expect(result.kind).to.equal("unavailable");
    });
  });

  describe("a fake retailer's odd answers", function () {
    afterEach(function () {
      fake.state.answer = async (forwarded) => {
        const reply = await forwarded();
        return { status: reply.status, body: reply.json };
      };
    });

    const answering = (answer: Answer) => {
      fake.state.answer = () => Promise.resolve(answer);
    };
    const refusal = { error: { code: "SHOP_SAYS_NO", message: "no, said the shop" } };

    it("passed on untouched, an order is 'ordered' (the control for the tampered answers below)", async function () {
      const result = await new RetailerClient(fake.url).order(key(), bookOrder());
      expect(result.kind).to.equal("ordered");
    });

    it("every 4xx but 408 and 429 is final: 'refused' with the retailer's code, or RETAILER_HTTP_<status> without one (400 and 499 the bounds)", async function () {
      const client = new RetailerClient(fake.url);
      for (const status of [400, 401, 402, 403, 404, 409, 410, 418, 422, 499]) {
        answering({ status, body: refusal });
        expect(await client.order(key(), bookOrder()), `${status}`).to.deep.equal({
          kind: "refused",
          code: "SHOP_SAYS_NO",
          message: "no, said the shop",
        });
        answering({ status, body: { whatever: true } });
        expect(await client.order(key(), bookOrder()), `${status} without a refusal`).to.deep.equal({
          kind: "refused",
          code: `RETAILER_HTTP_${status}`,
          message: `the retailer answered ${status}`,
        });
        answering({ status, body: "<html>no</html>" });
        expect(await client.order(key(), bookOrder()), `${status} not JSON`).to.deep.equal({
          kind: "refused",
          code: `RETAILER_HTTP_${status}`,
          message: `the retailer answered ${status}`,
        });
      }
    });

    it("408, 429, every 5xx and the 2xx other than 200/201 are 'unavailable' (tried again), the retailer's code in the message", async function () {
      const client = new RetailerClient(fake.url);
      for (const status of [408, 429, 500, 501, 502, 503, 504, 599, 202, 204]) {
        answering({ status, body: status === 204 ? undefined : refusal });
        const result = await client.order(key(), bookOrder());
        expect(result.kind, `${status}`).to.equal("unavailable");
        if (status !== 204) {
          expect(result, `${status}`).to.deep.equal({
            kind: "unavailable",
            message: `${status} SHOP_SAYS_NO: no, said the shop`,
          });
          answering({ status, body: { whatever: true } });
          expect(await client.order(key(), bookOrder()), `${status} without a refusal`).to.deep.equal({
            kind: "unavailable",
            message: `the retailer answered ${status}`,
          });
        }
      }
    });

    it("a redirect (3xx) is not followed and is 'unavailable'", async function () {
      const client = new RetailerClient(fake.url);
      for (const status of [300, 301, 302, 303, 307, 308]) {
        const before = (await call(`${shop.url}/admin/orders`)).body.orders.length as number;
        answering({ status, body: refusal, headers: { location: `${shop.url}/orders` } });
        const result = await client.order(key(), bookOrder());
        expect(result.kind, `${status}`).to.equal("unavailable");
        expect((await call(`${shop.url}/admin/orders`)).body.orders, `${status}`).to.have.length(before);
      }
    });

    it("a 200 or 201 whose body is not an order is 'unavailable'", async function () {
      const client = new RetailerClient(fake.url);
      for (const status of [200, 201]) {
        answering({ status, body: "<html>thank you for your order</html>" });
        expect(await client.order(key(), bookOrder()), `${status} html`).to.deep.equal({
          kind: "unavailable",
          message: `an order answer that is not one (${status})`,
        });
        answering({ status, body: refusal });
        expect(await client.order(key(), bookOrder()), `${status} refusal`).to.deep.equal({
          kind: "unavailable",
          message: `an order answer that is not one (${status})`,
        });
      }
    });

    it("a receipt for another order id, reference, good, quantity, amount or currency (hashed right) is RETAILER_RECEIPT_MISMATCH; so is a hash that is not the receipt's", async function () {
      const client = new RetailerClient(fake.url);
      type Order = { orderId: string; receipt: Receipt; receiptHash: string };
      const rehashed = (order: Order, receipt: Receipt): Order => ({
        ...order,
        receipt,
        receiptHash: receiptHash(receipt),
      });
      const tamperings: Record<string, (order: Order) => Order> = {
        "top-level order id": (order) => ({ ...order, orderId: "ORD-999999" }),
        "receipt's order id": (order) => rehashed(order, { ...order.receipt, orderId: "ORD-999999" }),
        reference: (order) => rehashed(order, { ...order.receipt, reference: reference() }),
        sku: (order) => rehashed(order, { ...order.receipt, sku: "sku-headphones" }),
        quantity: (order) => rehashed(order, { ...order.receipt, quantity: order.receipt.quantity + 1 }),
        amount: (order) => rehashed(order, { ...order.receipt, amount: "2501" }),
        currency: (order) => rehashed(order, { ...order.receipt, currency: "EUR" }),
        hash: (order) => ({
          ...order,
          receiptHash: receiptHash({ ...order.receipt, paidAt: order.receipt.paidAt + 1 }),
        }),
      };
      for (const [what, tamper] of Object.entries(tamperings)) {
        fake.state.answer = async (forwarded) => {
          const reply = await forwarded();
          return { status: reply.status, body: tamper(reply.json as unknown as Order) };
        };
        const result = await client.order(key(), bookOrder());
        expect(result.kind, what).to.equal("refused");
        expect((result as { code: string }).code, what).to.equal("RETAILER_RECEIPT_MISMATCH");
      }
      // The same order untouched but with its hash in upper-case hex is the same hash.
      fake.state.answer = async (forwarded) => {
        const reply = await forwarded();
        const order = reply.json as unknown as Order;
        return {
          status: reply.status,
          body: { ...order, receiptHash: `0x${order.receiptHash.slice(2).toUpperCase()}` },
        };
      };
      const upper = await client.order(key(), bookOrder());
      expect(upper.kind).to.equal("ordered");
      expect((upper as { receiptHash: string }).receiptHash).to.match(/^0x[0-9a-f]{64}$/);
    });
  });
});
