import { expect } from "chai";

import { freePort, runNode } from "../helpers/processes.js";

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

  it("names a missing key once the URL is there", async function () {
    const port = await freePort();
    const result = await runNode([CLI, "--network", "consortium", "status"], {
      CONSORTIUM_RPC_URL: `http://127.0.0.1:${port}`,
      CONSORTIUM_DEPLOYER_KEY: "",
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.match(/configuration variable CONSORTIUM_DEPLOYER_KEY is not set/);
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
});
