/**
 * `bank-chain`: the one command-line entry of the project. Each part adds a
 * subcommand group; every command takes `--network`/`--rpc` to choose the
 * chain and `--json` for machine-readable output.
 *
 * Start-up stays light: this module and the part CLIs it imports load no
 * generated code (TypeChain, artifacts); a command imports what it needs when
 * it runs, so `--help`, `--version` and `iso8583` work before any build, and a
 * command that needs the build says so in one line.
 */
import { readFileSync } from "node:fs";

import { Command, CommanderError, Option } from "@commander-js/extra-typings";

import { addBillsCommands } from "./bills/cli.js";
import { addCertificatesCommands } from "./certificates/cli.js";
import { addRewardsCommands } from "./rewards/cli.js";
import { addKeysCommands } from "./keys/cli.js";
import { addCheckoutCommands } from "./commerce/cli.js";
import { BuildMissingError, jsonReplacer, output, withChain, type Program } from "./chain/command.js";
import { originOf } from "./chain/config.js";
import { NETWORK_NAMES } from "./chain/networks.js";
import { addCardsCommands } from "./iso8583/cards-cli.js";
import { addIso8583Commands } from "./iso8583/cli.js";
import { addOfflineCommands } from "./offline/cli.js";
import { addInteropCommands } from "./interop/cli.js";
import { BankChainError, messageOf } from "./errors.js";

/** The package's version, from package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

export function buildProgram(): Program {
  // Typed as `Program`: the compiler checks that these global options give `GlobalOptions`, which the commands see.
  const program: Program = new Command("bank-chain")
    .description("Bank money on a shared EVM ledger: tokens, reserves, settlement and payment services")
    .version(version(), "-V, --version", "print the version")
    .addOption(new Option("-n, --network <name>", `network to use (${NETWORK_NAMES.join(", ")}; default: localhost)`))
    .addOption(new Option("--rpc <url>", "JSON-RPC URL to use instead of a named network").conflicts("network"))
    .option("--json", "print machine-readable JSON", false)
    .showHelpAfterError()
    .exitOverride();

  program
    .command("status")
    .description("print the network, chain id, block number and the deployed contracts")
    .action(async (_options, command) => {
      const options = command.optsWithGlobals();
      await withChain(options, async (chain, deployments) => {
        const blockNumber = await chain.provider.getBlockNumber();
        const contracts = Object.fromEntries(
          [...deployments.contracts].map(([name, record]) => [name, record.address]),
        );
        output(
          options,
          {
            network: chain.network,
            // The origin only: the URL may carry an RPC provider's API key or a password.
            url: chain.url === undefined ? null : originOf(chain.url),
            chainId: chain.chainId,
            blockNumber,
            deployments: deployments.network,
            contracts,
          },
          () =>
            [
              `network:   ${chain.network}${chain.url === undefined ? " (in-process)" : ` ${originOf(chain.url)}`}`,
              `chainId:   ${chain.chainId}`,
              `block:     ${blockNumber}`,
              `contracts: ${deployments.contracts.size === 0 ? "none deployed" : `(deployments/${deployments.network})`}`,
              ...Object.entries(contracts).map(([name, address]) => `  ${name.padEnd(28)} ${address}`),
            ].join("\n"),
        );
      });
    });

  program
    .command("roles")
    .description(
      "read every contract's role holders, the token's minters, the reserve ledger's issuers and the banks' agents from the chain and check them against the plan: one holder per duty, the deployer none",
    )
    .action(async (_options, command) => {
      const options = command.optsWithGlobals();
      const { dutyAddresses, readRoleTable, RoleCheckError } = await import("./chain/roles.js");
      await withChain(options, async (chain, deployments) => {
        const duties = await dutyAddresses(chain);
        const table = await readRoleTable(chain.provider, deployments, duties);
        // With --json a mismatch is one `{"ok":false,…}` line whose details carry the table.
        if (!options.json || table.problems.length === 0)
          output(
            options,
            {
              network: chain.network,
              chainId: chain.chainId,
              duties: Object.fromEntries(duties),
              roles: table.rows,
              privileges: table.privileges,
              problems: table.problems,
            },
            () => {
              const width = Math.max(
                ...[...table.rows, ...table.privileges].map((row) => `${row.contract} ${row.role}`.length),
              );
              const line = (row: (typeof table.rows)[number]) =>
                `  ${`${row.contract} ${row.role}`.padEnd(width)}  ${row.holder.padEnd(30)} ${row.address}${row.planned ? "" : "  NOT IN THE PLAN"}`;
              return [
                `network: ${chain.network} (chain id ${chain.chainId})`,
                "duties:",
                ...[...duties].map(([name, address]) => `  ${name.padEnd(14)} ${address}`),
                "roles:",
                ...table.rows.map(line),
                "minters, issuers, bank agents, treasury:",
                ...table.privileges.map(line),
                table.problems.length === 0
                  ? "check: every role, minter, issuer, bank agent and treasury has its planned holder, and no other; the deployer holds none"
                  : `check: ${table.problems.length} problem(s)`,
              ].join("\n");
            },
          );
        if (table.problems.length > 0) {
          throw new RoleCheckError(
            "ROLES_MISMATCH",
            `the roles on chain depart from the plan: ${table.problems.map((problem) => problem.message).join("; ")}`,
            {
              problems: table.problems,
              roles: table.rows,
              privileges: table.privileges,
              duties: Object.fromEntries(duties),
            },
          );
        }
      });
    });

  addBillsCommands(program);
  addCardsCommands(program);
  addIso8583Commands(program);
  addOfflineCommands(program);
  addInteropCommands(program);
  addCertificatesCommands(program);
  addRewardsCommands(program);
  addKeysCommands(program);
  addCheckoutCommands(program);
  addDemoCommand(program);
  return program;
}

/**
 * `bank-chain demo [--stack <file>] [--start]`: the story across every part on a running stack (src/demo/),
 * loaded only when it runs. Prints the report (`--json`: one line); exits 1 when a step or a ledger failed.
 */
