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

// node:sqlite (the services' stores) is still flagged experimental in Node 22; its one-time warning would
// break the command's one-line errors and JSON output, so that warning alone is dropped.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && text.startsWith("SQLite is an experimental feature")) return;
  return emitWarning.call(process, warning, ...rest);
};

const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
