/**
 * The operator console as `npm start` builds it (`consoleService`), on the in-process chain with the whole suite
 * deployed, reading fake services that answer in the contract's shapes over real HTTP on ports the OS picks.
 * Adversary first: a service's text is shown as text, never as markup; the actions refuse without their
 * confirmation page and refuse a bad address.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

import SwaggerParser from "@apidevtools/swagger-parser";
import { expect } from "chai";
import { Contract, id, Wallet } from "ethers";

import type { Service } from "../../src/chain/service.js";
import { consoleService } from "../../src/console/service.js";
import { deploySuite, suiteChain } from "../helpers/suite.js";

const EVIL = `<script>alert("x")</script>`;

/** JSON by path (with its query) for one fake service. */
type Routes = Record<string, unknown>;

async function fakeService(routes: Routes): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const body = routes[request.url ?? ""];
    response.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
    response.end(
      JSON.stringify(body ?? { error: { code: "ROUTE_NOT_FOUND", message: `no route GET ${request.url}` } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server };
}

const payment = (idText: string, status: string) => ({
  id: idText,
  direction: "outbound",
  status,
  endToEndId: "E2E-1",
  amount: "12345",
  currency: "EUR",
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  createdAt: new Date(Date.now() - 90_000).toISOString(),
  updatedAt: new Date().toISOString(),
  lastTx: null,
});

describe("console: the operator console service", function () {
  this.timeout(120_000);
  let suite: Awaited<ReturnType<typeof deploySuite>>;
  let service: Service;
  let base: string;
  let dir: string;
  const servers: Server[] = [];

  before(async function () {
    suite = await deploySuite();
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-console-"));
    const bankA = await fakeService({
      "/ledger": { balanced: true, assets: "500", liabilities: "500", entries: 2, problems: [] },
      "/payments?direction=outbound": {
        items: [payment(`pay"><img src=x onerror=alert(1)>`, EVIL)],
        counts: { [EVIL]: 1 },
        nextCursor: null,
      },
      "/payments?direction=inbound": { items: [], counts: {}, nextCursor: null },
    });
    const bills = await fakeService({ "/bills?limit=500": { shape: "not the bills list" } });
    servers.push(bankA.server, bills.server);
    const running = [
      { name: "bank-a", url: bankA.url },
      { name: "bill-monitor", url: bills.url },
      { name: "card-gateway", url: "tcp://127.0.0.1:1" },
    ];
    service = await consoleService({
      services: () => running,
      env: { CONSOLE_PORT: "0", CONSOLE_SAMPLE_SECONDS: "1" },
    }).create({
      chain: suiteChain(suite),
      deployments: suite.deployments,
      dataDir: dir,
      log: () => undefined,
    });
    await service.start();
    base = service.url!;
  });

  after(async function () {
    await service?.stop();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function page(pathname: string, method = "GET"): Promise<{ status: number; text: string; type: string }> {
    const reply = await fetch(`${base}${pathname}`, { method });
    return { status: reply.status, text: await reply.text(), type: reply.headers.get("content-type") ?? "" };
  }

  it("shows a service's markup as text, in elements and in attributes", async function () {
    const { status, text } = await page("/settlements");
    expect(status).to.equal(200);
    expect(text).to.not.include("<script");
    expect(text).to.not.include("<img");
    expect(text).to.include("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;");
    // The id travels as text (shortened), in a link and in a data-source attribute: escaped or encoded there.
    expect(text).to.include(">pay&#34;&#62;&#60;im…(1)&#62;</a>");
    expect(text).to.include(
      `data-source="bank-a:/payments/pay%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E?direction=outbound#/amount"`,
    );
  });

  it("serves every panel as HTML with the empty favicon, a missing or malformed service as 'not available'", async function () {
    for (const pathname of [
      "/",
      "/banks",
      "/tokens",
      "/settlements",
      "/bills",
      "/cards",
      "/offline",
      "/interop",
      "/certificates",
      "/rewards",
      "/checkout",
      "/keys",
    ]) {
      const { status, text, type } = await page(pathname);
      expect(status, pathname).to.equal(200);
      expect(type, pathname).to.match(/^text\/html/);
      expect(text, pathname).to.include(`<link rel="icon" href="data:,">`);
    }
    expect((await page("/bills")).text).to.include(`data-unavailable="bill-monitor"`);
    expect((await page("/rewards")).text).to.include(`data-unavailable="rewards"`);
    // A TCP service has no HTTP API to read.
    expect((await page("/record/card-gateway?path=/stats")).status).to.equal(404);
  });

  it("gives each chain figure the view and block it came from, each inside a link", async function () {
    await (await suite.trustA.mintForDeposit(suite.others[0]!.address, 4321n, id("console-test/mint"))).wait();
    const { text } = await page("/banks");
    const figures = [
      ...text.matchAll(
        /<a href="([^"]+)"><data value="([^"]*)" data-source="chain:(\d+):(\w+)\.(\w+)\(([^)]*)\)(?:\[(\d)\])?" data-block="(\d+)">/g,
      ),
    ];
    expect(figures.length).to.be.greaterThanOrEqual(10);
    for (const [, href, value, chainId, contract, fn, args, index, block] of figures) {
      expect(chainId).to.equal("31337");
      expect(href).to.match(/^\/tx\/31337\/0x[0-9a-f]{64}$/);
      const record = suite.deployments.get(contract!);
      const result = (await new Contract(record.address, record.abi, suite.ethers.provider)
        .getFunction(fn!)
        .staticCall(...(args === "" ? [] : args!.split(",")), { blockTag: Number(block) })) as unknown;
      const expected = index === undefined ? result : (result as unknown[])[Number(index)];
      expect(value, `${contract}.${fn}(${args})`).to.equal(String(expected));
    }
    const outstanding = await suite.ledger.outstandingOf(await suite.trustA.getAddress());
    expect(text).to.include(`<data value="${outstanding}" data-source="chain:31337:ReserveLedger.outstandingOf(`);
  });

  it("documents its pages as HTML in a valid OpenAPI document, and reports its health", async function () {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>;
    };
    await SwaggerParser.validate(structuredClone(document) as never);
    expect(Object.keys(document.paths["/banks"]!.get!.responses["200"]!.content)).to.deep.equal(["text/html"]);
    expect(Object.keys(document.paths["/actions/freeze"]!)).to.have.members(["get", "post"]);
    const health = await fetch(`${base}/health`);
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.include({ ok: true, database: "ok" });
  });

  it("shows a transaction's logs decoded against the deployed ABIs, and 404 for an unknown one", async function () {
    const tx = await suite.trustA.mintForDeposit(suite.others[1]!.address, 77n, id("console-test/tx"));
    await tx.wait();
    const { status, text } = await page(`/tx/31337/${tx.hash}`);
    expect(status).to.equal(200);
    expect(text).to.include(`<b class="event">Mint</b>`);
    expect(text).to.include(`<b class="event">Transfer</b>`);
    expect((await page(`/tx/31337/0x${"ab".repeat(32)}`)).status).to.equal(404);
    expect((await page(`/tx/999/${tx.hash}`)).status).to.equal(404);
  });

  it("reads a record only on the service's own base URL", async function () {
    for (const bad of ["//evil.example/x", "http://evil.example/", "/a/../ledger", "ledger"]) {
      const { status } = await page(`/record/bank-a?path=${encodeURIComponent(bad)}`);
      expect(status, bad).to.equal(400);
    }
    const { status, text } = await page(`/record/bank-a?path=${encodeURIComponent("/ledger")}`);
    expect(status).to.equal(200);
    expect(text).to.include("&#34;assets&#34;: &#34;500&#34;");
  });

  describe("freeze an account", function () {
    it("refuses a POST without the confirmation page's code, and a bad address with 400", async function () {
      const target = Wallet.createRandom().address;
      expect((await page(`/actions/freeze?account=${target}`, "POST")).status).to.equal(403);
      expect((await page(`/actions/freeze?account=${target}&confirm=${"0".repeat(64)}`, "POST")).status).to.equal(403);
      expect(await suite.token.isFrozen(target)).to.equal(false);
      for (const bad of ["0x1234", "not-an-address", `${target}00`, ""]) {
        expect((await page(`/actions/freeze?account=${encodeURIComponent(bad)}`)).status, bad).to.equal(400);
        expect((await page(`/actions/freeze?account=${encodeURIComponent(bad)}`, "POST")).status, bad).to.equal(400);
      }
      // A code confirms one address only.
      const confirm = await page(`/actions/freeze?account=${target}`);
      const code = /confirm=([0-9a-f]{64})/.exec(confirm.text)![1]!;
      const other = Wallet.createRandom().address;
      expect((await page(`/actions/freeze?account=${other}&confirm=${code}`, "POST")).status).to.equal(403);
      expect(await suite.token.isFrozen(other)).to.equal(false);
    });

    it("freezes after the confirmation page, with the compliance key, and links the tx", async function () {
      const target = Wallet.createRandom().address;
      const confirm = await page(`/actions/freeze?account=${target}`);
      expect(confirm.status).to.equal(200);
      expect(confirm.text).to.include(suite.accounts.compliance.address);
      const action = /<form method="post" action="([^"]+)">/.exec(confirm.text)![1]!.replace(/&amp;|&#38;/g, "&");
      const done = await page(action, "POST");
      expect(done.status).to.equal(200);
      const hash = /<a id="tx" class="mono" href="\/tx\/31337\/(0x[0-9a-f]{64})">/.exec(done.text)![1]!;
      expect(await suite.token.isFrozen(target)).to.equal(true);
      const receipt = await suite.ethers.provider.getTransactionReceipt(hash);
      expect(receipt!.from).to.equal(suite.accounts.compliance.address);
      expect((await page(`/tx/31337/${hash}`)).text).to.include(`<b class="event">Frozen</b>`);
      // Again: the chain would refuse, so the page offers no form and the POST is a 409.
      expect((await page(`/actions/freeze?account=${target}`)).text).to.include(`id="refused"`);
      expect((await page(action, "POST")).status).to.equal(409);
    });
  });

  it("pauses a corridor after its confirmation page, with the schemeAdmin key", async function () {
    const settlement = new Contract(
      suite.deployments.get("InterbankSettlement").address,
      suite.deployments.get("InterbankSettlement").abi,
      suite.ethers.provider,
    );
    const debtor = await suite.trustA.getAddress();
    const creditor = await suite.trustB.getAddress();
    expect(((await settlement.getFunction("corridor")(debtor, creditor)) as { paused: boolean }).paused).to.equal(
      false,
    );
    const settlements = await page("/settlements");
    expect(settlements.text).to.include(`/actions/pause-corridor?debtor=${debtor}&amp;creditor=${creditor}`);
    expect((await page(`/actions/pause-corridor?debtor=${debtor}&creditor=${creditor}`, "POST")).status).to.equal(403);
    const confirm = await page(`/actions/pause-corridor?debtor=${debtor}&creditor=${creditor}`);
    const action = /<form method="post" action="([^"]+)">/.exec(confirm.text)![1]!.replace(/&amp;|&#38;/g, "&");
    const done = await page(action, "POST");
    expect(done.status).to.equal(200);
    const hash = /href="\/tx\/31337\/(0x[0-9a-f]{64})"/.exec(done.text)![1]!;
    expect((await suite.ethers.provider.getTransactionReceipt(hash))!.from).to.equal(
      suite.accounts.schemeAdmin.address,
    );
    expect(((await settlement.getFunction("corridor")(debtor, creditor)) as { paused: boolean }).paused).to.equal(true);
    expect((await page(`/actions/pause-corridor?debtor=${debtor}&creditor=0x12`)).status).to.equal(400);
  });

  it("samples the banks into its store for the charts, a row when a figure changed", async function () {
    const before = (await page("/banks")).text.match(/(\d+) samples/g)!;
    await (await suite.trustA.mintForDeposit(suite.others[2]!.address, 1000n, id("console-test/sample"))).wait();
    // The sampler runs every second.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = (await page("/banks")).text;
    expect(after.match(/(\d+) samples/g)).to.not.deep.equal(before);
    expect(after).to.include("<polyline");
  });
});
