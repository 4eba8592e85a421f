import { spawn } from "node:child_process";

import { expect } from "chai";

import { encode } from "../../src/iso8583/codec.js";
import { collect, ROOT, type Finished } from "../helpers/processes.js";

const CLI = "bin/bank-chain.mjs";

/** Runs the CLI with `input` on stdin (`runNode` closes stdin empty). */
async function runWithInput(args: readonly string[], input: string): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: process.env, stdio: "pipe" });
  const finished = collect(child, 60_000);
  child.stdin.end(input);
  return finished;
}

function jsonLines(stdout: string): unknown[] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as unknown);
}

const PAN = "4761739001010119";
const good = { mti: "0200", fields: { 2: PAN, 3: "000000", 4: "000000001500", 102: "ACC-1" } };
const goodHex = encode(good).toString("hex").toUpperCase();

describe("cli: bank-chain iso8583", function () {
  this.timeout(120_000);

  it("decodes hex lines, good and bad mixed, one JSON line each, and exits 0", async function () {
    const truncated = Buffer.from(`0200${"3000000000000000"}000000`, "latin1").toString("hex");
    const input = [goodHex, "", truncated, "zz", "abc", `  ${goodHex.toLowerCase()}  `, ""].join("\n");
    const result = await runWithInput(["iso8583", "decode"], input);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout.split("\n")[0]).to.equal(
      `{"ok":true,"mti":"0200","fields":{"2":"${PAN}","3":"000000","4":"000000001500","102":"ACC-1"}}`,
    );
    expect(jsonLines(result.stdout)).to.deep.equal([
      { ok: true, mti: "0200", fields: { 2: PAN, 3: "000000", 4: "000000001500", 102: "ACC-1" } },
      { ok: false, error: { category: "field_missing", field: 4, offset: 26 } },
      { ok: false, error: { category: "bad_hex", offset: 0 } },
      { ok: false, error: { category: "bad_hex", offset: 3 } },
      { ok: true, mti: "0200", fields: { 2: PAN, 3: "000000", 4: "000000001500", 102: "ACC-1" } },
    ]);
  });

  it("encodes JSON lines, good and bad mixed, one JSON line each, and exits 0", async function () {
    const input = [
      JSON.stringify(good),
      "not json",
      JSON.stringify({ mti: "0200" }),
      JSON.stringify({ mti: "0200", fields: { 3: 0 } }),
      JSON.stringify({ mti: "0200", fields: {}, extra: 1 }),
      "",
      JSON.stringify({ mti: "0200", fields: { 65: "00" } }),
      JSON.stringify({ mti: "0200", fields: { 3: "00000X" } }),
      JSON.stringify({ mti: "0900", fields: {} }),
    ].join("\r\n");
    const result = await runWithInput(["iso8583", "encode"], input);
    expect(result.code, result.stderr).to.equal(0);
    expect(jsonLines(result.stdout)).to.deep.equal([
      { ok: true, hex: goodHex },
      { ok: false, error: { category: "bad_json" } },
      { ok: false, error: { category: "bad_shape", path: "fields" } },
      { ok: false, error: { category: "bad_shape", path: "fields.3" } },
      { ok: false, error: { category: "bad_shape", path: "extra" } },
      { ok: false, error: { category: "bad_bitmap", field: 65, offset: 4 } },
      { ok: false, error: { category: "non_numeric", field: 3, offset: 20 } },
      { ok: false, error: { category: "unknown_mti_class", field: 0, offset: 1 } },
    ]);
  });

  it("exits 0 with no output on empty input", async function () {
    const result = await runWithInput(["iso8583", "decode"], "");
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal("");
  });
});
