import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, id as hashLabel, JsonRpcProvider, type JsonRpcSigner } from "ethers";

import {
  BankToken__factory,
  BillRegistry__factory,
  TrustAccount__factory,
  type BankToken,
  type BillRegistry,
} from "../../typechain-types/index.js";
import { collect, killGroup, ROOT, runNode, spawnGroup, waitForOutput, type Finished } from "../helpers/processes.js";
import { stackEnv, stackPlace } from "../helpers/stack.js";
import { mined } from "../../src/chain/receipts.js";
import { billIdOfLabel } from "../../src/bills/ids.js";

const CLI = "bin/bank-chain.mjs";
const READY = /bank-chain ready rpc=(\S+) chainId=(\d+)\n/;

interface Written {
  ok: boolean;
  bill: string;
  operation: string;
  tx: string;
  state: string;
  amount?: string;
  approveTx?: string | null;
}

describe("cli: bank-chain bills issue/accept/endorse/pay", function () {
  this.timeout(240_000);

  let dir: string;
  let env: Record<string, string>;
  let child: ChildProcessWithoutNullStreams;
  let done: Promise<Finished>;
  let provider: JsonRpcProvider;
  let registry: BillRegistry;
  let token: BankToken;
  /** Signers 10..13 of the devnet: drawer, drawee, payee, endorsee. */
  let parties: JsonRpcSigner[];
  let addresses: string[];

  const cli = (...args: string[]) => runNode([CLI, ...args], env);
  async function json(...args: string[]): Promise<Written> {
    const result = await cli("--json", ...args);
    expect(result.code, `${args.join(" ")}: ${result.stdout}${result.stderr}`).to.equal(0);
    return JSON.parse(result.stdout) as Written;
  }
  /** Expects exit 1 with exactly one error line on stderr, and returns it. */
  async function refused(...args: string[]): Promise<string> {
    const result = await cli(...args);
    expect(result.code, result.stdout).to.equal(1);
    expect(result.stdout).to.equal("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines, result.stderr).to.have.length(1);
    return lines[0]!;
  }
  /** The id of the drawer's (account 10's) bill `label`. */
  const labelId = (label: string): string => billIdOfLabel(addresses[0]!, label);
  const issueArgs = (label: string, type: string, amount: string) => [
    "bills",
    "issue",
    "--from",
    "10",
    "--type",
    type,
    "--id",
    labelId(label),
    "--drawee",
    addresses[1]!,
    "--payee",
    addresses[2]!,
    "--amount",
    amount,
  ];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-bills-ops-"));
    const place = await stackPlace(dir);
    const port = place.rpcPort;
    env = stackEnv(place) as Record<string, string>;
    child = spawnGroup(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    done = collect(child, 230_000);
    provider = new JsonRpcProvider(`http://127.0.0.1:${port}`);
    await waitForOutput(child, READY, 120_000);
    const status = await runNode([CLI, "--json", "status"], env);
    const { contracts } = JSON.parse(status.stdout) as { contracts: Record<string, string> };
    parties = await Promise.all([10, 11, 12, 13].map((i) => provider.getSigner(i)));
    addresses = await Promise.all(parties.map((p) => p.getAddress()));
    registry = BillRegistry__factory.connect(contracts.BillRegistry!, provider);
    token = BankToken__factory.connect(contracts.BankToken!, provider);
    const trust = TrustAccount__factory.connect(contracts.TrustAccountBankA!, await provider.getSigner(1));
    await mined(await trust.mintForDeposit(addresses[1]!, 10_000n, encodeBytes32String("cli-ops-fund")));
  });

  after(async function () {
    // The stack and its devnet go with their process group, whether or not `before` got it ready.
    provider?.destroy();
    await killGroup(child, "SIGTERM", 30_000);
    await done?.catch(() => undefined);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("issues, accepts and pays an e-invoice in part then in full, approving the registry as needed", async function () {
    const issued = await json(...issueArgs("cli-ops-invoice", "e-invoice", "500"));
    const billId = labelId("cli-ops-invoice");
    expect(issued).to.include({ ok: true, bill: billId, operation: "ISSUE", state: "ISSUED" });
    expect(issued.tx).to.match(/^0x[0-9a-f]{64}$/);
    const onChain = await registry.bill(billId);
    expect([onChain.drawer, onChain.drawee, onChain.payee, onChain.amountDue]).to.deep.equal([
      addresses[0],
      addresses[1],
      addresses[2],
      500n,
    ]);

    expect(await json("bills", "accept", billId, "--from", addresses[1]!, "--yes")).to.include({ state: "ACCEPTED" });

    const payeeBefore = await token.balanceOf(addresses[2]!);
    const part = await json("bills", "pay", billId, "--from", "11", "--amount", "200", "--yes");
    expect(part).to.include({ operation: "PAY_PARTIAL", state: "PARTIALLY_PAID", amount: "200" });
    expect(part.approveTx).to.match(/^0x[0-9a-f]{64}$/);

    const text = await cli("bills", "pay", billId, "--from", "11", "--yes");
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/operation: PAY\n/);
    expect(text.stdout).to.match(/state: {5}PAID/);
    expect(await token.balanceOf(addresses[2]!)).to.equal(payeeBefore + 500n);
    expect((await registry.bill(billId)).amountPaid).to.equal(500n);
  });

  it("endorses an accepted bill of exchange to a new holder", async function () {
    const documentHash = hashLabel("cli-ops-boe-document");
    await json(
      ...issueArgs("cli-ops-boe", "bill-of-exchange", "300"),
      "--maturity",
      "4102444800",
      "--document-hash",
      documentHash,
    );
    const billId = labelId("cli-ops-boe");
    const issued = await registry.bill(billId);
    expect([issued.acceptanceDeadline, issued.maturity, issued.documentHash]).to.deep.equal([
      0n,
      4102444800n,
      documentHash,
    ]);
    await mined(await registry.connect(parties[2]!).execute(billId, encodeBytes32String("REQUEST_ACCEPTANCE"), "0x"));
    expect(await json("bills", "accept", billId, "--from", "11", "--yes")).to.include({ state: "ACCEPTED" });

    const endorsed = await json("bills", "endorse", billId, addresses[3]!, "--from", "12", "--yes");
    expect(endorsed).to.include({ operation: "ENDORSE", state: "ACCEPTED" });
    expect((await registry.bill(billId)).holder).to.equal(addresses[3]);
    expect(await registry.endorsers(billId)).to.deep.equal([addresses[2]]);

    const line = await refused("bills", "endorse", billId, addresses[1]!, "--from", "12", "--yes");
    expect(line).to.match(/^bank-chain: the chain refused the transaction: BillUnauthorizedParty\(/);
    expect(line).to.contain(`ENDORSE, ${addresses[2]}, Holder)`);
  });

  it("refuses bad input with one line naming the field", async function () {
    const id = labelId("cli-ops-none");
    const cases: Array<[string[], string]> = [
      [
        ["bills", "issue", "--type", "e-invoice", "--drawee", "nope", "--payee", addresses[2]!, "--amount", "1"],
        'bank-chain: --drawee must be an address (0x and 40 hex digits), got "nope"',
      ],
      [
        [
          "bills",
          "issue",
          "--type",
          "e-invoice",
          "--drawee",
          addresses[1]!,
          "--payee",
          addresses[2]!,
          "--amount",
          "1.5",
        ],
        'bank-chain: --amount must be a positive integer (minor units), got "1.5"',
      ],
      [
        ["bills", "issue", "--type", "cheque", "--drawee", addresses[1]!, "--payee", addresses[2]!, "--amount", "1"],
        'bank-chain: --type must be one of bill-of-exchange, e-invoice, got "cheque"',
      ],
      [
        ["bills", "pay", id, "--amount", "-3"],
        'bank-chain: --amount must be a positive integer (minor units), got "-3"',
      ],
      [["bills", "accept", "0x12"], 'bank-chain: bill id must be 0x and 64 hex digits, got "0x12"'],
      [
        ["bills", "endorse", id, "0xabc"],
        'bank-chain: endorsee <to> must be an address (0x and 40 hex digits), got "0xabc"',
      ],
      [["bills", "accept", id], `bank-chain: there is no bill ${id} in the BillRegistry`],
      [["bills", "pay", id], `bank-chain: there is no bill ${id} in the BillRegistry`],
    ];
    for (const [args, expected] of cases) expect(await refused(...args), args.join(" ")).to.equal(expected);

    const from = await refused("bills", "accept", id, "--from", "9999");
    expect(from).to.match(/^bank-chain: --from must be an index below \d+ or the address/);
  });

  it("reports a refusal as JSON with --json", async function () {
    const result = await cli("--json", "bills", "accept", labelId("cli-ops-none"));
    expect(result.code).to.equal(1);
    const body = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; name: string } };
    expect(body).to.deep.include({ ok: false });
    expect(body.error).to.include({ code: "BILL_NOT_FOUND", name: "BillCliError" });
  });
});
