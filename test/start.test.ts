import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { probeChainId } from "../src/chain/config.js";
import { collect, freePort, ROOT, runNode, waitForOutput } from "./helpers/processes.js";
import { IsoClient } from "./iso8583/gateway-helpers.js";

const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)\n/;

function start(env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: "pipe",
  });
}

/** Deployment lines `  <Name> <address>` printed after the ready line. */
function addresses(stdout: string): Map<string, string> {
  return new Map(
    [...stdout.matchAll(/^ {2}(?!service )(\S+) (0x[0-9a-fA-F]{40})$/gm)].map((m) => [m[1]!, m[2]!.toLowerCase()]),
  );
}

describe("npm start: devnet, deployment, services", function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-start-"));
  });
  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts a devnet, deploys, prints the ready line, and shuts down cleanly on SIGTERM", async function () {
    const port = await freePort();
    const env = {
      BANK_CHAIN_RPC_PORT: String(port),
      BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
      BANK_A_PORT: "0",
      BANK_B_PORT: "0",
      BILL_MONITOR_PORT: "0",
      CARD_GATEWAY_PORT: "0",
    };
    const child = start(env);
    const done = collect(child, 150_000);
    const stdout = await waitForOutput(child, READY, 120_000);
    const [, url, chainId] = READY.exec(stdout)!;
    expect(url).to.equal(`http://127.0.0.1:${port}`);
    expect(chainId).to.equal("31337");
    expect(await probeChainId(url!)).to.equal(31337n);
    expect(addresses(stdout).size).to.be.greaterThan(0);
    // Both banks' agents and the bill monitor run and answer on 127.0.0.1.
    const services = [...stdout.matchAll(/^ {2}service (\S+) (http:\/\/127\.0\.0\.1:\d+)$/gm)];
    expect(services.map((m) => m[1])).to.have.length(3);
    for (const [, serviceName, serviceUrl] of services) {
      const reply = await fetch(`${serviceUrl}/${serviceName === "bill-monitor" ? "bills" : "ledger"}`);
      expect(reply.status).to.equal(200);
    }
    // The card gateway answers a network echo over its TCP framing.
    const gateway = /^ {2}service card-gateway tcp:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout);
    expect(gateway, stdout).to.not.equal(null);
    const client = await IsoClient.connect(Number(gateway![1]));
    try {
      const echo = await client.request({ mti: "0800", fields: { 7: "1128120000", 11: "000001", 70: "301" } });
      expect(echo.fields[39]).to.equal("00");
    } finally {
      client.close();
    }

    const status = await runNode(["bin/bank-chain.mjs", "--json", "status"], env);
    expect(status.code, status.stderr).to.equal(0);
    const body = JSON.parse(status.stdout) as { network: string; contracts: Record<string, string> };
    expect(body.network).to.equal("localhost");
    expect(new Map(Object.entries(body.contracts).map(([k, v]) => [k, v.toLowerCase()]))).to.deep.equal(
      addresses(stdout),
    );

    child.kill("SIGTERM");
    const finished = await done;
    expect(finished.code).to.equal(0);
    let reachable = true;
    try {
      await probeChainId(url!, 1_000);
    } catch {
      reachable = false;
    }
    expect(reachable, "the devnet stops with npm start").to.equal(false);
  });

  it("reuses the deployments of a devnet that is already running", async function () {
    const port = await freePort();
    const env = {
      BANK_CHAIN_RPC_PORT: String(port),
      BANK_CHAIN_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
      BANK_CHAIN_DATA_DIR: path.join(dir, "data"),
      BANK_A_PORT: "0",
      BANK_B_PORT: "0",
      BILL_MONITOR_PORT: "0",
      CARD_GATEWAY_PORT: "0",
    };
    const devnet = spawn(
      process.execPath,
      [
        path.join(ROOT, "node_modules/hardhat/dist/src/cli.js"),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        String(port),
      ],
      { cwd: ROOT, detached: true, stdio: "ignore" },
    );
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await probeChainId(`http://127.0.0.1:${port}`, 500);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      const runs: Array<Map<string, string>> = [];
      for (let run = 0; run < 2; run += 1) {
        const child = start(env);
        const done = collect(child, 150_000);
        const stdout = await waitForOutput(child, READY, 120_000);
        runs.push(addresses(stdout));
        child.kill("SIGTERM");
        const finished = await done;
        expect(finished.code).to.equal(0);
        expect(finished.stderr).to.match(/reusing the devnet/);
      }
      expect(runs[0]!.size).to.be.greaterThan(0);
      expect(runs[1]).to.deep.equal(runs[0]);
      expect(await probeChainId(`http://127.0.0.1:${port}`), "a devnet npm start did not start outlives it").to.equal(
        31337n,
      );
    } finally {
      process.kill(-devnet.pid!, "SIGTERM");
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
