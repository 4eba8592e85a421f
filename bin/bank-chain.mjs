#!/usr/bin/env node
// Entry of the `bank-chain` command. npm and npx put the project's Node 22
// (the `node` devDependency) first on PATH, so `npx bank-chain …` runs there.
//
// The sources are TypeScript run by Node itself (no tsx, no build): a module
// hook maps the sources' `./x.js` specifiers to `./x.ts` when only the .ts
// exists, and turns each .ts file into JavaScript with Node's own
// `stripTypeScriptTypes` in transform mode (TypeChain's output uses
// namespaces, which plain type stripping refuses). The JavaScript is cached
// by content hash under node_modules/.cache/bank-chain/, which spares the
// transformer's start-up (about 0.1 s) on every later run.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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

const CACHE = new URL("../node_modules/.cache/bank-chain/", import.meta.url);

/** The JavaScript of TypeScript `code`, from the cache when this Node transformed the same text before. */
function javascriptOf(code) {
  const key = createHash("sha256").update(process.version).update("\0").update(code).digest("hex").slice(0, 40);
  const file = new URL(`${key}.js`, CACHE);
  try {
    return readFileSync(file, "utf8");
  } catch {
    // Not cached yet.
  }
  const source = module.stripTypeScriptTypes(code, { mode: "transform", sourceMap: false });
  try {
    mkdirSync(CACHE, { recursive: true });
    const temporary = new URL(`${key}.${process.pid}.tmp`, CACHE);
    writeFileSync(temporary, source);
    renameSync(temporary, file);
  } catch {
    // A read-only checkout runs uncached.
  }
  return source;
}

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
      return { format: "module", source: javascriptOf(readFileSync(fileURLToPath(url), "utf8")), shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});

const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
