import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, id as hashLabel, JsonRpcProvider, ZeroHash } from "ethers";

import { BillRegistry__factory } from "../../typechain-types/index.js";
import { collect, killGroup, ROOT, runNode, spawnGroup, waitForOutput } from "../helpers/processes.js";
import { stackEnv, stackPlace } from "../helpers/stack.js";
import { mined } from "../../src/chain/receipts.js";
import { billIdOfLabel } from "../../src/bills/ids.js";

const CLI = "bin/bank-chain.mjs";
const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)\n/;

describe("cli: bank-chain bills", function () {
  this.timeout(180_000);

  it("refuses a malformed bill id with one line", async function () {
    const result = await runNode([CLI, "bills", "history", "0x12"]);
    expect(result.code).to.equal(1);
    expect(result.stderr.trim()).to.equal('bank-chain: bill id must be 0x and 64 hex digits, got "0x12"');
  });

  it("prints a bill's history replayed from the chain", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "bank-chain-bills-cli-"));
    const place = await stackPlace(dir);
    const port = place.rpcPort;
    const env = stackEnv(place) as Record<string, string>;
    const child = spawnGroup(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    const done = collect(child, 150_000);
    const provider = new JsonRpcProvider(`http://127.0.0.1:${port}`);
    try {
      await waitForOutput(child, READY, 120_000);
      const status = await runNode([CLI, "--json", "status"], env);
      const { contracts } = JSON.parse(status.stdout) as { contracts: Record<string, string> };
      const [drawer, drawee, payee] = await Promise.all([10, 11, 12].map((i) => provider.getSigner(i)));
      const registry = BillRegistry__factory.connect(contracts.BillRegistry!, drawer!);
      const billId = billIdOfLabel(await drawer!.getAddress(), "cli-bill");
      await mined(
        await registry.issue(2, encodeBytes32String("ISSUE"), {
          id: billId,
          drawee: await drawee!.getAddress(),
          payee: await payee!.getAddress(),
          amount: 42n,
          acceptanceDeadline: 0,
          maturity: 0,
          recourseDeadline: 0,
          documentHash: ZeroHash,
        }),
      );
      await mined(await registry.connect(drawee!).execute(billId, encodeBytes32String("DISPUTE"), "0x"));

      const result = await runNode([CLI, "--json", "bills", "history", billId], env);
      expect(result.code, result.stderr).to.equal(0);
      const body = JSON.parse(result.stdout) as {
        ok: boolean;
        bill: { stateName: string; amountDue: string };
        history: Array<{ event: string; operationName: string | null }>;
        anomalies: unknown[];
      };
      expect(body.ok).to.equal(true);
      expect(body.bill).to.include({ stateName: "DISPUTED", amountDue: "42" });
      expect(body.history.map((h) => h.operationName ?? h.event)).to.deep.equal(["ISSUE", "BillIssued", "DISPUTE"]);
      expect(body.anomalies).to.deep.equal([]);

      const text = await runNode([CLI, "bills", "history", billId], env);
      expect(text.stdout).to.match(/state: {3}DISPUTED/);
      const missing = await runNode([CLI, "bills", "history", hashLabel("nope")], env);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/there is no bill/);
    } finally {
      provider.destroy();
      await killGroup(child, "SIGTERM", 30_000);
      await done.catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
