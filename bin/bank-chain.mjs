#!/usr/bin/env node
// Entry of the `bank-chain` command. npm and npx put the project's Node 22
// (the `node` devDependency) first on PATH, so `npx bank-chain …` runs there.
import process from "node:process";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `bank-chain: needs Node >= 22.13 (this is ${process.versions.node}); run it as \`npx bank-chain …\` ` +
      "in the project, which uses the project's own Node 22\n",
  );
  process.exit(1);
}

const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
