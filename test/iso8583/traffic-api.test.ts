/**
 * `card-gateway-api`: the gateway's traffic over HTTP, as `npm start` builds both services (the gateway and its
 * API on one data folder), after real ISO 8583 messages over TCP.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";

import type { Service, ServiceContext } from "../../src/chain/service.js";
import { cardGatewayApiService, cardGatewayService, DEVNET_DEMO_CARDS } from "../../src/iso8583/service.js";
import { CardTraffic } from "../../src/iso8583/traffic.js";
import { Store } from "../../src/store/store.js";
import { call } from "../helpers/http.js";
import { suiteChain } from "../helpers/suite.js";
import { cardRequest, gatewayWorld, IsoClient, type GatewayWorld } from "./gateway-helpers.js";

describe("card-gateway-api: the gateway's traffic over HTTP", function () {
  this.timeout(180_000);
  let world: GatewayWorld;
  let dir: string;
  let context: ServiceContext;
  let gateway: Service | undefined;
  let api: Service | undefined;
  let client: IsoClient | undefined;
  let alice: string;
  let bob: string;
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };

  async function startApi(): Promise<string> {
    api = await cardGatewayApiService({ env: { CARD_GATEWAY_API_PORT: "0" }, clock }).create(context);
    await api.start();
    return api.url!;
  }

  before(async function () {
    world = await gatewayWorld();
    const signers = await world.suite.ethers.getSigners();
    alice = signers[DEVNET_DEMO_CARDS[0].accountIndex]!.address;
    bob = signers[DEVNET_DEMO_CARDS[1].accountIndex]!.address;
    // Alice's card account holds 10 000 minor units; Bob's demo card has no account on the ledger.
    const { ledger, suite } = world;
    const accountId = keccak256(toUtf8Bytes("card:alice"));
    await (await ledger.connect(suite.accounts.bankA).openProfile(accountId, alice, 0n)).wait();
    const gatewaySigner = await suite.ethers.getSigner(world.gatewayAddress);
    await (await ledger.connect(gatewaySigner).credit(keccak256(toUtf8Bytes("seed:alice")), alice, 10_000n)).wait();
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-card-api-"));
    context = { chain: suiteChain(world.suite), deployments: world.suite.deployments, dataDir: dir, log: () => {} };
  });

  after(async function () {
    client?.close();
    await api?.stop().catch(() => undefined);
    await gateway?.stop().catch(() => undefined);
    await world?.proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to start before the gateway has made its journal", async function () {
    const early = await Promise.resolve()
      .then(() => cardGatewayApiService({ env: { CARD_GATEWAY_API_PORT: "0" } }).create(context))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(early).to.have.property("code", "CARD_TRAFFIC_NO_JOURNAL");
  });

  it("counts real ISO 8583 traffic by response code and MTI; repeats and echoes are not counted again", async function () {
    gateway = await cardGatewayService({ env: { CARD_GATEWAY_PORT: "0" } }).create(context);
    await gateway.start();
    const url = await startApi();
    const empty = (await call(`${url}/stats`)).body;
    expect(empty).to.deep.include({ windowSeconds: 60, messages: 0, perSecond: 0, byResponseCode: {}, byMti: {} });
    expect(empty.series).to.have.length(60);

    client = await IsoClient.connect(Number(/:(\d+)$/.exec(gateway.url!)![1]));
    const card = (holder: 0 | 1) => ({ 2: DEVNET_DEMO_CARDS[holder].pan, 14: DEVNET_DEMO_CARDS[holder].expiry });
    const paid = cardRequest("0200", alice, 100n, card(0));
    const answers = [
      await client.request(paid),
      await client.request(cardRequest("0200", bob, 100n, card(1))),
      await client.request(cardRequest("0200", alice, 1_000_000n, card(0))),
      await client.request(cardRequest("0100", alice, 250n, card(0))),
      // A repeat of the first (0201, same identity) gets the first answer from the journal.
      await client.request({ ...paid, mti: "0201" }),
      await client.request({ mti: "0800", fields: { 7: "1128120000", 11: "000001", 70: "301" } }),
    ];
    expect(answers.map((m) => m.fields[39])).to.deep.equal(["00", "14", "51", "00", "00", "00"]);

    const stats = (await call(`${url}/stats?windowSeconds=120`)).body;
    expect(stats).to.deep.include({
      windowSeconds: 120,
      messages: 4,
      perSecond: 4 / 120,
      byResponseCode: { "00": 2, "14": 1, "51": 1 },
      byMti: { "0200": 3, "0100": 1 },
    });
    expect(stats.series).to.have.length(120);
    expect(stats.series.reduce((sum: number, s: { count: number }) => sum + s.count, 0)).to.equal(4);
    expect(Date.parse(stats.series[119].second)).to.equal(Math.floor(clock.now() / 1000) * 1000);
    expect(Date.parse(stats.series[1].second) - Date.parse(stats.series[0].second)).to.equal(1000);

    // Two minutes on, a one-minute window holds none of them; a three-minute one still all.
    offsetMs = 120_000;
    try {
      expect((await call(`${url}/stats?windowSeconds=60`)).body).to.deep.include({ messages: 0, byResponseCode: {} });
      expect((await call(`${url}/stats?windowSeconds=180`)).body).to.deep.include({ messages: 4 });
    } finally {
      offsetMs = 0;
    }
  });

  it("pages the journal newest first; every page ends with a cursor until the last", async function () {
    const url = api!.url!;
    const all = (await call(`${url}/messages`)).body;
    expect(all.nextCursor).to.equal(null);
    expect(all.items).to.have.length(4);
    const [last] = all.items;
    expect(last).to.deep.include({ mti: "0100", operation: "hold", amount: "250", responseCode: "00", state: "done" });
    expect(last.wallet.toLowerCase()).to.equal(alice.toLowerCase());
    expect(last.terminal).to.equal("TERM0001");
    expect(last.opKey).to.match(/^0x[0-9a-f]{64}$/);
    expect(Date.parse(last.createdAt)).to.be.closeTo(Date.now(), 120_000);
    const times = all.items.map((m: { createdAt: string }) => m.createdAt);
    expect(times).to.deep.equal([...times].sort().reverse());
    const codes = all.items.map((m: { responseCode: string }) => m.responseCode);
    expect(codes).to.deep.equal(["00", "51", "14", "00"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const reply = await call(`${url}/messages?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`);
      expect(reply.status).to.equal(200);
      expect(reply.body.items).to.have.length(1);
      seen.push(reply.body.items[0].id);
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    expect(seen).to.deep.equal(all.items.map((m: { id: string }) => m.id));
  });

  it("answers a bad query with 400 naming the field", async function () {
    const url = api!.url!;
    const bad: Array<[string, string]> = [
      ["/stats?windowSeconds=0", "windowSeconds"],
      ["/stats?windowSeconds=3601", "windowSeconds"],
      ["/stats?windowSeconds=1.5", "windowSeconds"],
      ["/stats?windowSeconds=ten", "windowSeconds"],
      ["/messages?limit=0", "limit"],
      ["/messages?limit=501", "limit"],
      ["/messages?cursor=not%20a%20cursor", "cursor"],
      // Well-formed base64url, but no cursor this API made.
      [`/messages?cursor=${Buffer.from("2026-01-01|x").toString("base64url")}`, "cursor"],
    ];
    for (const [query, field] of bad) {
      const reply = await call(`${url}${query}`);
      expect(reply.status, query).to.equal(400);
      expect(reply.body.error.field, query).to.equal(field);
    }
  });

  it("keeps nothing of its own: a restarted API shows the same journal, and it cannot write to it", async function () {
    const before = (await call(`${api!.url!}/messages`)).body;
    await api!.stop();
    api = undefined;
    const url = await startApi();
    expect((await call(`${url}/messages`)).body).to.deep.equal(before);
    expect((await call(`${url}/health`)).body).to.deep.include({ ok: true, database: "ok", chain: null });
    // Its store connection is query-only: the gateway is the journal's only writer.
    const file = path.join(
      dir,
      readdirSync(dir).find((f) => f.endsWith(".sqlite"))!,
    );
    const reader = Store.open({ path: file });
    try {
      new CardTraffic(reader);
      expect(() => reader.run("DELETE FROM card_messages")).to.throw(/readonly|read-only|query_only/i);
    } finally {
      reader.close();
    }
  });
});
