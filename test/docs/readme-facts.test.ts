/**
 * Facts the README and docs/operations.md state about the code, read from the code: the duties a remote network
 * needs a key for, the devnet's account count, and the npm scripts. A duty, an account or a script added without
 * its line in the docs fails here.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { constantCase, DEVNET_ACCOUNT_COUNT, DUTIES } from "../../src/chain/networks.js";
import { ROOT } from "../helpers/processes.js";

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

describe("README and docs/operations.md: what they say of the code", function () {
  it("names every duty's key variable, in the DUTIES order, and says how many", function () {
    const readme = read("README.md");
    const sentence = /Every duty has its own key \((\d+)\): ([^(]+)\(the `DUTIES` table/.exec(readme);
    expect(sentence, "the README's sentence on duty keys").to.not.equal(null);
    const named = [...sentence![2]!.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1]);
    expect(named).to.deep.equal(DUTIES.map((duty) => constantCase(duty.name)));
    expect(Number(sentence![1])).to.equal(DUTIES.length);
  });

  it("gives the devnet's account count and its highest duty index", function () {
    const row = read("docs/operations.md")
      .split("\n")
      .find((line) => line.startsWith("| accounts "));
    expect(row, "the accounts row of the EVM table").to.not.equal(undefined);
    expect(row).to.include(`\`accounts.count\` in \`hardhat.config.ts\` (${DEVNET_ACCOUNT_COUNT})`);
    expect(row).to.include(`\`--accounts\` (${DEVNET_ACCOUNT_COUNT} for the devnet`);
    const highest = Math.max(...DUTIES.map((duty) => duty.devnetIndex));
    expect(highest).to.be.lessThan(DEVNET_ACCOUNT_COUNT);
    expect(row).to.include(`every duty's devnet index (up to ${highest})`);
  });

  it("lists every npm script in the README's table of scripts, and no script that is not there", function () {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    const readme = read("README.md");
    const table = readme.slice(readme.indexOf("| script "), readme.indexOf("## Demo accounts on the devnet"));
    const listed = new Set(
      table
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .flatMap((line) => [...line.split("|")[1]!.matchAll(/`npm run ([\w:-]+)`/g)].map((match) => match[1]!)),
    );
    // `npm start` and `npm test` are the README's two commands; postinstall runs by itself.
    const own = new Set(["start", "test", "postinstall"]);
    expect(
      scripts.filter((name) => !own.has(name) && !listed.has(name)),
      "scripts missing from the table",
    ).to.deep.equal([]);
    expect(
      [...listed].filter((name) => !scripts.includes(name)),
      "table rows naming no script",
    ).to.deep.equal([]);
  });
});
