import SwaggerParser from "@apidevtools/swagger-parser";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { probeChainId } from "../src/chain/config.js";
import { startAnvil } from "../src/chain/devnet.js";
import { runNode } from "./helpers/processes.js";
import {
  killDevnet,
  runStart,
  stackEnv,
  stackPlace,
  startStack,
  type Stack,
  type StackPlace,
} from "./helpers/stack.js";
import { DEVNET_DEMO_CARDS } from "../src/iso8583/service.js";
import { encodeWalletData } from "../src/iso8583/wallet-data.js";
import { IsoClient } from "./iso8583/gateway-helpers.js";

const PAYMENT = {
  debtorAccount: "alice",
  creditorBank: "B",
  creditorAccount: "bob",
  amount: "12345",
  currency: "USD",
};

/** Sends the README's payment through bank A's agent and waits until it is Acknowledged. */
async function payAndSettle(stack: Stack, endToEndId: string): Promise<void> {
  const agent = stack.services.get("bank-a")!;
  const sent = await fetch(`${agent}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...PAYMENT, endToEndId }),
  });
  expect(sent.status, await sent.clone().text()).to.equal(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const payment = (await (await fetch(`${agent}/payments/${endToEndId}`)).json()) as { status: string };
    if (payment.status === "Acknowledged") return;
    if (Date.now() > deadline) throw new Error(`payment ${endToEndId} still ${payment.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function paymentStatus(stack: Stack, endToEndId: string): Promise<number | string> {
  const reply = await fetch(`${stack.services.get("bank-a")!}/payments/${endToEndId}`);
  return reply.status === 200 ? ((await reply.json()) as { status: string }).status : reply.status;
}

async function blockNumber(url: string): Promise<number> {
  const reply = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
  });
  return Number(((await reply.json()) as { result: string }).result);
}

async function reachable(url: string): Promise<boolean> {
  try {
    await probeChainId(url, 1_000);
    return true;
  } catch {
    return false;
  }
}

describe("npm start: devnet, deployment, services", function () {
  this.timeout(600_000);
  let dir: string;
  let place: StackPlace;
  const running: Stack[] = [];
  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-start-"));
    place = await stackPlace(dir);
  });
  afterEach(async function () {
    for (const stack of running.splice(0)) await stack.stop().catch(() => undefined);
    killDevnet(place);
    rmSync(dir, { recursive: true, force: true });
  });
  async function start(args: readonly string[] = []): Promise<Stack> {
    const stack = await startStack(place, args);
    running.push(stack);
    return stack;
  }
  async function stop(stack: Stack, signal: NodeJS.Signals = "SIGINT"): Promise<string> {
    running.splice(running.indexOf(stack), 1);
    const finished = await stack.stop(signal);
    expect(finished.code, finished.stderr).to.equal(0);
    return finished.stderr;
  }

  it("starts a devnet, deploys, prints the ready line, and shuts down cleanly on SIGTERM", async function () {
    const stack = await start();
    expect(stack.rpc).to.equal(`http://127.0.0.1:${place.rpcPort}`);
    expect(stack.stdout).to.match(/chainId=31337\n/);
    expect(await probeChainId(stack.rpc)).to.equal(31337n);
    // The devnet's second chain runs beside it, with its own chain id and the suite deployed.
    const peer = `http://127.0.0.1:${place.peerRpcPort}`;
    expect(stack.stdout).to.include(`chain localhostB rpc=${peer} chainId=31338\n`);
    expect(await probeChainId(peer)).to.equal(31338n);
    expect(existsSync(path.join(dir, "deployments", "localhostB", "BankToken.json"))).to.equal(true);
    expect(stack.contracts.size).to.be.greaterThan(0);
    // Both banks' agents, the bill monitor and the certificate service run and answer on 127.0.0.1.
    const probes: Record<string, string> = { "bill-monitor": "bills", certificates: "challenge" };
    for (const name of ["bank-a", "bank-b", "bill-monitor", "certificates"]) {
      const url = stack.services.get(name);
      expect(url, name).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const reply = await fetch(`${url}/${probes[name] ?? "ledger"}`);
      expect(reply.status).to.equal(200);
    }
    // Every HTTP service documents itself (OpenAPI 3.1, valid) and reports its health.
    for (const [name, url] of stack.services) {
      if (!url.startsWith("http:")) continue;
      const document = (await (await fetch(`${url}/openapi.json`)).json()) as Record<string, unknown>;
      await SwaggerParser.validate(structuredClone(document) as never);
      expect(Object.keys(document.paths as object), name).to.include.members(["/health", "/openapi.json"]);
      const health = await fetch(`${url}/health`);
      expect(health.status, name).to.equal(200);
      const report = (await health.json()) as { ok: boolean; database: string; followerLagBlocks: number | null };
      expect(report, name).to.deep.include({ ok: true, database: "ok" });
      // The interop API gateway (it reads its transactions' receipts), the key share holders (they read the
      // registry at the head on each request), the retailer (a shop selling for fiat: no chain), the card
      // gateway's traffic API (it reads the gateway's journal), the offline merchant terminal (it reads the
      // vault at the head when it makes an offer) and the console (it reads views at the head) follow no events;
      // every other service does.
      if (
        name === "interop-api" ||
        name.startsWith("keys-holder") ||
        name === "retailer" ||
        name === "card-gateway-api" ||
        name === "offline-merchant" ||
        name === "console"
      )
        expect(report.followerLagBlocks, name).to.equal(null);
      else expect(report.followerLagBlocks, name).to.be.a("number").and.to.be.at.most(5);
    }
    // Three key share holders, each its own identity.
    const holders = await Promise.all(
      ["keys-holder1", "keys-holder2", "keys-holder3"].map(async (name) => {
        const reply = await fetch(`${stack.services.get(name)!}/identity`);
        expect(reply.status, name).to.equal(200);
        return ((await reply.json()) as { address: string }).address;
      }),
    );
    expect(new Set(holders).size).to.equal(3);
    // Both chains' interop services run.
    expect([...stack.services.keys()]).to.include.members([
      "interop-attester-1",
      "interop-attester-2",
      "interop-attester-3",
      "interop-relayer",
      "interop-api",
    ]);
    // The card gateway answers a network echo over its TCP framing.
    const gateway = /^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(stack.services.get("card-gateway") ?? "");
    expect(gateway, stack.stdout).to.not.equal(null);
    const client = await IsoClient.connect(Number(gateway![1]));
    try {
      const echo = await client.request({ mti: "0800", fields: { 7: "1128120000", 11: "000001", 70: "301" } });
      expect(echo.fields[39]).to.equal("00");
      // The demo card of account 10 pays 1.00: the card file, the currency and the wallet data line up.
      const [alice] = DEVNET_DEMO_CARDS;
      const wallet = "0xBcd4042DE499D14e55001CcbB24a551F3b954096";
      const payment = await client.request({
        mti: "0200",
        fields: {
          2: alice.pan,
          3: "000000",
          4: "000000000100",
          7: "1128120000",
          11: "000002",
          14: alice.expiry,
          32: "123456",
          41: "TERM0001",
          42: "MERCHANT0000001",
          48: encodeWalletData({ address: wallet, amount: 100n }),
          49: "840",
        },
      });
      expect([payment.fields[39], payment.fields[38]?.length]).to.deep.equal(["00", 6]);
    } finally {
      client.close();
    }

    const status = await runNode(["bin/bank-chain.mjs", "--json", "status"], stackEnv(place));
    expect(status.code, status.stderr).to.equal(0);
    const body = JSON.parse(status.stdout) as { network: string; contracts: Record<string, string> };
    expect(body.network).to.equal("localhost");
    expect(new Map(Object.entries(body.contracts).map(([k, v]) => [k, v.toLowerCase()]))).to.deep.equal(
      stack.contracts,
    );

    await stop(stack, "SIGTERM");
    expect(await reachable(stack.rpc), "the devnet stops with npm start").to.equal(false);
    expect(await reachable(peer), "and so does its second chain").to.equal(false);
  });

  it("comes back after a stop with the same chain, deployments and service records; --fresh starts over", async function () {
    const first = await start();
    await payAndSettle(first, "E2E-RESTART");
    const height = await blockNumber(first.rpc);
    const stopped = await stop(first);
    expect(stopped).to.match(/devnet stopped; its state is saved in /);
    expect(await reachable(first.rpc)).to.equal(false);

    const second = await start();
    expect(second.contracts).to.deep.equal(first.contracts);
    expect(await blockNumber(second.rpc)).to.be.at.least(height);
    expect(await paymentStatus(second, "E2E-RESTART")).to.equal("Acknowledged");
    // The restarted agents go on where they were: a new payment settles too.
    await payAndSettle(second, "E2E-AFTER-RESTART");
    await stop(second);

    const fresh = await start(["--fresh"]);
    expect(await blockNumber(fresh.rpc)).to.be.below(height);
    expect(await paymentStatus(fresh, "E2E-RESTART")).to.equal(404);
    await stop(fresh);
  });

  it("refuses to run a chain older than the services' records, in one line naming --fresh", async function () {
    const stack = await start();
    // What a devnet killed before its next state dump leaves: the chain as it was before the payment.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const stateFile = path.join(dir, "data", "localhost", "devnet-state.json");
    expect(existsSync(stateFile)).to.equal(true);
    copyFileSync(stateFile, path.join(dir, "older-state.json"));
    await payAndSettle(stack, "E2E-LOST");
    await stop(stack);
    copyFileSync(path.join(dir, "older-state.json"), stateFile);

    const refused = await runStart(place);
    expect(refused.code).to.equal(1);
    const lines = refused.stderr.split("\n").filter((line) => line.startsWith("bank-chain:"));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/the devnet's chain is older than the services' records .*npm start -- --fresh/);
    expect(refused.stdout).to.not.match(/bank-chain ready/);
    expect(await reachable(`http://127.0.0.1:${place.rpcPort}`), "nothing left running").to.equal(false);

    const fresh = await start(["--fresh"]);
    expect(await paymentStatus(fresh, "E2E-LOST")).to.equal(404);
    await stop(fresh);
  });

  it("npm run reset deletes what earlier runs left and says so", async function () {
    const stack = await start();
    await stop(stack);
    const reset = await runStart(place, ["--reset"]);
    expect(reset.code, reset.stderr).to.equal(0);
    expect(reset.stderr).to.match(/deleted the earlier devnet state, deployments and service data/);
    expect(existsSync(path.join(dir, "data", "localhost"))).to.equal(false);
    expect(existsSync(path.join(dir, "deployments", "localhost"))).to.equal(false);
    expect(existsSync(path.join(dir, "data", "localhostB"))).to.equal(false);
    expect(existsSync(path.join(dir, "deployments", "localhostB"))).to.equal(false);
    const again = await runStart(place, ["--reset"]);
    expect(again.stderr).to.match(/nothing to delete/);
  });

  it("refuses saved deployments without the devnet state they were made on", async function () {
    const stack = await start();
    await stop(stack);
    rmSync(path.join(dir, "data", "localhost", "devnet-state.json"));
    const refused = await runStart(place);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/^bank-chain: the devnet's state file .* is missing .*--fresh/m);
  });

  it("reuses the deployments of a devnet that is already running, and leaves it running", async function () {
    const devnet = await startAnvil({
      endpoint: { host: "127.0.0.1", port: place.rpcPort, url: `http://127.0.0.1:${place.rpcPort}` },
    });
    try {
      const runs: Array<ReadonlyMap<string, string>> = [];
      for (let run = 0; run < 2; run += 1) {
        const stack = await start();
        runs.push(stack.contracts);
        expect(await stop(stack, "SIGTERM")).to.match(/reusing the devnet/);
      }
      expect(runs[0]!.size).to.be.greaterThan(0);
      expect(runs[1]).to.deep.equal(runs[0]);
      expect(await reachable(devnet.url), "a devnet npm start did not start outlives it").to.equal(true);
    } finally {
      await devnet.stop();
    }
  });

  it("refuses a malformed devnet port with one clear line", async function () {
    const result = await runNode(["--import", "tsx", "scripts/start.ts"], { BANK_CHAIN_RPC_PORT: "eighty" });
    expect(result.code).to.equal(1);
    expect(result.stderr.trim()).to.equal(
      'bank-chain: BANK_CHAIN_RPC_PORT must be a port number from 1 to 65535, got "eighty"',
    );
  });
});
