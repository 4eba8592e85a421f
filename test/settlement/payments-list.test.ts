import { expect } from "chai";

import type { JsonHttpServer } from "../../src/chain/http.js";
import { paymentsHttpServer } from "../../src/settlement/http.js";
import { PaymentStore, type Direction } from "../../src/settlement/payments.js";
import { accountRefOf, settlementIdOf } from "../../src/settlement/terms.js";
import { Store } from "../../src/store/store.js";

/** A payment order as the store takes it, `ms` apart from the others by the test's clock. */
function order(direction: Direction, id: string) {
  const terms = {
    id: settlementIdOf(id),
    debtorBank: "0x00000000000000000000000000000000000000A1",
    creditorBank: "0x00000000000000000000000000000000000000B2",
    amount: 100n + BigInt(id.length),
    creditorAccountRef: accountRefOf("bob"),
    deadline: 2_000,
  };
  return {
    direction,
    id,
    terms,
    debtorBank: { id: "A", address: terms.debtorBank },
    creditorBank: { id: "B", address: terms.creditorBank },
    debtorAccount: direction === "outbound" ? "alice" : null,
    creditorAccount: "bob",
    currency: "USD",
    debtorLeg: "Debited" as const,
    creditorLeg: "Pending" as const,
    note: "accepted",
  };
}

interface Page {
  items: Array<{ id: string; direction: string; status: string; amount: string; lastTx: string | null }>;
  counts: Record<string, number>;
  nextCursor: string | null;
}

describe("settlement: GET /payments", function () {
  let now = 1_000;
  let payments: PaymentStore;
  let server: JsonHttpServer;
  let url: string;

  before(async function () {
    payments = new PaymentStore(Store.open({ path: ":memory:" }), { now: () => now });
    const unused = (what: string) => () => {
      throw new Error(`GET /payments must not call ${what}`);
    };
    server = paymentsHttpServer(
      {
        submit: unused("submit"),
        payment: unused("payment"),
        account: unused("account"),
        ledger: unused("ledger"),
        payments,
      },
      {
        host: "127.0.0.1",
        port: 0,
        log: () => {},
        health: { blockNumber: async () => 0, followerNextBlock: () => 0, checkDatabase: () => {} },
      },
    );
    url = await server.start();
    // Seven outbound payments (two created in the same millisecond) and three inbound ones.
    for (const id of ["O-1", "O-2", "O-3", "O-4", "O-5", "O-6"]) {
      now += 10;
      payments.insert(order("outbound", id));
    }
    payments.insert(order("outbound", "O-7"));
    for (const id of ["I-1", "I-2", "I-3"]) {
      now += 10;
      payments.insert(order("inbound", id));
    }
    payments.update("outbound", "O-2", { debtorLeg: "Initiated", note: "on chain", tx: "0x" + "a1".repeat(32) });
    payments.update("outbound", "O-2", {
      debtorLeg: "Acknowledged",
      creditorLeg: "Smelted",
      note: "done",
      tx: "0x" + "b2".repeat(32),
    });
    payments.update("outbound", "O-5", { debtorLeg: "Failed", reason: "refused", note: "failed" });
  });

  after(async function () {
    await server.stop();
  });

  const get = async (query: string) => {
    const response = await fetch(`${url}/payments${query}`);
    return { status: response.status, body: (await response.json()) as Page & { error?: { field?: string } } };
  };

  /** Every page of the list, following `nextCursor`. */
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

  it("lists what was created, newest first, each item with its summary and last transaction", async function () {
    const { status, body } = await get("?direction=outbound");
    expect(status).to.equal(200);
    // O-6 and O-7 share a millisecond: the id breaks the tie.
    expect(body.items.map((item) => item.id)).to.deep.equal(["O-7", "O-6", "O-5", "O-4", "O-3", "O-2", "O-1"]);
    expect(body.nextCursor).to.equal(null);
    const o2 = body.items.find((item) => item.id === "O-2")!;
    expect(o2).to.deep.include({
      direction: "outbound",
      status: "Acknowledged",
      endToEndId: "O-2",
      amount: "103",
      currency: "USD",
      debtorAccount: "alice",
      creditorBank: "B",
      creditorAccount: "bob",
      lastTx: "0x" + "b2".repeat(32),
    });
    expect(body.items.find((item) => item.id === "O-1")!.lastTx).to.equal(null);
  });

  it("pages across both directions returning each payment once, and the counts equal the items", async function () {
    const pages = await all("limit=3");
    expect(pages.map((page) => page.items.length)).to.deep.equal([3, 3, 3, 1]);
    const ids = pages.flatMap((page) => page.items.map((item) => `${item.direction}:${item.id}`));
    expect(new Set(ids).size).to.equal(10);
    expect(ids.slice(0, 3)).to.deep.equal(["inbound:I-3", "inbound:I-2", "inbound:I-1"]);
    const counted = Object.values(pages[0]!.counts).reduce((sum, n) => sum + n, 0);
    expect(counted).to.equal(ids.length);
    expect(pages[0]!.counts).to.deep.equal({ Accepted: 8, Acknowledged: 1, Failed: 1 });
  });

  it("a payment created between two pages does not shift the pages", async function () {
    const first = await get("?direction=inbound&limit=2");
    expect(first.body.items.map((item) => item.id)).to.deep.equal(["I-3", "I-2"]);
    now += 10;
    payments.insert(order("inbound", "I-4"));
    const second = await get(`?direction=inbound&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((item) => item.id)).to.deep.equal(["I-1"]);
    expect(second.body.nextCursor).to.equal(null);
    expect(second.body.counts).to.deep.equal({ Accepted: 4 });
  });

  it("filters by direction and by status, the counts being those of the direction", async function () {
    const failed = await get("?direction=outbound&status=Failed");
    expect(failed.body.items.map((item) => item.id)).to.deep.equal(["O-5"]);
    expect(failed.body.counts).to.deep.equal({ Accepted: 5, Acknowledged: 1, Failed: 1 });
    const accepted = (await all("direction=outbound&status=Accepted&limit=2")).flatMap((page) => page.items);
    expect(accepted.map((item) => item.id)).to.deep.equal(["O-7", "O-6", "O-4", "O-3", "O-1"]);
    expect(accepted.every((item) => item.status === "Accepted")).to.equal(true);
    expect((await get("?direction=inbound&status=Acknowledged")).body.items).to.deep.equal([]);
  });

  for (const [query, field] of [
    ["?direction=sideways", "direction"],
    ["?status=Paid", "status"],
    ["?limit=0", "limit"],
    ["?limit=501", "limit"],
    ["?limit=ten", "limit"],
    ["?cursor=not%20a%20cursor", "cursor"],
    ["?cursor=bm90LWpzb24", "cursor"], // "not-json"
    ["?cursor=WyJ4IiwiaW5ib3VuZCIsIkktMSJd", "cursor"], // ["x","inbound","I-1"]: not a time
    ["?cursor=WzEwMDAsInNpZGV3YXlzIiwiSS0xIl0", "cursor"], // [1000,"sideways","I-1"]
    ["?sort=asc", "sort"],
  ] as const) {
    it(`answers ${query} with a 400 naming ${field}`, async function () {
      const { status, body } = await get(query);
      expect(status).to.equal(400);
      expect(body.error?.field).to.equal(field);
    });
  }
});
