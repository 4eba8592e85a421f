/**
 * `bank-chain demo` on a running stack: the whole story twice on one
 * `npm start` (the second run must pass as well: its ids are its own and its
 * checks are deltas), every step and check ok, at least ten distinct
 * transaction hashes that each have a successful receipt on the chain named,
 * both agents' ledgers balanced and each chain's supply equal to its
 * outstanding issuance. On the same stack after the story, the console in
 * Chromium (test/console/browser-checks.ts): every page, every figure equal
 * to its source, a link followed, a guarded freeze; and the services' OpenAPI
 * documents equal to the committed clients (`npm run openapi -- --check`).
 * And without a stack file, a clear error naming it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { JsonRpcProvider } from "ethers";

import { readStackFile } from "../../src/chain/stack-file.js";
import { checkConsole } from "../console/browser-checks.js";
import { ROOT, runNode } from "../helpers/processes.js";
import { stackEnv, stackForSuite } from "../helpers/stack.js";

interface Report {
  ok: boolean;
  tag: string;
  steps: Array<{
    step: number;
    name: string;
    ok: boolean;
    error: string | null;
    checks: Array<{ what: string; ok: boolean; expected?: string; actual?: string }>;
    txs: Array<{ chainId: number; hash: string }>;
  }>;
  ledgers: Array<{ service: string; balanced: boolean }>;
  chains: Array<{
    chainId: number;
    equal: boolean;
    bridgeIdentity: boolean;
    totalSupply: string;
    totalOutstanding: string;
    gapAtStart: string;
    runKeptGap: boolean;
  }>;
  transactions: Array<{ chainId: number; hash: string; what: string }>;
}

const DEMO_MS = 900_000;

describe("bank-chain demo", function () {
  this.timeout(30 * 60_000);

  describe("on a running stack", function () {
    // Two runs, each with a reward step that may wait up to 600 s, then the console: the stack may live 30 min.
    const suite = stackForSuite("bank-chain-demo-", 30 * 60_000);

    const demo = async (): Promise<Report> => {
      const file = path.join(suite.place.dir, "data", "localhost", "stack.json");
      const run = await runNode(
        ["bin/bank-chain.mjs", "--json", "demo", "--stack", file],
        stackEnv(suite.place),
        DEMO_MS,
      );
      const line = run.stdout.trim().split("\n").at(-1) ?? "";
      const body = JSON.parse(line) as { ok: boolean; error?: { details?: { report?: Report } } } & Report;
      const report = body.ok ? body : body.error?.details?.report;
      expect(report, `${run.stdout}\n${run.stderr}`).to.not.equal(undefined);
      const failures = report!.steps.flatMap((step) => [
        ...(step.error === null ? [] : [`${step.step} ${step.name}: ${step.error}`]),
        ...step.checks
          .filter((check) => !check.ok)
          .map(
            (check) => `${step.step} ${step.name}: ${check.what} (expected ${check.expected}, found ${check.actual})`,
          ),
      ]);
      expect(failures, `${failures.join("\n")}\n${run.stderr.slice(-4_000)}`).to.deep.equal([]);
      expect(run.code, run.stderr).to.equal(0);
      return report!;
    };

    /**
     * `gap`: each chain's `totalSupply − totalOutstanding` when the run began (0 on a chain where as much came in
     * over the lane as went out); the run's own round trip must leave it there.
     */
    const checkReport = async (report: Report, gap: Readonly<Record<number, bigint>>): Promise<void> => {
      expect(report.ok).to.equal(true);
      expect(report.steps.map((step) => step.step)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const step of report.steps) {
        expect(step.ok, step.name).to.equal(true);
        expect(step.checks.length, step.name).to.be.greaterThan(0);
        expect(step.txs.length, `${step.name} names its transactions`).to.be.greaterThan(0);
      }
      const hashes = new Set(report.transactions.map((tx) => tx.hash));
      expect(hashes.size).to.be.at.least(10);
      expect(report.chains.map((chain) => chain.chainId)).to.deep.equal([31337, 31338]);
      for (const chain of report.chains) {
        const expected = gap[chain.chainId]!;
        expect(
          [chain.equal, chain.bridgeIdentity, chain.runKeptGap, chain.gapAtStart],
          `chain ${chain.chainId}`,
        ).to.deep.equal([expected === 0n, true, true, expected.toString()]);
        expect(BigInt(chain.totalSupply) - BigInt(chain.totalOutstanding)).to.equal(expected);
      }
      expect(report.ledgers.map((ledger) => [ledger.service, ledger.balanced])).to.deep.equal([
        ["bank-a", true],
        ["bank-b", true],
      ]);
      // Every hash is a transaction that succeeded on the chain the report names.
      const providers = new Map([
        [31337, new JsonRpcProvider(suite.stack.rpc, 31337, { staticNetwork: true })],
        [31338, new JsonRpcProvider(`http://127.0.0.1:${suite.place.peerRpcPort}`, 31338, { staticNetwork: true })],
      ]);
      try {
        for (const tx of report.transactions) {
          const receipt = await providers.get(tx.chainId)!.getTransactionReceipt(tx.hash);
          expect(receipt?.status, `${tx.chainId} ${tx.hash} ${tx.what}`).to.equal(1);
        }
      } finally {
        for (const provider of providers.values()) provider.destroy();
      }
    };

    it("tells the story with every transaction hash, the ledgers balanced; and again on the same stack, after a one-way transfer", async function () {
      const first = await demo();
      await checkReport(first, { 31337: 0n, 31338: 0n });
      // The interop guide's example between the runs: 10.00 from account 19 to chain 31338, never sent back. Supply
      // and issuance stay apart on both chains from then on; the second run must still pass, held to its own books.
      const stack = readStackFile(path.join(suite.place.dir, "data", "localhost", "stack.json"));
      const send = await runNode(
        [
          "bin/bank-chain.mjs",
          "--rpc",
          suite.stack.rpc,
          "--json",
          "interop",
          "send",
          "--to",
          "0xBcd4042DE499D14e55001CcbB24a551F3b954096",
          "--amount",
          "1000",
          "--destination",
          "31338",
          "--api",
          stack.services["interop-api"]!,
        ],
        {
          ...stackEnv(suite.place),
          BANK_CHAIN_INTEROP_KEY: "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e",
        },
        120_000,
      );
      expect(send.code, `${send.stdout}\n${send.stderr}`).to.equal(0);
      const sent = JSON.parse(send.stdout.trim().split("\n").at(-1)!) as { transaction: { status: string } };
      expect(sent.transaction.status).to.equal("delivered");
      const second = await demo();
      await checkReport(second, { 31337: -1000n, 31338: 1000n });
      expect(second.tag).to.not.equal(first.tag);
      // The second run's transactions are its own: it names none of the first's.
      const firstHashes = new Set(first.transactions.map((tx) => tx.hash));
      expect(second.transactions.filter((tx) => firstHashes.has(tx.hash))).to.deep.equal([]);
    });

    it("shows the story in the console (Chromium): every panel's figures equal their sources, a tx followed, a guarded freeze", async function () {
      const stack = readStackFile(path.join(suite.place.dir, "data", "localhost", "stack.json"));
      const consoleUrl = stack.services["console"];
      expect(consoleUrl, "npm start runs the console").to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(suite.stack.stdout).to.include(`service console ${consoleUrl}`);
      const report = await checkConsole({
        consoleUrl: consoleUrl!,
        stack,
        outDir: path.join(ROOT, "test-results", "console"),
      });
      // After the story every panel has figures from its part.
      const pages = ["overview", "banks", "tokens", "settlements", "bills", "cards", "offline", "interop"];
      for (const page of [...pages, "certificates", "rewards", "checkout", "keys"]) {
        expect(report.figures[page], page).to.be.greaterThanOrEqual(1);
      }
      expect(report.figures["overview"]).to.be.greaterThanOrEqual(10);
      expect(report.figures["tokens"]).to.be.greaterThanOrEqual(8);
      // Every panel reads its services: none is "not available" on a whole stack.
      for (const [page, services] of Object.entries(report.unavailable)) expect(services, page).to.deep.equal([]);
      expect(report.followedTx).to.match(/^\/tx\/31337\/0x[0-9a-f]{64}$/);
    });

    it("serves OpenAPI documents equal to the committed typed clients (npm run openapi -- --check)", async function () {
      const file = path.join(suite.place.dir, "data", "localhost", "stack.json");
      const run = await runNode([
        "node_modules/tsx/dist/cli.mjs",
        "scripts/openapi-clients.ts",
        "--check",
        "--stack",
        file,
      ]);
      expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(0);
      expect(run.stdout).to.include("openapi: the committed clients match");
    });
  });

  it("says there is no running stack, naming the file, when the stack file is missing", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-demo-none-"));
    try {
      const file = path.join(dir, "stack.json");
      const human = await runNode(["bin/bank-chain.mjs", "demo", "--stack", file]);
      expect(human.code).to.not.equal(0);
      expect(human.stderr)
        .to.include(file)
        .and.to.match(/no running stack/);
      const json = await runNode(["bin/bank-chain.mjs", "--json", "demo"], { BANK_CHAIN_DATA_DIR: dir });
      expect(json.code).to.not.equal(0);
      const body = JSON.parse(json.stdout.trim()) as { ok: boolean; error: { code: string; message: string } };
      expect(body.ok).to.equal(false);
      expect(body.error.code).to.equal("STACK_FILE_MISSING");
      expect(body.error.message).to.include(path.join(dir, "localhost", "stack.json"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
