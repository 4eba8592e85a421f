/**
 * `bank-chain interop`: what it refuses before it touches a chain, and how it shows the API gateway's answers
 * (a local HTTP server stands in for the gateway). The whole send, against `npm start`'s two chains and real
 * services, is docs/interop.md's command, run by test/docs/commands.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";

import { runNode } from "../helpers/processes.js";

const CLI = "bin/bank-chain.mjs";
const ID = `0x${"ab".repeat(32)}`;
const TO = "0xBcd4042DE499D14e55001CcbB24a551F3b954096";
const KEY = { BANK_CHAIN_INTEROP_KEY: `0x${"11".repeat(32)}` };

const json = (stdout: string) =>
  JSON.parse(stdout.trim()) as { ok: boolean; error?: { code: string; message: string } };

describe("cli: bank-chain interop", function () {
  let server: Server | undefined;
  let api = "";
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const asked: string[] = [];

  before(async function () {
    server = createServer((request, response) => {
      asked.push(request.url ?? "");
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("lists send and status", async function () {
    const help = await runNode([CLI, "interop", "--help"]);
    expect(help.code).to.equal(0);
    expect(help.stdout)
      .to.match(/send \[options\]/)
      .and.match(/status \[options\] <id>/);
  });

  for (const [what, args, env, code] of [
    [
      "a recipient that is not an address",
      ["--to", "0xBcd", "--amount", "1", "--destination", "2"],
      KEY,
      "INTEROP_CLI_BAD_ADDRESS",
    ],
    ["a zero amount", ["--to", TO, "--amount", "0", "--destination", "2"], KEY, "INTEROP_CLI_BAD_NUMBER"],
    [
      "an amount that is not a whole number",
      ["--to", TO, "--amount", "1.5", "--destination", "2"],
      KEY,
      "INTEROP_CLI_BAD_NUMBER",
    ],
    [
      "a chain id over 64 bits",
      ["--to", TO, "--amount", "1", "--destination", (2n ** 64n).toString()],
      KEY,
      "INTEROP_CLI_BAD_NUMBER",
    ],
    [
      "a time to live over 30 days",
      ["--to", TO, "--amount", "1", "--destination", "2", "--ttl", "2592001"],
      KEY,
      "INTEROP_CLI_BAD_NUMBER",
    ],
    [
      "an API that is not http(s)",
      ["--to", TO, "--amount", "1", "--destination", "2", "--api", "ftp://x"],
      KEY,
      "INTEROP_CLI_BAD_URL",
    ],
    [
      "no key",
      ["--to", TO, "--amount", "1", "--destination", "2"],
      { BANK_CHAIN_INTEROP_KEY: "" },
      "INTEROP_CLI_NO_KEY",
    ],
    [
      "a key that is not one",
      ["--to", TO, "--amount", "1", "--destination", "2"],
      { BANK_CHAIN_INTEROP_KEY: "0x1234" },
      "INTEROP_CLI_BAD_KEY",
    ],
  ] as const) {
    it(`refuses ${what} before it opens a chain`, async function () {
      const result = await runNode([CLI, "--json", "interop", "send", ...args], env);
      expect(result.code).to.equal(1);
      const out = json(result.stdout);
      expect(out.ok).to.equal(false);
      expect(out.error!.code).to.equal(code);
      expect(result.stdout).not.to.contain("11".repeat(32)); // the key is never printed
    });
  }

  it("shows a payload's legs from the API gateway", async function () {
    answer = {
      status: 200,
      body: {
        id: ID,
        signer: TO,
        status: "delivered",
        kind: "CrossChain",
        reason: null,
        payload: {},
        source: { chain: "eip155:31337", txHash: `0x${"01".repeat(32)}`, blockNumber: 7, status: "executed" },
        message: { id: `0x${"02".repeat(32)}`, nonce: "3", deadline: 1, status: "Sent" },
        destination: { chain: "eip155:31338", status: "Delivered", txHash: `0x${"03".repeat(32)}` },
        refund: null,
        createdAt: "",
        updatedAt: "",
      },
    };
    const result = await runNode([CLI, "interop", "status", ID, "--api", api, "--signer", TO.toLowerCase()]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout)
      .to.match(/^status: +delivered$/m)
      .and.match(new RegExp(`^source: +eip155:31337 0x${"01".repeat(32)}$`, "m"))
      .and.match(new RegExp(`^message: +0x${"02".repeat(32)} \\(nonce 3\\)$`, "m"))
      .and.match(new RegExp(`^destination: +eip155:31338 0x${"03".repeat(32)}$`, "m"));
    expect(asked.at(-1)).to.equal(`/transactions/${ID}?signer=${TO}`);
  });

  it("passes the API gateway's refusal on with its code, message and field", async function () {
    answer = {
      status: 409,
      body: { error: { code: "AMBIGUOUS_TRANSACTION", message: "two signers submitted it", field: "signer" } },
    };
    const result = await runNode([CLI, "interop", "status", ID, "--api", api]);
    expect(result.code).to.equal(1);
    expect(result.stderr.trim()).to.equal(
      "bank-chain: the API gateway refused it (HTTP 409 AMBIGUOUS_TRANSACTION): two signers submitted it (signer)",
    );
  });

  it("refuses an id that is not 32 bytes, and says when the API gateway does not answer", async function () {
    const bad = await runNode([CLI, "--json", "interop", "status", "0x1234", "--api", api]);
    expect(json(bad.stdout).error!.code).to.equal("INTEROP_CLI_BAD_ID");
    const down = await runNode([CLI, "--json", "interop", "status", ID, "--api", "http://127.0.0.1:1"]);
    expect(json(down.stdout).error!.code).to.equal("INTEROP_CLI_API_UNREACHABLE");
  });
});
