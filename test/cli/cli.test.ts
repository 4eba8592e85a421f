import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { getAddress, Wallet } from "ethers";

import { DUTIES, keyVariable, REMOTE_NETWORKS } from "../../src/chain/networks.js";
import { collect, freePort, ROOT, runNode, type Finished } from "../helpers/processes.js";
import { RpcProxy } from "../mocks/rpc-proxy.js";

const CLI = "bin/bank-chain.mjs";
const noConsortium = { CONSORTIUM_RPC_URL: "", CONSORTIUM_DEPLOYER_KEY: "" };

describe("cli: bank-chain", function () {
  it("prints help for the program and for a command", async function () {
    const top = await runNode([CLI, "--help"]);
    expect(top.code).to.equal(0);
    expect(top.stdout)
      .to.match(/Usage: bank-chain/)
      .and.match(/status/)
      .and.match(/--network/)
      .and.match(/--rpc/);
    const status = await runNode([CLI, "status", "--help"]);
    expect(status.code).to.equal(0);
    expect(status.stdout).to.match(/deployed contracts/);
  });

  it("stops on an unknown network with one line naming it", async function () {
    const result = await runNode([CLI, "--network", "atlantis", "status"]);
    expect(result.code).to.equal(1);
    expect(result.stderr.trim().split("\n")).to.have.length(1);
    expect(result.stderr).to.match(/unknown network "atlantis"; known networks: hardhat, localhost/);
  });

  it("stops on a missing key or URL naming the configuration variable, without a stack trace", async function () {
    const result = await runNode([CLI, "--network", "consortium", "status"], noConsortium);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/configuration variable CONSORTIUM_RPC_URL is not set/);
    expect(result.stderr).to.match(/npx hardhat keystore set CONSORTIUM_RPC_URL/);
    expect(result.stderr).not.to.match(/\n\s+at /);
  });

  it("names every missing duty key once the URL is there, in one line, never falling back to the deployer's", async function () {
    const port = await freePort();
    const set = Object.fromEntries(
      DUTIES.map(({ name }) => [keyVariable(REMOTE_NETWORKS.consortium, name), Wallet.createRandom().privateKey]),
    );
    const result = await runNode([CLI, "--network", "consortium", "status"], {
      ...set,
      CONSORTIUM_RPC_URL: `http://127.0.0.1:${port}`,
      CONSORTIUM_BANK_B_KEY: "",
      CONSORTIUM_GATEWAY_KEY: "",
    });
    expect(result.code).to.equal(1);
    expect(result.stderr.trim().split("\n")).to.have.length(1);
    expect(result.stderr).to.match(
      /network "consortium" needs one key per duty; not set: CONSORTIUM_BANK_B_KEY, CONSORTIUM_GATEWAY_KEY \(/,
    );
  });

  it("refuses a key that is not a private key", async function () {
    const port = await freePort();
    const result = await runNode([CLI, "--network", "consortium", "status"], {
      CONSORTIUM_RPC_URL: `http://127.0.0.1:${port}`,
      CONSORTIUM_DEPLOYER_KEY: "0x1234",
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/CONSORTIUM_DEPLOYER_KEY is not a valid secp256k1 private key/);
    expect(result.stderr).not.to.contain("0x1234");
  });

  it("stops on an unreachable RPC naming the URL, as JSON on request", async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const text = await runNode([CLI, "--rpc", url, "status"]);
    expect(text.code).to.equal(1);
    expect(text.stderr.trim()).to.equal(`bank-chain: cannot reach the JSON-RPC node at ${url}: ECONNREFUSED`);
    const json = await runNode([CLI, "--rpc", url, "--json", "status"]);
    expect(json.code).to.equal(1);
    const body = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; details: { url: string } } };
    expect(body.ok).to.equal(false);
    expect(body.error.code).to.equal("CONFIG_RPC_UNREACHABLE");
    expect(body.error.details.url).to.equal(url);
  });

  it("refuses a URL that is not http(s)", async function () {
    const result = await runNode([CLI, "--rpc", "ftp://example", "status"]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/--rpc must be an http\(s\) URL, got "ftp:\/\/example"/);
  });

  it("reports the in-process chain's status as JSON", async function () {
    const result = await runNode([CLI, "--network", "hardhat", "--json", "status"]);
    expect(result.code, result.stderr).to.equal(0);
    const body = JSON.parse(result.stdout) as { ok: boolean; network: string; chainId: string; blockNumber: number };
    expect(body).to.include({ ok: true, network: "hardhat", chainId: "31337", blockNumber: 0 });
  });

  it("prints the package's version", async function () {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const result = await runNode([CLI, flag]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.equal(`${version}\n`);
    }
  });

  describe("with --rpc, the deployments made on the node's chain id", function () {
    let root: string;
    let chainId = 31337;
    let proxy: RpcProxy;
    let url: string;

    /** A deployments folder `network` made on `id`, holding one contract `name`. */
    function folder(network: string, id: number, name: string, address: string): void {
      mkdirSync(path.join(root, network), { recursive: true });
      writeFileSync(path.join(root, network, ".chain"), JSON.stringify({ chainId: String(id) }));
      writeFileSync(path.join(root, network, `${name}.json`), JSON.stringify({ address, abi: [] }));
    }
    const status = (...args: string[]) =>
      runNode([CLI, "--rpc", url, ...args, "status"], { BANK_CHAIN_DEPLOYMENTS_DIR: root });

    before(async function () {
      root = mkdtempSync(path.join(tmpdir(), "bank-chain-cli-rpc-"));
      // A node that answers only what `status` asks: its chain id and block number.
      proxy = new RpcProxy(async ({ method }) => {
        if (method === "eth_chainId") return `0x${chainId.toString(16)}`;
        if (method === "eth_blockNumber") return "0x7";
        throw Object.assign(new Error(`method ${method} not supported`), { code: -32601 });
      });
      url = await proxy.start();
      folder("localhost", 31337, "Devnet", "0x00000000000000000000000000000000000000d1");
      folder("sepolia", 11155111, "Sepolia", "0x00000000000000000000000000000000000000e1");
      folder("consortium", 1337, "BankA", "0x00000000000000000000000000000000000000c1");
    });
    after(async function () {
      await proxy?.stop();
      rmSync(root, { recursive: true, force: true });
    });

    it("reads the folder whose .chain holds the chain id", async function () {
      chainId = 11155111;
      const json = await status("--json");
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.include({
        network: "rpc",
        chainId: "11155111",
        blockNumber: 7,
        deployments: "sepolia",
        contracts: { Sepolia: "0x00000000000000000000000000000000000000e1" },
      });
      chainId = 4242;
      expect(JSON.parse((await status("--json")).stdout)).to.deep.include({ contracts: {} });
    });

    it("prefers localhost when several folders match, and names them when none is localhost", async function () {
      folder("devnet-copy", 31337, "Copy", "0x00000000000000000000000000000000000000d2");
      chainId = 31337;
      const local = await status("--json");
      // The record holds the address in lower case; status shows it checksummed.
      expect(JSON.parse(local.stdout)).to.deep.include({
        deployments: "localhost",
        contracts: { Devnet: getAddress("0x00000000000000000000000000000000000000d1") },
      });

      folder("consortium-b", 1337, "BankB", "0x00000000000000000000000000000000000000c2");
      chainId = 1337;
      const text = await status();
      expect(text.code).to.equal(1);
      expect(text.stderr).to.equal(
        "bank-chain: deployments of consortium, consortium-b were all made on chain id 1337: " +
          "choose one with --network <name> instead of --rpc\n",
      );
      const json = await status("--json");
      const body = JSON.parse(json.stdout) as { ok: boolean; error: { name: string; code: string; details: unknown } };
      expect(body.ok).to.equal(false);
      expect(body.error).to.deep.include({
        name: "DeploymentAmbiguousError",
        code: "DEPLOYMENT_AMBIGUOUS",
        details: { chainId: "1337", networks: ["consortium", "consortium-b"] },
      });
    });
  });

  describe("in a clone where nothing was built", function () {
    this.timeout(120_000);
    let clone: string;

    /** Runs the clone's CLI with `input` on stdin. */
    async function run(args: readonly string[], input = ""): Promise<Finished> {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: clone, env: process.env, stdio: "pipe" });
      const finished = collect(child, 60_000);
      child.stdin.end(input);
      return finished;
    }

    before(function () {
      clone = path.join(mkdtempSync(path.join(tmpdir(), "bank-chain-clone-")), "repo");
      // The committed tree only (no typechain-types/, generated/, artifacts/, deployments/), with the
      // installed packages: what `git clone` and `npm ci` give a new user.
      execFileSync("git", ["clone", "--quiet", "--depth", "1", `file://${ROOT}`, clone]);
      symlinkSync(path.join(ROOT, "node_modules"), path.join(clone, "node_modules"), "dir");
    });
    after(function () {
      if (clone !== undefined) rmSync(path.dirname(clone), { recursive: true, force: true });
    });

    it("prints help and the version, and decodes ISO 8583", async function () {
      for (const generated of ["typechain-types", "generated", "artifacts"]) {
        expect(() => readFileSync(path.join(clone, generated, "index.ts")), generated).to.throw();
      }
      const help = await run(["--help"]);
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout)
        .to.match(/Usage: bank-chain/)
        .and.match(/bills/)
        .and.match(/iso8583/)
        .and.match(/keys/);
      const keysHelp = await run(["keys", "recover", "--help"]);
      expect(keysHelp.code, keysHelp.stderr).to.equal(0);
      expect(keysHelp.stdout).to.match(/--show-key/);
      const billsHelp = await run(["bills", "exec", "--help"]);
      expect(billsHelp.code, billsHelp.stderr).to.equal(0);
      expect(billsHelp.stdout).to.match(/REQUEST_ACCEPTANCE/);
      const version = await run(["--version"]);
      expect(version.code, version.stderr).to.equal(0);
      expect(version.stdout).to.match(/^\d+\.\d+\.\d+/);

      const decoded = await run(["iso8583", "decode"], "30383030\nzz\n");
      expect(decoded.code, decoded.stderr).to.equal(0);
      expect(decoded.stderr).to.equal("");
      expect(
        decoded.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as unknown),
      ).to.deep.equal([
        { ok: false, error: { category: "truncated", field: 1, offset: 4 } },
        { ok: false, error: { category: "bad_hex", offset: 0 } },
      ]);
    });

    it("says in one line to build first when a command needs the build", async function () {
      const id = `0x${"ab".repeat(32)}`;
      const text = await run(["bills", "history", id]);
      expect(text.code).to.equal(1);
      expect(text.stderr).to.equal(
        'bank-chain: this command needs the contracts\' build, which is missing: run "npm run build" first\n',
      );
      const json = await run(["--json", "bills", "history", id]);
      expect(json.code).to.equal(1);
      expect(JSON.parse(json.stdout)).to.deep.include({ ok: false });
      expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code).to.equal("BUILD_MISSING");
    });
  });
});
