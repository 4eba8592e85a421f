import { expect } from "chai";
import { getAddress, keccak256, toUtf8Bytes, ZeroHash } from "ethers";

import type { JsonHttpServer } from "../../src/chain/http.js";
import { checkoutHttpServer } from "../../src/commerce/http.js";
import { intentFromJson } from "../../src/commerce/intent.js";
import { InvoiceStore } from "../../src/commerce/store.js";
import { Store } from "../../src/store/store.js";

const PAYER = "0xcd3B766CCDd6AE721141F452C550Ca635964ce71";
const OTHER = getAddress("0x00000000000000000000000000000000000000a1");

/** An invoice as the quote service records it; its id is a made-up digest (the list does not check it). */
function invoice(n: number) {
  const intentId = keccak256(toUtf8Bytes(`invoice ${n}`));
  return {
    intentId,
    intent: intentFromJson({
      payer: PAYER,
      merchant: OTHER,
      orderRef: ZeroHash,
      fiatAmount: String(1_000 + n),
      currency: "EUR",
      token: OTHER,
      tokenAmount: String(10_000_000 + n),
      priceFeed: OTHER,
      roundId: "1",
      maxDeviationBps: "100",
      quoteExpiry: "2000000000",
      authorizationExpiry: "2000000000",
      refundExpiry: "2000000000",
      feeBps: "100",
      feeReceiver: OTHER,
      salt: intentId,
    }),
    operatorSignature: "0x" + "11".repeat(65),
    depositAddress: getAddress("0x" + (0xb000 + n).toString(16).padStart(40, "0")),
    sku: n % 2 === 0 ? "mug" : "tee",
    quantity: 1 + (n % 3),
    price: { amount: BigInt(1_000 + n), currency: "EUR" },
  };
}

interface Page {
  items: Array<{ intentId: string; status: string; sku: string; purchaseState: string; createdAt: string }>;
  counts: Record<string, number>;
  nextCursor: string | null;
  error?: { field?: string };
}

describe("commerce: GET /invoices", function () {
  let now = 1_700_000_000_000;
  let store: InvoiceStore;
  let server: JsonHttpServer;
  let url: string;
  const ids: string[] = [];

  before(async function () {
    store = new InvoiceStore(Store.open({ path: ":memory:" }), () => now);
    const unused = (what: string) => () => {
      throw new Error(`GET /invoices must not call ${what}`);
    };
    server = checkoutHttpServer(
      {
        store,
        chainId: 31337n,
        checkout: OTHER,
        quote: unused("quote"),
        catalogue: unused("catalogue"),
        submitAuthorization: unused("submitAuthorization"),
        refund: unused("refund"),
      },
      {
        host: "127.0.0.1",
        port: 0,
        log: () => {},
        health: { blockNumber: async () => 0, followerNextBlock: () => 0, checkDatabase: () => {} },
      },
    );
    url = await server.start();
    // Eight invoices; 6 and 7 in the same millisecond.
    for (let n = 0; n < 8; n++) {
      if (n !== 7) now += 1_000;
      ids.push(store.add(invoice(n)).intentId);
    }
    store.update(ids[1]!, { status: "paid", purchase: "ordering" }, "paid");
    store.update(ids[4]!, { status: "complete", purchase: "captured" }, "captured");
    store.update(ids[5]!, { status: "expired" }, "expired");
  });

  after(async function () {
    await server.stop();
  });

  const get = async (query: string) => {
    const response = await fetch(`${url}/invoices${query}`);
    return { status: response.status, body: (await response.json()) as Page };
  };

  const all = async (query: string) => {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const { status, body } = await get(`?${query}${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(status).to.equal(200);
      pages.push(body);
      cursor = body.nextCursor;
    } while (cursor !== null && pages.length < 20);
    return pages;
  };

  const newestFirst = () => {
    const [six, seven] = [ids[6]!, ids[7]!].sort().reverse();
    return [six!, seven!, ...ids.slice(0, 6).reverse()];
  };

  it("lists what was created, newest first, each with its price, token amount, payer and purchase", async function () {
    const { status, body } = await get("");
    expect(status).to.equal(200);
    expect(body.items.map((item) => item.intentId)).to.deep.equal(newestFirst());
    expect(body.nextCursor).to.equal(null);
    expect(body.items.find((item) => item.intentId === ids[4])).to.deep.equal({
      intentId: ids[4],
      status: "complete",
      sku: "mug",
      quantity: 2,
      fiatAmount: "1004",
      currency: "EUR",
      tokenAmount: "10000004",
      payer: PAYER,
      purchaseState: "captured",
      createdAt: new Date(1_700_000_005_000).toISOString(),
      updatedAt: new Date(now).toISOString(),
    });
  });

  it("pages through every invoice once, and the counts equal the items", async function () {
    const pages = await all("limit=3");
    expect(pages.map((page) => page.items.length)).to.deep.equal([3, 3, 2]);
    const seen = pages.flatMap((page) => page.items.map((item) => item.intentId));
    expect(seen).to.deep.equal(newestFirst());
    expect(Object.values(pages[0]!.counts).reduce((sum, n) => sum + n, 0)).to.equal(seen.length);
    expect(pages[0]!.counts).to.deep.equal({ new: 5, paid: 1, complete: 1, expired: 1 });
  });

  it("filters by status, a page at a time", async function () {
    const fresh = (await all("status=new&limit=2")).flatMap((page) => page.items);
    expect(fresh.map((item) => item.intentId)).to.deep.equal(
      newestFirst().filter((id) => ![ids[1], ids[4], ids[5]].includes(id)),
    );
    expect(fresh.every((item) => item.status === "new")).to.equal(true);
    expect((await get("?status=paid")).body.items.map((item) => item.intentId)).to.deep.equal([ids[1]]);
    expect((await get("?status=refunded")).body.items).to.deep.equal([]);
  });

  it("an invoice that changes status between two pages neither repeats nor hides the others", async function () {
    const first = await get("?status=new&limit=2");
    store.update(first.body.items[0]!.intentId, { status: "paid" }, "paid");
    const second = await get(`?status=new&limit=10&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items].map((item) => item.intentId)).to.have.members(
      newestFirst().filter((id) => ![ids[1], ids[4], ids[5]].includes(id)),
    );
  });

  for (const [query, field] of [
    ["?status=lost", "status"],
    ["?limit=0", "limit"],
    ["?limit=501", "limit"],
    ["?cursor=%2B%2B", "cursor"],
    ["?cursor=bm90LWpzb24", "cursor"], // "not-json"
    ["?cursor=WzEsIjB4MTIiXQ", "cursor"], // [1,"0x12"]: not an intent id
    ["?payer=0xcd3B766CCDd6AE721141F452C550Ca635964ce71", "payer"],
  ] as const) {
    it(`answers ${query} with a 400 naming ${field}`, async function () {
      const { status, body } = await get(query);
      expect(status).to.equal(400);
      expect(body.error?.field).to.equal(field);
    });
  }
});
