import { spawn } from "node:child_process";
import path from "node:path";

import { expect } from "chai";
import { encodeBytes32String, Wallet } from "ethers";

import { collect, ROOT, runNode, waitForOutput, type Finished } from "../helpers/processes.js";
import { RpcProxy, world, type World } from "./helpers.js";

describe("offline: bank-chain offline …", function () {
  this.timeout(120_000);
  let w: World;
  let proxy: RpcProxy;
  let rpcUrl: string;
  let key: ReturnType<typeof Wallet.createRandom>;

  before(async function () {
    w = await world();
    proxy = new RpcProxy((payload) => w.suite.connection.provider.request(payload));
    rpcUrl = await proxy.start();
    key = Wallet.createRandom();
    await w.suite.networkHelpers.setBalance(key.address, 10n ** 18n);
    await (await w.suite.trustA.mintForDeposit(key.address, 10_000n, encodeBytes32String("offline-cli-lock"))).wait();
  });
  after(async function () {
    await proxy.stop();
    w.close();
  });

  const cli = (args: string[], env: Record<string, string> = { BANK_CHAIN_OFFLINE_KEY: key.privateKey }) =>
    runNode(["bin/bank-chain.mjs", "--rpc", rpcUrl, "offline", ...args, "--vault", w.vaultAddress], env);

  it("locks funds, announces, cancels and refuses an early withdrawal, each as one JSON line", async function () {
    const deposit = await cli(["deposit", "--amount", "3000", "--json"]);
    expect(deposit.code, deposit.stderr).to.equal(0);
    expect(JSON.parse(deposit.stdout)).to.include({ ok: true, deposited: "3000", locked: "3000" });
    expect(await w.vault.lockedOf(key.address)).to.equal(3_000n);
    expect(await w.suite.token.balanceOf(key.address)).to.equal(7_000n);

    const request = await cli(["withdraw", "--request", "1000", "--json"]);
    expect(request.code, request.stderr).to.equal(0);
    expect(JSON.parse(request.stdout)).to.include({ ok: true, action: "requested", locked: "3000", pending: "1000" });

    const early = await cli(["withdraw", "--execute"]);
    expect(early.code).to.equal(1);
    expect(early.stderr.trim().split("\n")).to.have.length(1);
    expect(early.stderr).to.match(/the chain refused the transaction: WithdrawalNotReady\(\d+, \d+\)/);
    const earlyJson = await cli(["withdraw", "--execute", "--json"]);
    expect(earlyJson.code).to.equal(1);
    const refusal = JSON.parse(earlyJson.stdout) as {
      ok: boolean;
      error: { code: string; details: { error: string } };
    };
    expect(refusal).to.deep.include({ ok: false });
    expect(refusal.error).to.deep.include({ code: "CHAIN_REVERTED" });
    expect(refusal.error.details.error).to.equal("WithdrawalNotReady");

    const cancel = await cli(["withdraw", "--cancel", "--json"]);
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(JSON.parse(cancel.stdout)).to.include({ ok: true, locked: "3000", pending: "0" });
    expect(await w.vault.lockedOf(key.address)).to.equal(3_000n);
  });

  it("prints `key: value` text by default and the {ok:true} envelope with --json, for every command", async function () {
    const merchantKey = Wallet.createRandom();
    const store = path.join(w.dir, "cli-merchant.sqlite");
    const state = path.join(w.dir, "cli-buyer.sqlite");
    const HASH = "0x[0-9a-f]{64}";
    const bankChain = (args: string[], env: Record<string, string> = {}) =>
      runNode(["bin/bank-chain.mjs", "--rpc", rpcUrl, "offline", ...args], env);
    /** Text mode: exit 0, no JSON anywhere on stdout, every pattern found. */
    const text = (result: Finished, patterns: readonly RegExp[]) => {
      expect(result.code, result.stderr).to.equal(0);
      expect(
        result.stdout.split("\n").filter((l) => l.trimStart().startsWith("{")),
        result.stdout,
      ).to.deep.equal([]);
      for (const pattern of patterns) expect(result.stdout).to.match(pattern);
    };
    /** JSON mode: exit 0, the last stdout line is the envelope. */
    const envelope = (result: Finished): Record<string, unknown> => {
      expect(result.code, result.stderr).to.equal(0);
      const body = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(body).to.include({ ok: true });
      return body;
    };

    for (const json of [false, true]) {
      const flag = json ? ["--json"] : [];
      // merchant and buyer: one payment of 200
      const merchant = spawn(
        process.execPath,
        [
          "bin/bank-chain.mjs",
          "--rpc",
          rpcUrl,
          "offline",
          "merchant",
          "--amount",
          "200",
          "--store",
          store,
          "--vault",
          w.vaultAddress,
          ...flag,
        ],
        { cwd: ROOT, env: { ...process.env, BANK_CHAIN_OFFLINE_KEY: merchantKey.privateKey }, stdio: "pipe" },
      );
      merchant.stdin.end();
      const merchantDone = collect(merchant, 90_000);
      const offer = /^offer: (bcoffer1:\S+)$/m.exec(
        await waitForOutput(merchant, /^offer: bcoffer1:\S+\n/m, 60_000),
      )![1]!;
      const paid = await runNode(
        ["bin/bank-chain.mjs", "offline", "buyer", "--offer", offer, "--max", "200", "--state", state, ...flag],
        { BANK_CHAIN_OFFLINE_KEY: key.privateKey },
      );
      const sold = await merchantDone;
      expect(sold.stdout.split("\n")[0], "the offer comes first, on a line of its own").to.equal(`offer: ${offer}`);
      if (json) {
        expect(envelope(paid)).to.deep.include({ merchant: merchantKey.address, amount: "200" });
        expect(envelope(paid)).to.have.nested.property("decision.outcome", "accepted");
        expect(envelope(sold)).to.deep.include({ offer, error: null });
        expect(envelope(sold)).to.have.nested.property("decision.outcome", "accepted");
      } else {
        text(paid, [
          /^decision: accepted$/m,
          /^kind: +secured$/m,
          new RegExp(`^voucher: +${HASH}$`, "m"),
          new RegExp(`^merchant: ${merchantKey.address}$`, "m"),
          /^amount: +200$/m,
        ]);
        text(sold, [
          /^decision: accepted$/m,
          new RegExp(`^voucher: +${HASH}$`, "m"),
          new RegExp(`^payer: +${key.address}$`, "m"),
          /^amount: +200$/m,
        ]);
        // Progress on stderr reads as text too.
        expect(sold.stderr).to.match(/^accepted: hash=0x/m);
        expect(sold.stderr).not.to.match(/^\{/m);
      }

      // sync: one line per voucher; then nothing left
      const synced = await bankChain(["sync", "--store", store, ...flag]);
      if (json) {
        const { outcomes } = envelope(synced) as { outcomes: Array<Record<string, unknown>> };
        expect(outcomes).to.have.length(1);
        expect(outcomes[0]).to.include({ state: "settled", kind: "secured", paid: "200" });
        expect(envelope(await bankChain(["sync", "--store", store, ...flag]))).to.deep.equal({
          ok: true,
          outcomes: [],
        });
      } else {
        text(synced, [new RegExp(`^${HASH}  settled  secured  paid 200 \\(2\\.00 bUSD\\)  tx ${HASH}$`, "m")]);
        expect(synced.stdout.trim().split("\n")).to.have.length(1);
        const again = await bankChain(["sync", "--store", store]);
        text(again, []);
        expect(again.stdout).to.equal("nothing to submit\n");
      }

      // deposit, withdraw --request, withdraw --cancel
      const deposit = await cli(["deposit", "--amount", "250", ...flag]);
      const request = await cli(["withdraw", "--request", "100", ...flag]);
      const cancel = await cli(["withdraw", "--cancel", ...flag]);
      if (json) {
        expect(envelope(deposit)).to.include({ deposited: "250" });
        expect(envelope(deposit).transaction).to.match(new RegExp(`^${HASH}$`));
        expect(envelope(request)).to.include({ action: "requested", pending: "100" });
        expect(envelope(cancel)).to.include({ action: "cancelled", pending: "0" });
      } else {
        text(deposit, [
          /^deposited: +250 \(2\.50 bUSD\)$/m,
          /^locked: +\d+ \(\d+\.\d\d bUSD\)$/m,
          new RegExp(`^transaction: ${HASH}$`, "m"),
        ]);
        text(request, [
          /^withdrawal: +requested 100 \(1\.00 bUSD\)$/m,
          /^pending: +100 \(1\.00 bUSD\), available at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m,
          new RegExp(`^transaction: +${HASH}$`, "m"),
        ]);
        text(cancel, [/^withdrawal: +cancelled$/m, /^pending: +none$/m]);
      }

      // resolve: nothing awaits a decision on this lane
      const resolved = await cli(["resolve", "--state", state, "--merchant", merchantKey.address, ...flag]);
      if (json) {
        expect(envelope(resolved)).to.include({ lane: BigInt(merchantKey.address).toString(), resolved: false });
      } else {
        text(resolved, [
          new RegExp(`^lane: +${BigInt(merchantKey.address)}$`, "m"),
          /^resolved: no \(no voucher of this lane awaits a decision\)$/m,
        ]);
      }
    }
  });

  it("refuses bad arguments and a missing key with one line, sending nothing", async function () {
    const before = await w.suite.ethers.provider.getBlockNumber();
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [["deposit", "--amount", "0"], { BANK_CHAIN_OFFLINE_KEY: key.privateKey }, /--amount must be a positive integer/],
      [
        ["withdraw"],
        { BANK_CHAIN_OFFLINE_KEY: key.privateKey },
        /exactly one of --request <minor>, --cancel, --execute/,
      ],
      [["withdraw", "--cancel", "--execute"], { BANK_CHAIN_OFFLINE_KEY: key.privateKey }, /exactly one of/],
      [["deposit", "--amount", "5"], { BANK_CHAIN_OFFLINE_KEY: "" }, /BANK_CHAIN_OFFLINE_KEY holds no private key/],
      [["deposit", "--amount", "5"], { BANK_CHAIN_OFFLINE_KEY: "0x1234" }, /is not a valid private key/],
    ];
    for (const [args, env, message] of cases) {
      const result = await cli(args, env);
      expect(result.code, args.join(" ")).to.equal(1);
      expect(result.stderr.trim().split("\n"), args.join(" ")).to.have.length(1);
      expect(result.stderr).to.match(message);
      expect(result.stderr).not.to.include("0x1234");
    }
    expect(await w.suite.ethers.provider.getBlockNumber()).to.equal(before);
  });
});
