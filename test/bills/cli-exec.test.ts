import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, JsonRpcProvider, ZeroHash } from "ethers";

import {
  BankToken__factory,
  BillRegistry__factory,
  TrustAccount__factory,
  type BankToken,
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
  state: string;
  parties: Record<string, string | null>;
  amountPaid: string;
}

describe("cli: bank-chain bills exec, show, --yes and decoded reverts", function () {
  this.timeout(240_000);

  let dir: string;
  let env: Record<string, string>;
  let url: string;
  let child: ChildProcessWithoutNullStreams;
  let done: Promise<Finished>;
  let provider: JsonRpcProvider;
  let token: BankToken;
  let registryAddress: string;
  /** Devnet accounts 10..16: drawer, drawee, payee, endorsee, financier, an account without tokens, spare. */
  let a: string[];

  const cli = (...args: string[]) => runNode([CLI, ...args], env);
  async function json(...args: string[]): Promise<Written> {
    const result = await cli("--json", ...args);
    expect(result.code, `${args.join(" ")}: ${result.stdout}${result.stderr}`).to.equal(0);
    return JSON.parse(result.stdout) as Written;
  }
  /** Expects exit 1 with exactly one error line on stderr and nothing on stdout, and returns the line. */
  async function refused(...args: string[]): Promise<string> {
    const result = await cli(...args);
    expect(result.code, result.stdout).to.equal(1);
    expect(result.stdout).to.equal("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines, result.stderr).to.have.length(1);
    return lines[0]!;
  }
  /** The id of the drawer's (account 10's) bill `label`. */
  const labelId = (label: string): string => billIdOfLabel(a[0]!, label);
  /**
   * How many transactions `account` has sent, pending ones included. "Nothing sent" is checked by the sender's
   * count, not by the block number: the stack's own services (attestations, sync rounds) mine blocks meanwhile.
   */
  const sentBy = (account: string): Promise<number> => provider.getTransactionCount(account, "pending");
  const exec = (operation: string, id: string, from: number, ...rest: string[]) =>
    json("bills", "exec", operation, id, "--from", String(from), ...rest);
  const issue = (label: string, type: string, drawee: string, amount: string) =>
    json(
      "bills",
      "issue",
      "--from",
      "10",
      "--type",
      type,
      "--id",
      labelId(label),
      "--drawee",
      drawee,
      "--payee",
      a[2]!,
      "--amount",
      amount,
    );

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "bank-chain-bills-exec-"));
    const place = await stackPlace(dir);
    url = `http://127.0.0.1:${place.rpcPort}`;
    env = stackEnv(place) as Record<string, string>;
    child = spawnGroup(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    done = collect(child, 230_000);
    provider = new JsonRpcProvider(url);
    await waitForOutput(child, READY, 120_000);
    const status = await runNode([CLI, "--json", "status"], env);
    const { contracts } = JSON.parse(status.stdout) as { contracts: Record<string, string> };
    a = await Promise.all([10, 11, 12, 13, 14, 15, 16].map(async (i) => (await provider.getSigner(i)).getAddress()));
    token = BankToken__factory.connect(contracts.BankToken!, provider);
    registryAddress = contracts.BillRegistry!;
    const trust = TrustAccount__factory.connect(contracts.TrustAccountBankA!, await provider.getSigner(1));
    // Tokens for the drawee, the payee (who pays after recourse) and the financier; none for account 15.
    for (const [index, holder] of [a[1]!, a[2]!, a[4]!].entries()) {
      await mined(await trust.mintForDeposit(holder, 10_000n, encodeBytes32String(`cli-exec-fund-${index}`)));
    }
  });

  after(async function () {
    // The stack and its devnet go with their process group, whether or not `before` got it ready.
    provider?.destroy();
    await killGroup(child, "SIGTERM", 30_000);
    await done?.catch(() => undefined);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("--rpc finds the same deployments as the named devnet, by chain id", async function () {
    const named = JSON.parse((await cli("--json", "status")).stdout) as { contracts: Record<string, string> };
    const byUrl = await cli("--rpc", url, "--json", "status");
    expect(byUrl.code, byUrl.stderr).to.equal(0);
    const body = JSON.parse(byUrl.stdout) as {
      network: string;
      deployments: string;
      contracts: Record<string, string>;
    };
    expect(body).to.deep.include({ network: "rpc", deployments: "localhost" });
    expect(Object.keys(named.contracts).length).to.be.greaterThan(5);
    expect(body.contracts).to.deep.equal(named.contracts);
    // Every command, not only status: a bills read by URL finds the BillRegistry.
    const missing = labelId("cli-exec-none");
    expect(await refused("--rpc", url, "bills", "show", missing)).to.equal(
      `bank-chain: there is no bill ${missing} in the BillRegistry`,
    );
  });

  it("takes a bill of exchange through its whole life with exec, states and parties by name", async function () {
    const id = labelId("cli-exec-boe");
    expect(await issue("cli-exec-boe", "bill-of-exchange", a[1]!, "1000")).to.include({ state: "ISSUED" });

    const shown = await cli("bills", "show", id);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/type: {7}BILL_OF_EXCHANGE v1\n/);
    expect(shown.stdout).to.match(/state: {6}ISSUED\n/);
    expect(shown.stdout).to.match(/ {2}REQUEST_ACCEPTANCE +by Holder +-> ACCEPTANCE_REQUESTED\n/);
    expect(shown.stdout).to.match(/ {2}CANCEL +by Drawer +-> CANCELLED\n/);

    expect(await exec("request-acceptance", id, 12)).to.include({ state: "ACCEPTANCE_REQUESTED" });

    // Acceptance commits the drawee to pay: it names the drawer and the payee and needs --yes.
    const unconfirmed = await refused("bills", "exec", "ACCEPT", id, "--from", "11");
    expect(unconfirmed).to.equal(
      `bank-chain: ACCEPT of bill ${id} moves the right to money (drawer ${a[0]}, payee ${a[2]}, holder ${a[2]}): ` +
        "pass --yes to confirm",
    );
    expect(await exec("ACCEPT", id, 11, "--yes")).to.include({ state: "ACCEPTED" });

    const endorsed = await exec("ENDORSE", id, 12, "--to", a[3]!, "--yes");
    expect(endorsed.parties).to.include({ holder: a[3], payee: a[2], drawer: a[0] });
    expect(await exec("OFFER_DISCOUNT", id, 13, "--to", a[4]!)).to.include({ state: "DISCOUNT_OFFERED" });

    const endorseeBefore = await token.balanceOf(a[3]!);
    const discounted = await exec("DISCOUNT", id, 14, "--amount", "900", "--yes");
    expect(discounted).to.include({ state: "ACCEPTED" });
    expect(discounted.parties).to.include({ holder: a[4], financier: a[4] });
    expect(await token.balanceOf(a[3]!)).to.equal(endorseeBefore + 900n);

    expect(await exec("REQUEST_PAYMENT", id, 14)).to.include({ state: "PAYMENT_REQUESTED" });
    expect(await exec("PAY_PARTIAL", id, 11, "--amount", "400", "--yes")).to.include({
      state: "PARTIALLY_PAID",
      amountPaid: "400",
    });
    expect(await exec("REJECT_PAYMENT", id, 11)).to.include({ state: "DISHONOURED" });
    // Recourse to the first endorser, the payee: it becomes the payer of what remains.
    const recourse = await exec("RECOURSE", id, 14, "--endorser", "0", "--yes");
    expect(recourse).to.include({ state: "IN_RECOURSE" });
    expect(recourse.parties).to.include({ payer: a[2] });

    const financierBefore = await token.balanceOf(a[4]!);
    const paid = await cli("bills", "exec", "PAY", id, "--from", "12", "--yes");
    expect(paid.code, paid.stderr).to.equal(0);
    expect(paid.stdout).to.match(/operation: PAY\n/);
    expect(paid.stdout).to.match(/state: {5}PAID\n/);
    expect(paid.stdout).to.match(/paid: {6}1000 of 1000\n/);
    expect(await token.balanceOf(a[4]!)).to.equal(financierBefore + 600n);

    const final = await cli("bills", "show", id);
    expect(final.stdout)
      .to.match(/state: {6}PAID\n/)
      .and.match(/next: {7}none \(final state\)/);
  });

  it("cancels an issued bill, and refuses what its state does not allow with the decoded error", async function () {
    const id = labelId("cli-exec-cancel");
    await issue("cli-exec-cancel", "bill-of-exchange", a[1]!, "10");
    expect(await exec("CANCEL", id, 10)).to.include({ state: "CANCELLED" });
    const line = await refused("bills", "exec", "REQUEST_ACCEPTANCE", id, "--from", "12");
    expect(line).to.equal(
      `bank-chain: the chain refused the transaction: BillInvalidTransition(${id}, CANCELLED, REQUEST_ACCEPTANCE)`,
    );
    expect(await refused("bills", "exec", "SHRED", id)).to.match(
      /^bank-chain: operation must be one of REQUEST_ACCEPTANCE, .*RESOLVE, got "SHRED"$/,
    );
    expect(await refused("bills", "exec", "ENDORSE", id, "--yes")).to.equal("bank-chain: ENDORSE needs --to <address>");
    expect(await refused("bills", "exec", "CANCEL", id, "--amount", "5")).to.equal(
      "bank-chain: CANCEL takes no --amount",
    );
  });

  it("requires --yes to pay and decodes the token's revert when the payer has no tokens", async function () {
    const id = labelId("cli-exec-broke");
    await issue("cli-exec-broke", "e-invoice", a[5]!, "300");
    await exec("ACCEPT", id, 15, "--yes");

    const sentBefore = await sentBy(a[5]!);
    const unconfirmed = await refused("bills", "pay", id, "--from", "15");
    expect(unconfirmed)
      .to.contain(`drawer ${a[0]}, payee ${a[2]}`)
      .and.match(/pass --yes to confirm$/);
    expect(await sentBy(a[5]!), "nothing sent without --yes").to.equal(sentBefore);

    const line = await refused("bills", "pay", id, "--from", "15", "--yes");
    expect(line).to.equal(
      `bank-chain: the chain refused the transaction: BankTokenInsufficientBalance(${a[5]}, 0, 300)`,
    );
    const result = await cli("--json", "bills", "pay", id, "--from", "15", "--yes");
    expect(result.code).to.equal(1);
    const body = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; details: unknown } };
    expect(body.ok).to.equal(false);
    expect(body.error.code).to.equal("CHAIN_REVERTED");
    expect(body.error.details).to.deep.include({ error: "BankTokenInsufficientBalance", args: [a[5], "0", "300"] });
  });

  it("M-6: an attacker cannot take a drawer's announced bill id, and paying by id names drawer and payee first", async function () {
    // The drawer (account 10) announced bill `id` to the drawee (11); the attacker (16) front-runs its issue,
    // naming itself payee. The CLI refuses before sending anything.
    const id = labelId("cli-exec-announced");
    const attacker = a[6]!;
    const squat = ["--type", "e-invoice", "--id", id, "--drawee", a[1]!, "--payee", attacker, "--amount", "100"];
    const sentBefore = await sentBy(attacker);
    expect(await refused("bills", "issue", "--from", "16", ...squat)).to.equal(
      `bank-chain: --id ${id} belongs to drawer ${a[0]}, not to the --from account ${attacker}: ` +
        "a bill id begins with its drawer's address",
    );
    expect(await sentBy(attacker), "nothing sent").to.equal(sentBefore);
    // Sent to the registry directly, it reverts: the id commits to the drawer.
    const registry = BillRegistry__factory.connect(registryAddress, await provider.getSigner(16));
    const terms = {
      id,
      drawee: a[1]!,
      payee: attacker,
      amount: 100n,
      acceptanceDeadline: 0n,
      maturity: 0n,
      recourseDeadline: 0n,
      documentHash: ZeroHash,
    };
    const reverted = await registry.issue.staticCall(2, encodeBytes32String("ISSUE"), terms).then(
      () => undefined,
      (error: unknown) => (error as { revert?: { name: string; args: unknown[] } }).revert,
    );
    expect(reverted?.name).to.equal("BillIdOfAnotherDrawer");
    expect(reverted?.args).to.deep.equal([id, attacker]);

    // The drawer's own issue goes through; the drawee's pay by id names drawer and payee and sends nothing
    // without --yes; with it, the drawer's payee is paid and the attacker nothing.
    await json("bills", "issue", "--from", "10", ...squat.slice(0, 6), "--payee", a[2]!, "--amount", "100");
    await exec("ACCEPT", id, 11, "--yes");
    const before = await sentBy(a[1]!);
    const unconfirmed = await refused("bills", "pay", id, "--from", "11");
    expect(unconfirmed).to.equal(
      `bank-chain: PAY of bill ${id} moves the right to money (drawer ${a[0]}, payee ${a[2]}, holder ${a[2]}, ` +
        `amount 100 of 100 outstanding, from ${a[1]}): pass --yes to confirm`,
    );
    expect(await sentBy(a[1]!), "nothing sent without --yes").to.equal(before);
    const payeeBefore = await token.balanceOf(a[2]!);
    expect(await json("bills", "pay", id, "--from", "11", "--yes")).to.include({ state: "PAID" });
    expect(await token.balanceOf(a[2]!)).to.equal(payeeBefore + 100n);
    expect(await token.balanceOf(attacker)).to.equal(0n);
  });

  it("asks on a terminal instead of requiring --yes, and sends nothing on no", async function () {
    // util-linux `script` gives the CLI a terminal for stdin and stderr.
    if (!existsSync("/usr/bin/script") || spawnSync("script", ["--version"]).status !== 0) this.skip();
    const id = labelId("cli-exec-tty");
    await issue("cli-exec-tty", "e-invoice", a[1]!, "20");
    const answer = async (reply: string): Promise<{ code: number | null; output: string }> => {
      const command = [process.execPath, CLI, "bills", "exec", "ACCEPT", id, "--from", "11"].join(" ");
      const tty = spawn("script", ["-qec", command, "/dev/null"], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: "pipe",
      });
      const finished = collect(tty, 60_000);
      try {
        await waitForOutput(tty, /proceed\? \[y\/N\]/, 30_000);
        tty.stdin.write(`${reply}\r`);
        const { code, stdout } = await finished;
        return { code, output: stdout };
      } finally {
        tty.kill("SIGKILL");
        await finished.catch(() => undefined);
      }
    };
    const no = await answer("n");
    expect(no.code).to.equal(1);
    expect(no.output).to.contain(`drawer     ${a[0]}`).and.contain(`payee      ${a[2]}`);
    expect(no.output).to.contain(`ACCEPT of bill ${id} not confirmed: nothing was sent`);
    expect((await json("bills", "show", id)).state).to.equal("ISSUED");

    const yes = await answer("y");
    expect(yes.code, yes.output).to.equal(0);
    expect(yes.output).to.match(/state: {5}ACCEPTED/);
  });
});
