import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { billHttpServer } from "../../src/bills/http.js";
import { billMonitorService } from "../../src/bills/service.js";
import type { ChainConnection } from "../../src/chain/config.js";
import { Store } from "../../src/store/store.js";
import { asAddress, BILL_OF_EXCHANGE, billsFixture, E_INVOICE } from "./helpers.js";

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply = await fetch(url);
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

describe("bills: monitor HTTP API", function () {
  this.timeout(60_000);

  it("answers bill, history, filter and anomaly queries, and JSON errors with a reason", async function () {
    const f = await billsFixture();
    const store = Store.open({ path: ":memory:" });
    const monitor = f.monitor(store);
    const boe = await f.issue(BILL_OF_EXCHANGE, "http-boe");
    await f.exec(2, boe, "REQUEST_ACCEPTANCE");
    await f.exec(1, boe, "ACCEPT");
    await f.exec(2, boe, "ENDORSE", asAddress(f.addresses[3]!));
    const inv = await f.issue(E_INVOICE, "http-inv", 250n);
    await monitor.poll();
    const server = billHttpServer(monitor, {
      host: "127.0.0.1",
      port: 0,
      log: () => undefined,
      blockNumber: () => f.suite.ethers.provider.getBlockNumber(),
      store,
    });
    const url = await server.start();
    try {
      const one = await getJson(`${url}/bills/${boe}`);
      expect(one.status).to.equal(200);
      expect(one.body).to.include({ id: boe, stateName: "ACCEPTED", amountDue: "1000", amountPaid: "0" });
      expect(one.body.holder).to.equal(f.addresses[3]);

      const history = await getJson(`${url}/bills/${boe}/history`);
      expect(history.status).to.equal(200);
      const ops = (history.body.history as Array<{ event: string; operationName: string | null }>)
        .filter((h) => h.event === "BillStateChanged")
        .map((h) => h.operationName);
      expect(ops).to.deep.equal(["ISSUE", "REQUEST_ACCEPTANCE", "ACCEPT", "ENDORSE"]);

      const ids = async (query: string): Promise<string[]> => {
        const reply = await getJson(`${url}/bills${query}`);
        expect(reply.status, JSON.stringify(reply.body)).to.equal(200);
        return (reply.body.bills as Array<{ id: string }>).map((b) => b.id);
      };
      expect(await ids("")).to.deep.equal([boe, inv]);
      expect(await ids("?state=ISSUED")).to.deep.equal([inv]);
      expect(await ids(`?party=${f.addresses[3]!}`)).to.deep.equal([boe]);
      expect(await ids(`?party=${f.addresses[1]!}&state=ACCEPTED`)).to.deep.equal([boe]);
      expect(await ids(`?dueBefore=${(await f.now()) + 10_000}`)).to.deep.equal([boe, inv]);
      expect(await ids("?dueBefore=1")).to.deep.equal([]);

      const anomalies = await getJson(`${url}/anomalies`);
      expect(anomalies).to.deep.equal({ status: 200, body: { anomalies: [], nextCursor: null } });

      const missing = await getJson(`${url}/bills/0x${"ab".repeat(32)}`);
      expect(missing.status).to.equal(404);
      expect((missing.body.error as { code: string }).code).to.equal("BILL_NOT_FOUND");
      const badId = await getJson(`${url}/bills/nope`);
      expect(badId.status).to.equal(400);
      expect(badId.body.error).to.include({ code: "REQUEST_INVALID_FIELD", field: "id" });
      const badParty = await getJson(`${url}/bills?party=0x12`);
      expect(badParty.status).to.equal(400);
      expect(badParty.body.error).to.include({ field: "party" });
      const badDue = await getJson(`${url}/bills?dueBefore=soon`);
      expect(badDue.body.error).to.include({ field: "dueBefore" });
      const unknownFilter = await getJson(`${url}/bills?colour=red`);
      expect(unknownFilter.status).to.equal(400);
      expect(unknownFilter.body.error).to.include({ field: "colour" });
      expect((await getJson(`${url}/nothing`)).status).to.equal(404);
      expect((await fetch(`${url}/bills`, { method: "POST" })).status).to.equal(405);
    } finally {
      await server.stop();
    }
  });

  it("runs as a service: follows the registry and serves on the configured port", async function () {
    const f = await billsFixture();
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-bills-"));
    const id = await f.issue(BILL_OF_EXCHANGE, "svc-boe");
    const chain = {
      provider: f.suite.ethers.provider,
      chainId: 31337n,
      getSigners: () => f.suite.ethers.getSigners(),
    } as unknown as ChainConnection;
    const service = await billMonitorService({ env: { BILL_MONITOR_PORT: "0", BILL_MONITOR_POLL_MS: "20" } }).create({
      chain,
      deployments: f.suite.deployments,
      dataDir: dir,
      log: () => undefined,
    });
    await service.start();
    try {
      const reply = await getJson(`${service.url!}/bills/${id}`);
      expect(reply.status).to.equal(200);
      expect(reply.body.stateName).to.equal("ISSUED");
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
