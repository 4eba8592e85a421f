#!/usr/bin/env node
// Makes sure the installed toolchain can run Hardhat 3 on this host.
//
// Hardhat 3 needs Node >= 22.13. The `node` devDependency puts a Node 22
// binary in node_modules/.bin, which npm scripts and npx use. But npm running
// on an older system Node skips EDR's native package (its `engines` says
// node >= 22), and every Hardhat command then fails. When that happened, this
// script re-runs `npm install` with node_modules/.bin first on PATH, so npm
// itself runs on Node 22 and installs the native package for this platform.
//
// It runs as `postinstall` and before `test` and `start` (a later
// `npm install <pkg>` on Node 20 removes the package again without running the
// root postinstall). Plain Node, no dependencies: it must run before they are
// complete.
//
// Before the tests (`npm test`, `npm run test:ts`, or with `--browser`) it
// also checks that the browser the console's tests drive is there: Debian's
// chromium at /usr/bin/chromium, or the executable $CHROMIUM_PATH names. It
// never downloads one; it fails at once naming the apt-get command instead of
// letting the browser tests fail minutes later.
import { accessSync, constants, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const GUARD = "BANK_CHAIN_TOOLCHAIN_REPAIR";

function edrLoads() {
  try {
    require("@nomicfoundation/edr");
    return true;
  } catch {
    return false;
  }
}

function fail(message) {
  process.stderr.write(`bank-chain toolchain: ${message}\n`);
  process.exit(1);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  fail(
    `this script runs on Node ${process.versions.node}; Hardhat 3 needs Node >= 22.13. ` +
      "Run it through npm (npm run …), which puts the project's Node 22 from node_modules/.bin first on PATH.",
  );
}

const BROWSER_STEPS = new Set(["test", "test:ts"]);
const INSTALL_CHROMIUM =
  "apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core (as root, or with sudo)";

/** Fails unless the browser tests' chromium is an executable file. */
function checkChromium() {
  const chromium = process.env.CHROMIUM_PATH?.trim() || "/usr/bin/chromium";
  try {
    if (!statSync(chromium).isFile()) throw new Error("not a file");
    accessSync(chromium, constants.X_OK);
  } catch {
    fail(
      process.env.CHROMIUM_PATH?.trim()
        ? `CHROMIUM_PATH names ${chromium}, which is not an executable file; the browser tests need chromium there.`
        : `the browser tests need Debian's chromium at ${chromium}, and it is missing. Install it with:\n  ${INSTALL_CHROMIUM}\n` +
            "or set CHROMIUM_PATH to a chromium or chrome executable.",
    );
  }
}

if (BROWSER_STEPS.has(process.env.npm_lifecycle_event ?? "") || process.argv.includes("--browser")) checkChromium();

if (edrLoads()) process.exit(0);

if (process.env[GUARD] === "1") {
  fail(
    "@nomicfoundation/edr still cannot load its native package after a reinstall. " +
      `Platform ${process.platform}-${process.arch} may not be supported by Hardhat's EDR.`,
  );
}

process.stderr.write(
  "bank-chain toolchain: EDR's native package is missing (npm ran on an older Node); reinstalling on Node 22…\n",
);
const binDir = path.join(root, "node_modules", ".bin");
const npmCli = process.env.npm_execpath;
const args = ["install", "--no-audit", "--no-fund", "--ignore-scripts=false"];
const env = {
  ...process.env,
  [GUARD]: "1",
  PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ""}`,
};
// Prefer the npm that is running us, executed by this (Node 22) process.
const result =
  npmCli && npmCli.endsWith(".js")
    ? spawnSync(process.execPath, [npmCli, ...args], { cwd: root, env, stdio: "inherit" })
    : spawnSync("npm", args, { cwd: root, env, stdio: "inherit", shell: process.platform === "win32" });
if (result.status !== 0) fail(`npm install exited with ${result.status ?? result.signal}`);

// The new package is only visible to a fresh process.
const check = spawnSync(
  process.execPath,
  ["-e", `require(${JSON.stringify(require.resolve("@nomicfoundation/edr"))})`],
  { cwd: root, stdio: "inherit" },
);
if (check.status !== 0) fail("@nomicfoundation/edr cannot load after the reinstall");
process.stderr.write("bank-chain toolchain: EDR ready.\n");
