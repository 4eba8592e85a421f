#!/usr/bin/env node
// Entry of the `bank-chain` command. npm and npx put the project's Node 22
// (the `node` devDependency) first on PATH, so `npx bank-chain …` runs there.
//
// The sources are TypeScript run by Node itself (no tsx, no build): a module
// hook maps the sources' `./x.js` specifiers to `./x.ts` when only the .ts
// exists, and turns each .ts file into JavaScript with Node's own
// `stripTypeScriptTypes` in transform mode (TypeChain's output uses
// namespaces, which plain type stripping refuses).
import { existsSync, readFileSync } from "node:fs";
import module from "node:module";
import process from "node:process";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `bank-chain: needs Node >= 22.15 (this is ${process.versions.node}); run it as \`npx bank-chain …\` ` +
      "in the project, which uses the project's own Node 22\n",
  );
  process.exit(1);
}

// Two of Node 22's one-time experimental warnings would break the command's one-line errors and JSON output:
// node:sqlite (the services' stores) and the TypeScript transform below. Those two alone are dropped.
const QUIET = ["SQLite is an experimental feature", "stripTypeScriptTypes is an experimental feature"];
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = typeof warning === "string" ? warning : warning?.message;
  if (typeof text === "string" && QUIET.some((prefix) => text.startsWith(prefix))) return;
  return emitWarning.call(process, warning, ...rest);
};

module.registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      specifier.endsWith(".js") &&
      (specifier.startsWith("./") || specifier.startsWith("../")) &&
      context.parentURL?.endsWith(".ts")
    ) {
      const ts = new URL(`${specifier.slice(0, -".js".length)}.ts`, context.parentURL);
      if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(ts)) {
        return { url: ts.href, format: "module", shortCircuit: true };
      }
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (url.startsWith("file:") && url.endsWith(".ts") && !url.includes("/node_modules/")) {
      const source = module.stripTypeScriptTypes(readFileSync(fileURLToPath(url), "utf8"), {
        mode: "transform",
        sourceMap: false,
      });
      return { format: "module", source, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});

const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