function addDemoCommand(program: Program): void {
  program
    .command("demo")
    .description(
      "tell one story across every part on a running `npm start` stack and print a report with every transaction hash",
    )
    .option("--stack <file>", "the stack's stack.json (default: the devnet's, <data dir>/localhost/stack.json)")
    .option(
      "--start",
      "run a stack of the demo's own (temporary folder, ports picked by the OS) and stop it after",
      false,
    )
    .action(async (options, command) => {
      const globals = command.optsWithGlobals();
      const [{ runDemo }, { formatReport }, { DemoError }] = await Promise.all([
        import("./demo/run.js"),
        import("./demo/report.js"),
        import("./demo/context.js"),
      ]);
      const report = await runDemo({
        stack: options.stack,
        start: options.start,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (!globals.json) process.stdout.write(`${formatReport(report)}\n`);
      if (!report.ok) {
        const failed = report.steps.filter((step) => !step.ok).map((step) => `${step.step} ${step.name}`);
        throw new DemoError(
          "DEMO_FAILED",
          `the demo failed: ${failed.length === 0 ? "every step held, but the books at the end did not (see the lines under `ledgers:`)" : `step(s) ${failed.join(", ")}`}`,
          { report },
        );
      }
      if (globals.json) output(globals, { ...report }, () => "");
    });
}

/** Whether `error` is a failed import of generated code (a checkout where nothing was built yet). */
function isMissingBuild(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" &&
    /typechain-types|[/\\]generated[/\\]|[/\\]artifacts[/\\]/.test(messageOf(error))
  );
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const wantsJson = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return caught.exitCode;
    }
    const error = isMissingBuild(caught)
      ? new BuildMissingError(
          "BUILD_MISSING",
          'this command needs the contracts\' build, which is missing: run "npm run build" first',
          {},
          { cause: caught },
        )
      : caught;
    if (wantsJson) {
      const body = error instanceof BankChainError ? error.toJSON() : { name: "Error", message: messageOf(error) };
      process.stdout.write(`${JSON.stringify({ ok: false, error: body }, jsonReplacer)}\n`);
    } else {
      process.stderr.write(`bank-chain: ${messageOf(error)}\n`);
      if (process.env.BANK_CHAIN_DEBUG === "1" && caught instanceof Error) process.stderr.write(`${caught.stack}\n`);
    }
    return 1;
  }
}
