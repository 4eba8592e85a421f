import { expect } from "chai";
import { encodeBytes32String, Wallet } from "ethers";

import { runNode } from "../helpers/processes.js";
import { RpcProxy, world, type World } from "./helpers.js";

describe("offline: bank-chain offline deposit / withdraw", function () {
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
    const deposit = await cli(["deposit", "--amount", "3000"]);
    expect(deposit.code, deposit.stderr).to.equal(0);
    expect(JSON.parse(deposit.stdout)).to.include({ deposited: "3000", locked: "3000" });
    expect(await w.vault.lockedOf(key.address)).to.equal(3_000n);
    expect(await w.suite.token.balanceOf(key.address)).to.equal(7_000n);

    const request = await cli(["withdraw", "--request", "1000"]);
    expect(request.code, request.stderr).to.equal(0);
    expect(JSON.parse(request.stdout)).to.include({ locked: "3000", pending: "1000" });

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
